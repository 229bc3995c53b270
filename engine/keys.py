"""Partition keys: which entity an event is about, so its events stay in order.

Every topic from ``events.<mode>`` on is keyed by this, so all reports of one
vessel land on one partition in the order they were produced, and the scoring
stage's per-vessel state sees them in that order on every run. Producers of
``raw.vessel`` should likewise key by MMSI (or by receiving station) where they can.
"""

from __future__ import annotations

from engine.normalise.travellers import flight_key
from schemas import Event


def entity_key(event: Event) -> str:
    """The vessel for AIS reports; the flight for passengers (so a traveller's booking and
    API data meet in one partition: engine/enrich/join.py); the consignment itself for
    declarations (for now)."""
    if event.mode == "vessel":
        return f"mmsi:{event.mmsi}"
    if event.mode == "passenger":
        return f"flight:{flight_key(event.flight)}"
    return event.event_id
