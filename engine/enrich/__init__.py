"""Enrich: typed events in, events with reference facts out."""

from engine.enrich.reference import ReferenceData
from engine.enrich.stage import enrich_batch, parse_events

__all__ = ["ReferenceData", "enrich_batch", "parse_events"]
