"""Which alert first: severity weighted by how soon the traveller, the goods or the ship
arrives.

An officer can act on an alert only before the arrival it is about; an alert for a
flight landing in 40 minutes must come before one for a container due in three days,
whatever their severities' order. So:

    priority = 100 × weight(severity) × urgency(hours from the alert to the arrival)

with weights high 1.0, medium 0.6, low 0.3 (once the champion yield model has learned
enough, the weight is the mean of the severity's and its chance of a find), and
urgency 1 up to an hour before arrival, then
``URGENCY_HALF_LIFE_H / (URGENCY_HALF_LIFE_H + hours - 1)``: one half six hours later,
about 0.08 three days out. An arrival already past counts as now (the person or goods
may still be in the hall); an unknown one (a position report, a link alert)
gets ``UNKNOWN_URGENCY``. The time is the alert's own (when its event was received),
not the clock's, so a replay gives the same priorities.
"""

from __future__ import annotations

from datetime import datetime

from schemas import Event, FreightEvent, PassengerEvent

WEIGHTS = {"high": 1.0, "medium": 0.6, "low": 0.3}
URGENCY_HALF_LIFE_H = 6.0
UNKNOWN_URGENCY = 0.25


def arrival_of(event: Event) -> datetime | None:
    """When the event's subject arrives: the flight's scheduled arrival, the goods'
    expected arrival, a ship's reported ETA; None when the event does not say."""
    if isinstance(event, PassengerEvent):
        return event.flight.scheduled_arrival
    if isinstance(event, FreightEvent):
        return event.expected_arrival.at
    return event.eta


def urgency(arrives_at: datetime | None, at: datetime) -> float:
    """How pressing an arrival is, seen from ``at`` (0-1)."""
    if arrives_at is None:
        return UNKNOWN_URGENCY
    hours = max(0.0, (arrives_at - at).total_seconds() / 3600)
    if hours <= 1:
        return 1.0
    return URGENCY_HALF_LIFE_H / (URGENCY_HALF_LIFE_H + hours - 1)


def priority(
    severity: str, arrives_at: datetime | None, at: datetime, yield_estimate: float | None = None
) -> float:
    """The alert's priority, 0-100 (higher first). Once the yield model is trusted, its
    chance of a find counts as much as the severity."""
    weight = WEIGHTS.get(severity, 0.3)
    if yield_estimate is not None:
        weight = (weight + yield_estimate) / 2
    return round(100 * weight * urgency(arrives_at, at), 2)
