"""Vessel track state: the last few fixes of each vessel, kept so movement rules can judge.

The state is built to make at-least-once delivery harmless. Applying a report is
idempotent (keyed by event id), and an event's features come from the latest fix
*before* it in time, not from "whatever was last applied". So a report seen twice,
after a crash or a rebalance, is judged exactly as it was the first time.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from pydantic import Field

from schemas import Record, TrackFeatures, TrackFix, VesselEvent

_EARTH_RADIUS_NM = 3440.065


class TrackState(Record):
    """Recent fixes of one vessel, oldest first, one per event id."""

    fixes: tuple[TrackFix, ...] = Field(default=())


def haversine_nm(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in nautical miles."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_NM * math.asin(min(1.0, math.sqrt(a)))


def _before(fixes: Iterable[TrackFix], event: VesselEvent) -> list[TrackFix]:
    return [f for f in fixes if f.observed_at < event.observed_at and f.event_id != event.event_id]


def track_features(event: VesselEvent, state: TrackState | None) -> TrackFeatures:
    """Gap since the previous report, and the speed implied by the move from the last fix."""
    earlier = _before(state.fixes, event) if state else []
    if not earlier:
        return TrackFeatures()
    previous = earlier[-1]
    gap = (event.observed_at - previous.observed_at).total_seconds()
    implied: float | None = None
    positioned = [f for f in earlier if f.position is not None]
    if event.position is not None and positioned:
        last = positioned[-1]
        assert last.position is not None
        hours = (event.observed_at - last.observed_at).total_seconds() / 3600
        if hours > 0:
            dist = haversine_nm(last.position.lat, last.position.lon, event.position.lat, event.position.lon)
            implied = round(dist / hours, 3)
    return TrackFeatures(previous=previous, seconds_since_previous=gap, implied_speed_knots=implied)


def apply_report(state: TrackState | None, event: VesselEvent, keep: int) -> TrackState:
    """The state after taking a report in: idempotent, ordered by time, at most ``keep`` fixes."""
    fixes = list(state.fixes) if state else []
    if any(f.event_id == event.event_id for f in fixes):
        return state if state is not None else TrackState()
    fixes.append(TrackFix(event_id=event.event_id, observed_at=event.observed_at, position=event.position))
    fixes.sort(key=lambda f: (f.observed_at, f.event_id))
    return TrackState(fixes=tuple(fixes[-keep:]))
