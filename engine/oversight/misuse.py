"""Misuse signals for supervisors, read from the audit log alone.

Three kinds, each pointing at the audit records (by seq) that show it:

- ``reveal_without_assignment``: a user saw personal data on a case not assigned to them
  (a supervisor's or auditor's ``reveal_unassigned``), or tried to and was refused (a
  ``reveal`` with ``allowed=False``).
- ``unusual_volume``: a user's reveals, searches and exports, counted over any rolling
  hour, went above the configured number.
- ``outside_shift``: a reveal, search or export outside the working hours (UTC). A shift
  may wrap midnight: (22, 6) is a night shift; (h, h) is round the clock.

A signal is a reason for a supervisor to ask, not a finding of misuse: an incident can
justify a night's work or a burst of searches. Signals name users by id only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from engine.metrics import MISUSE_SIGNALS
from engine.ops.store import utcnow
from schemas.audit import AuditRecord

#: The kinds of signal, in the order a page lists them.
KINDS: tuple[str, ...] = ("reveal_without_assignment", "unusual_volume", "outside_shift")
#: The actions that touch personal data, watched for volume and working hours.
ACCESS: frozenset[str] = frozenset({"reveal", "reveal_unassigned", "search", "export"})
_REVEALS = frozenset({"reveal", "reveal_unassigned"})


@dataclass(frozen=True)
class Signal:
    """One thing for a supervisor to look at: what, who (a user id), from when, how many
    records, which audit records (seqs) show it, and a sentence saying so."""

    kind: str
    actor: str
    at: datetime
    count: int
    seqs: tuple[int, ...]
    text: str


def in_shift(at: datetime, shift_hours: tuple[int, int]) -> bool:
    """True when ``at`` falls inside the working hours (UTC, start inclusive, end exclusive).

    >>> night, day = datetime(2026, 6, 1, 23, 30, tzinfo=UTC), datetime(2026, 6, 1, 12, tzinfo=UTC)
    >>> in_shift(night, (22, 6)), in_shift(day, (22, 6)), in_shift(day, (6, 22))
    (True, False, True)
    """
    start, end = shift_hours
    t = at.astimezone(UTC)
    hour = t.hour + t.minute / 60 + t.second / 3600
    if start == end:
        return True
    return start <= hour < end if start < end else hour >= start or hour < end


def _by_actor(records: Iterable[AuditRecord]) -> dict[str, list[AuditRecord]]:
    found: dict[str, list[AuditRecord]] = {}
    for r in sorted(records, key=lambda r: (r.at, r.seq)):
        found.setdefault(r.actor, []).append(r)
    return found


def _times(n: int, what: str) -> str:
    """'1 search', '3 searches', '2 reveals'."""
    return f"{n} {what}" if n == 1 else f"{n} {what}{'es' if what.endswith(('ch', 'sh', 's')) else 's'}"


def _when(at: datetime) -> str:
    return f"{at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _unassigned(actor: str, records: list[AuditRecord]) -> Signal | None:
    seen = [r for r in records if r.action == "reveal_unassigned" and r.allowed]
    refused = [r for r in records if r.action in _REVEALS and not r.allowed]
    if not seen and not refused:
        return None
    parts = []
    if seen:
        parts.append(f"saw personal data {_times(len(seen), 'time')} on cases not assigned to them")
    if refused:
        parts.append(f"was refused {_times(len(refused), 'reveal')}")
    shown = sorted([*seen, *refused], key=lambda r: (r.at, r.seq))
    return Signal("reveal_without_assignment", actor, shown[0].at, len(shown), tuple(r.seq for r in shown),
                  f"user {actor} {' and '.join(parts)}, first at {_when(shown[0].at)}")


def _bursts(actor: str, records: list[AuditRecord], per_hour: int) -> list[Signal]:
    """Stretches where some rolling hour held more than ``per_hour`` accesses; overlapping
    busy hours make one stretch."""
    access = [r for r in records if r.action in ACCESS]
    spans: list[list[int]] = []  # [first index, last index, peak]
    first = 0
    for last, r in enumerate(access):
        while r.at - access[first].at >= timedelta(hours=1):
            first += 1
        inside = last - first + 1
        if inside <= per_hour:
            continue
        if spans and first <= spans[-1][1]:
            spans[-1][1], spans[-1][2] = last, max(spans[-1][2], inside)
        else:
            spans.append([first, last, inside])
    signals = []
    for a, b, peak in spans:
        burst = access[a:b + 1]
        kinds = Counter(r.action.replace("reveal_unassigned", "reveal") for r in burst)
        made = ", ".join(_times(n, action) for action, n in sorted(kinds.items()))
        signals.append(Signal(
            "unusual_volume", actor, burst[0].at, len(burst), tuple(r.seq for r in burst),
            f"user {actor} made {made} between {_when(burst[0].at)} and {burst[-1].at.astimezone(UTC):%H:%M} "
            f"({peak} in one hour at the most; more than {per_hour} is unusual)"))
    return signals


def _off_shift(actor: str, records: list[AuditRecord], shift_hours: tuple[int, int]) -> Signal | None:
    outside = [r for r in records if r.action in ACCESS and not in_shift(r.at, shift_hours)]
    if not outside:
        return None
    start, end = shift_hours
    return Signal(
        "outside_shift", actor, outside[0].at, len(outside), tuple(r.seq for r in outside),
        f"user {actor} reached personal data {_times(len(outside), 'time')} outside working hours "
        f"({start:02d}:00-{end:02d}:00 UTC), first at {_when(outside[0].at)}")


def misuse_signals(
    records: Sequence[AuditRecord],
    shift_hours: tuple[int, int] = (6, 22),
    per_hour: int = 20,
    now: datetime | None = None,
    window: timedelta = timedelta(days=7),
) -> list[Signal]:
    """The signals in the audit records of the ``window`` before ``now``, oldest first."""
    now = now or utcnow()
    recent = [r for r in records if now - window <= r.at <= now]
    signals: list[Signal] = []
    for actor, mine in _by_actor(recent).items():
        signals += [s for s in (_unassigned(actor, mine), _off_shift(actor, mine, shift_hours)) if s]
        signals += _bursts(actor, mine, per_hour)
    return sorted(signals, key=lambda s: (s.at, KINDS.index(s.kind), s.actor))


def export_misuse_metrics(signals: Sequence[Signal]) -> None:
    """Set the open-signal gauge of every kind (0 for kinds with none)."""
    counts = Counter(s.kind for s in signals)
    for kind in KINDS:
        MISUSE_SIGNALS.labels(kind=kind).set(counts[kind])
