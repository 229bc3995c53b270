"""Misuse signals from synthetic audit records: reveals without an assignment, unusual volumes,
access outside working hours (also across midnight), and the gauge per kind."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import count

from engine.metrics import MISUSE_SIGNALS
from engine.oversight.audit import GENESIS
from engine.oversight.misuse import KINDS, Signal, export_misuse_metrics, misuse_signals
from schemas.audit import AuditRecord

NOON = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
NOW = NOON + timedelta(days=1)
_seq = count()


def rec(actor: str, action: str, at: datetime, allowed: bool = True,
        ids: Sequence[str] = ("alert-1", "case-1")) -> AuditRecord:
    """One audit record (the hash does not matter to misuse signals)."""
    return AuditRecord(seq=next(_seq), at=at, actor=actor, role="officer", action=action, allowed=allowed,
                       record_ids=tuple(ids), purpose="checking", prev_hash=GENESIS, hash=GENESIS)


def kinds(signals: Sequence[Signal]) -> list[tuple[str, str]]:
    return [(s.kind, s.actor) for s in signals]


def test_ordinary_work_raises_nothing() -> None:
    """A day shift's few reveals and searches on assigned cases give no signal."""
    actions = ["reveal", "search"] * 5
    records = [rec("u-1", a, NOON + timedelta(minutes=10 * i)) for i, a in enumerate(actions)]
    assert misuse_signals(records, (6, 22), 20, NOW) == []


def test_reveals_without_an_assignment_are_signalled_with_their_records() -> None:
    """An unassigned reveal and a refused reveal both count, with the seqs that show them."""
    seen = rec("u-2", "reveal_unassigned", NOON)
    refused = rec("u-2", "reveal", NOON + timedelta(minutes=5), allowed=False)
    other = rec("u-3", "reveal", NOON)
    [signal] = misuse_signals([seen, refused, other], (6, 22), 20, NOW)
    assert (signal.kind, signal.actor, signal.count, signal.seqs) == (
        "reveal_without_assignment", "u-2", 2, (seen.seq, refused.seq))
    assert signal.text.startswith("user u-2 saw personal data 1 time on cases not assigned to them and was "
                                  "refused 1 reveal")


def test_a_burst_over_the_hourly_limit_is_one_signal() -> None:
    """More than per_hour accesses within a rolling hour make one signal covering the burst."""
    burst = [rec("u-4", "search" if i % 3 else "export", NOON + timedelta(minutes=2 * i)) for i in range(25)]
    spaced = [rec("u-5", "search", NOON + timedelta(minutes=4 * i)) for i in range(25)]  # 15 an hour at most
    [signal] = misuse_signals([*burst, *spaced], (6, 22), 20, NOW)
    assert (signal.kind, signal.actor) == ("unusual_volume", "u-4")
    assert signal.count == 25 and signal.seqs == tuple(r.seq for r in burst)
    assert "made 9 exports, 16 searches between 2026-06-01 12:00 UTC and 12:48" in signal.text


def test_bursts_apart_in_time_are_separate_signals() -> None:
    """Two busy hours far apart give two volume signals, each with its own records."""
    first = [rec("u-6", "reveal", NOON + timedelta(seconds=30 * i)) for i in range(6)]
    second = [rec("u-6", "reveal", NOON + timedelta(hours=5, seconds=30 * i)) for i in range(6)]
    signals = misuse_signals([*first, *second], (6, 22), 5, NOW)
    assert [(s.kind, s.count) for s in signals] == [("unusual_volume", 6), ("unusual_volume", 6)]
    assert signals[1].seqs == tuple(r.seq for r in second)


def test_access_outside_the_shift_is_signalled() -> None:
    """Reveals and searches outside 06:00-22:00 UTC are signalled; logins at night are not."""
    late = rec("u-7", "search", NOON.replace(hour=23, minute=15))
    early = rec("u-7", "reveal", NOON.replace(hour=5, minute=59))
    login = rec("u-8", "login", NOON.replace(hour=2))
    [signal] = misuse_signals([late, early, login, rec("u-7", "reveal", NOON)], (6, 22), 20, NOW)
    assert (signal.kind, signal.count, signal.seqs) == ("outside_shift", 2, (early.seq, late.seq))
    assert "outside working hours (06:00-22:00 UTC)" in signal.text


def test_a_night_shift_wraps_midnight() -> None:
    """With a 22:00-06:00 shift, work at 23:00 and 03:00 is in hours and work at noon is not."""
    night = [rec("u-9", "reveal", NOON.replace(hour=23)), rec("u-9", "reveal", NOW.replace(hour=3))]
    noon = rec("u-9", "search", NOON)
    assert kinds(misuse_signals(night, (22, 6), 20, NOW)) == []
    [signal] = misuse_signals([*night, noon], (22, 6), 20, NOW)
    assert (signal.kind, signal.seqs) == ("outside_shift", (noon.seq,))


def test_only_the_window_before_now_counts() -> None:
    """Records older than the window, or after now, are left out."""
    old = rec("u-10", "reveal_unassigned", NOW - timedelta(days=8))
    assert misuse_signals([old], (6, 22), 20, NOW) == []
    assert kinds(misuse_signals([old], (6, 22), 20, NOW, window=timedelta(days=9))) == [
        ("reveal_without_assignment", "u-10")]


def test_the_gauge_counts_signals_per_kind_and_zero_for_the_rest() -> None:
    """Every kind gets a value: the number of its signals, 0 when there are none."""
    records = [rec("u-11", "reveal_unassigned", NOON), rec("u-12", "reveal", NOON, allowed=False)]
    signals = misuse_signals(records, (6, 22), 20, NOW)
    export_misuse_metrics(signals)
    assert {k: MISUSE_SIGNALS.labels(kind=k)._value.get() for k in KINDS} == {
        "reveal_without_assignment": 2, "unusual_volume": 0, "outside_shift": 0}
