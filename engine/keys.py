"""Partition keys: which entity an event is about, so its events stay in order.

Every topic from ``events.<mode>`` on is keyed by this, so all reports of one
vessel land on one partition in the order they were produced, and the scoring
stage's per-vessel state sees them in that order on every run. Producers of
``raw.vessel`` should likewise key by MMSI (or by receiving station) where they can.
"""

from __future__ import annotations

from schemas import Event


def entity_key(event: Event) -> str:
    """The vessel for AIS reports; the event itself for passengers and consignments (for now)."""
    if event.mode == "vessel":
        return f"mmsi:{event.mmsi}"
    return event.event_id
