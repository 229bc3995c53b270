"""Normalise: raw feed messages in, typed events (or dead letters) out."""

from engine.normalise.stage import normalise_batch

__all__ = ["normalise_batch"]
