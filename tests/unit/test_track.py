"""Vessel track state: gaps and implied speeds, safe under at-least-once delivery."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest

from engine.score.track import TrackState, apply_report, haversine_nm, track_features
from schemas import VesselEvent
from tests.fixtures.events import DROP, RECEIVED, normalised, vessel_doc

T0 = RECEIVED - timedelta(days=1)


def report(
    minutes: float, lat: float | None = 50.0, lon: float = -1.0, **overrides: object
) -> VesselEvent:
    """A normalised position report ``minutes`` after T0 (no position when lat is None)."""
    when: datetime = T0 + timedelta(minutes=minutes)
    position = DROP if lat is None else {"lat": lat, "lon": lon}
    event = normalised(vessel_doc(when, position=position, **overrides))
    assert isinstance(event, VesselEvent)
    return event


def state_of(*events: VesselEvent, keep: int = 16) -> TrackState | None:
    state: TrackState | None = None
    for event in events:
        state = apply_report(state, event, keep)
    return state


def test_one_degree_of_latitude_is_about_sixty_nautical_miles() -> None:
    """Along a meridian one degree is one sixtieth of a degree per mile: about 60 nm."""
    assert haversine_nm(50.0, -1.0, 51.0, -1.0) == pytest.approx(60.0, rel=2e-3)
    assert haversine_nm(0.0, 0.0, 0.0, 1.0) == pytest.approx(60.0, rel=2e-3)


def test_longitude_degrees_shrink_towards_the_poles() -> None:
    """At 60 degrees north a degree of longitude is about half as long as at the equator."""
    assert haversine_nm(60.0, 10.0, 60.0, 11.0) == pytest.approx(30.0, rel=5e-3)


def test_distance_is_symmetric_and_zero_for_the_same_point() -> None:
    """The distance from A to B is the distance from B to A, and nothing from A to A."""
    assert haversine_nm(50.0, -1.0, 40.0, -20.0) == pytest.approx(
        haversine_nm(40.0, -20.0, 50.0, -1.0)
    )
    assert haversine_nm(12.3, 45.6, 12.3, 45.6) == 0.0


def test_antipodes_are_half_the_earth_apart() -> None:
    """Opposite points are half a great circle (about 10,800 nm) apart, with no domain error."""
    assert haversine_nm(0.0, 0.0, 0.0, 180.0) == pytest.approx(10807.0, rel=1e-3)


def test_first_report_has_no_track_features() -> None:
    """A vessel's first report has no previous fix, gap or implied speed."""
    features = track_features(report(0), None)
    assert features.previous is None
    assert features.seconds_since_previous is None
    assert features.implied_speed_knots is None


def test_gap_and_implied_speed_from_the_previous_fix() -> None:
    """One degree north in two hours is a 7200 s gap at about 30 knots."""
    first, second = report(0, lat=50.0), report(120, lat=51.0)
    features = track_features(second, state_of(first))
    assert features.previous is not None and features.previous.event_id == first.event_id
    assert features.seconds_since_previous == 7200.0
    assert features.implied_speed_knots == pytest.approx(30.0, rel=2e-3)


def test_implied_speed_uses_the_last_fix_with_a_position() -> None:
    """A voyage report without a position sets the gap but not the origin of the implied speed."""
    moved, voyage, now = (
        report(0, lat=50.0),
        report(50, lat=None, report_type="voyage"),
        report(60, lat=51.0),
    )
    features = track_features(now, state_of(moved, voyage))
    assert features.previous is not None and features.previous.event_id == voyage.event_id
    assert features.seconds_since_previous == 600.0
    assert features.implied_speed_knots == pytest.approx(60.0, rel=2e-3)


def test_report_without_position_has_no_implied_speed() -> None:
    """A report with no position has a gap but no implied speed."""
    features = track_features(report(30, lat=None, report_type="voyage"), state_of(report(0)))
    assert features.seconds_since_previous == 1800.0
    assert features.implied_speed_knots is None


