"""Vessel track state: the last few fixes of each vessel, kept so movement rules can judge.

The state is built to make at-least-once delivery harmless. Applying a report is
idempotent (keyed by event id), and an event's features come from the latest fix
*before* it in time, not from "whatever was last applied". The features a report
was first judged on are kept with its fix, so a report seen again after a crash or
a rebalance is judged on exactly those, even when later reports have pushed its
predecessor out of the history (the chaos test found that case: a whole batch of
one vessel's reports, redelivered after its state was saved).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from pydantic import Field

from schemas import Record, TrackFeatures, TrackFix, VesselEvent

_EARTH_RADIUS_NM = 3440.065


class TrackState(Record):
    """Recent fixes of one vessel, oldest first, one per event id, with what each was judged on."""

    fixes: tuple[TrackFix, ...] = Field(default=())
    judged: dict[str, TrackFeatures] = Field(
        default_factory=dict, description="Features each held fix was first judged on, by event id."
    )
    imo: str | None = Field(
        default=None, description="The IMO number the vessel last gave (voyage reports carry it)."
    )


def haversine_nm(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in nautical miles."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_NM * math.asin(min(1.0, math.sqrt(a)))


def _before(fixes: Iterable[TrackFix], event: VesselEvent) -> list[TrackFix]:
    return [f for f in fixes if f.observed_at < event.observed_at and f.event_id != event.event_id]


def track_features(event: VesselEvent, state: TrackState | None) -> TrackFeatures:
    """Gap since the previous report, and the speed implied by the move from the last fix.

    A report already in the state gets the features it was first judged on.
    """
    if state is not None and event.event_id in state.judged:
        return state.judged[event.event_id]
    imo = event.imo or (state.imo if state else None)
    earlier = _before(state.fixes, event) if state else []
    if not earlier:
        return TrackFeatures(imo=imo)
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
    return TrackFeatures(previous=previous, seconds_since_previous=gap, implied_speed_knots=implied, imo=imo)


def apply_report(
    state: TrackState | None, event: VesselEvent, keep: int, features: TrackFeatures | None = None
) -> TrackState:
    """The state after taking a report in: idempotent, ordered by time, at most ``keep`` fixes.

    ``features`` are what the report was judged on, kept with its fix.
    """
    if state is not None and event.event_id in state.judged:
        return state
    fixes = list(state.fixes) if state else []
    judged = dict(state.judged) if state else {}
    if not any(f.event_id == event.event_id for f in fixes):
        fixes.append(
            TrackFix(event_id=event.event_id, observed_at=event.observed_at, position=event.position)
        )
        fixes.sort(key=lambda f: (f.observed_at, f.event_id))
    judged[event.event_id] = features if features is not None else track_features(event, state)
    return _trimmed(fixes, judged, keep, event.imo or (state.imo if state else None))


def merge_states(older: TrackState | None, newer: TrackState, keep: int) -> TrackState:
    """Union of two saved states of one vessel: a stale write cannot take fixes away.

    Two workers can both write a vessel's state for a moment while a partition
    changes hands (the embedded broker cannot fence the old owner); merging
    instead of overwriting keeps every fix either of them saw.
    """
    if older is None:
        return newer
    fixes = {f.event_id: f for f in older.fixes}
    fixes.update({f.event_id: f for f in newer.fixes})
    ordered = sorted(fixes.values(), key=lambda f: (f.observed_at, f.event_id))
    return _trimmed(ordered, {**older.judged, **newer.judged}, keep, newer.imo or older.imo)


def _trimmed(
    fixes: list[TrackFix], judged: dict[str, TrackFeatures], keep: int, imo: str | None
) -> TrackState:
    """The newest ``keep`` of time-ordered fixes, with the features of those kept.

    Built without validation: every part is an already validated record, so
    validating the whole track again on each report would only repeat work.
    """
    kept = fixes[-keep:]
    ids = {f.event_id for f in kept}
    return TrackState.model_construct(
        fixes=tuple(kept), judged={k: v for k, v in judged.items() if k in ids}, imo=imo
    )