def test_apply_report_is_idempotent() -> None:
    """Applying the same report twice gives the same state as applying it once."""
    first, second = report(0), report(10)
    once = state_of(first, second)
    assert apply_report(once, second, keep=16) == once
    assert apply_report(once, first, keep=16) == once
    assert state_of(first, first) == state_of(first)


def test_fixes_do_not_depend_on_arrival_order() -> None:
    """Reports applied in any order give the same fixes, oldest first (what each was judged on
    is what it saw when it first arrived)."""
    events = [report(m, lat=50.0 + m / 100) for m in (0, 10, 20, 30)]
    fixes = set()
    for perm in itertools.permutations(events):
        state = state_of(*perm)
        assert state is not None
        fixes.add(state.fixes)
    assert len(fixes) == 1
    assert [f.event_id for f in next(iter(fixes))] == [e.event_id for e in events]


def test_a_redelivered_report_keeps_its_verdict_after_its_predecessor_is_evicted() -> None:
    """With a short history, a report seen again after later reports pushed its predecessor
    out is judged on the features it was first judged on."""
    from engine.score.track import apply_report

    first, gone_dark = report(0, lat=50.0), report(600, lat=50.1)
    state = apply_report(None, first, keep=3)
    features = track_features(gone_dark, state)
    assert features.seconds_since_previous == 600 * 60
    state = apply_report(state, gone_dark, keep=3, features=features)
    for m in (601, 602):
        later = report(m, lat=50.1)
        state = apply_report(state, later, keep=3, features=track_features(later, state))
    assert first.event_id not in {f.event_id for f in state.fixes}
    assert gone_dark.event_id in state.judged
    assert track_features(gone_dark, state) == features


def test_features_are_the_same_when_later_reports_were_applied_first() -> None:
    """A report redelivered after later reports were applied is judged as the first time."""
    a, b, c, d = (
        report(0, lat=50.0),
        report(60, lat=50.5),
        report(120, lat=51.0),
        report(400, lat=52.0),
    )
    in_order = track_features(b, state_of(a))
    after_redelivery = track_features(b, state_of(a, b, c, d))
    assert after_redelivery == in_order
    assert (
        after_redelivery.previous is not None and after_redelivery.previous.event_id == a.event_id
    )


def test_a_report_is_never_its_own_previous_fix() -> None:
    """A report already in the state is not used as its own previous fix."""
    only = report(0)
    assert track_features(only, state_of(only)).previous is None


def test_history_is_capped_at_keep_newest_fixes() -> None:
    """The state keeps at most `keep` fixes, the newest by observation time."""
    events = [report(m) for m in range(10)]
    state = state_of(*events, keep=4)
    assert state is not None
    assert [f.event_id for f in state.fixes] == [e.event_id for e in events[-4:]]


def test_a_late_old_report_does_not_evict_newer_fixes() -> None:
    """A stale report arriving late when the history is full leaves the newest fixes in place."""
    newer = [report(m) for m in range(10, 14)]
    full = state_of(*newer, keep=4)
    assert apply_report(full, report(0), keep=4) == full


def test_merging_saved_states_keeps_every_fix_either_saw() -> None:
    """A stale state written after a newer one cannot take fixes away when states are merged."""
    from engine.score.track import apply_report, merge_states

    a, b, c = report(0, lat=50.0), report(10, lat=50.1), report(20, lat=50.2)
    newer = apply_report(apply_report(apply_report(None, a, keep=8), b, keep=8), c, keep=8)
    stale = apply_report(None, a, keep=8)
    merged = merge_states(newer, stale, keep=8)
    assert [f.event_id for f in merged.fixes] == [a.event_id, b.event_id, c.event_id]
    assert set(merged.judged) == {a.event_id, b.event_id, c.event_id}
    assert merge_states(None, stale, keep=8) == stale
