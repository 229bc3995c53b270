"""Even-handed targeting: how often each protected group is alerted on, examined and found
carrying something, compared with everyone who travelled.

For auditors, in plain words. Travellers are counted per day of arrival into groups by
nationality, sex and age band (``groups_of``; the ``traffic`` table). For a period, and
for each group:

- **alert rate** = alerts on the group / travellers of the group. Its **ratio** is the
  group's alert rate over the alert rate of all travellers: 1.0 means the group is
  alerted on as often as anyone; 2.0 twice as often. It equals the group's share of
  alerts over its share of traffic (a group that is 10% of travellers and 20% of alerts
  has a ratio of 2.0).
- **intervention rate** = alerts acted on (any outcome but "not examined") / alerts:
  whether officers act on the group's alerts more or less often than on others'.
- **yield** = interventions that found something (a seizure or an arrest) /
  interventions. A group with a high alert ratio but a low yield ratio is stopped more
  often and found carrying less often: the usual sign of over-targeting.

The same figures are given for all alerts and for the alerts of each rule, typology and
model (a rule can be uneven while the whole is not). A ratio outside the configured band
(0.8 to 1.25 by default, after the "four-fifths" rule of thumb) is flagged.

Limits: small numbers swing widely, so a group is only judged when there is enough of
it: on alert rate, when it had at least ``min_traffic`` travellers and at least
``min_alerts`` alerts, seen or expected at the rate of all traffic; on intervention rate
and yield, when it had at least ``min_alerts`` alerts or interventions. An unjudged ratio
is shown but not flagged. A ratio compares a group with everyone; it does not say why
they differ: routes, travel patterns and base rates differ between groups, so a flag is
a question for people to look into, not a verdict. Rules and models never read these
characteristics; they are kept for this oversight only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from engine.metrics import FAIRNESS_DISPARITIES, FAIRNESS_RATIO
from engine.ops.store import AlertRow, OutcomeRow, Store, TrafficRow
from schemas.passenger import PassengerEvent

#: The protected characteristics groups are formed on.
DIMENSIONS: tuple[str, ...] = ("nationality", "sex", "age_band")
#: The rates compared: alert (per traveller), intervention (per alert), yield (per intervention).
MEASURES: tuple[str, ...] = ("alert", "intervention", "yield")
#: The group of a traveller whose characteristic is not known.
UNKNOWN = "unknown"
#: Age bands, youngest first.
AGE_BANDS: tuple[str, ...] = ("<18", "18-29", "30-44", "45-59", "60+")
#: Outcomes that found something.
FINDS = ("seizure", "arrest")


def age_band(birth: date | None, on: date) -> str:
    """The age band of someone born on ``birth``, on the day ``on``.

    >>> age_band(date(1990, 6, 2), date(2026, 6, 1)), age_band(date(1990, 6, 1), date(2026, 6, 1))
    ('30-44', '30-44')
    >>> age_band(date(2008, 6, 2), date(2026, 6, 1)), age_band(None, date(2026, 6, 1))
    ('<18', 'unknown')
    """
    if birth is None or birth > on:
        return UNKNOWN
    age = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    for limit, band in zip((18, 30, 45, 60), AGE_BANDS, strict=False):
        if age < limit:
            return band
    return AGE_BANDS[-1]


def groups_of(event: PassengerEvent) -> dict[str, str]:
    """The traveller's group in each dimension ("unknown" when not given): nationality
    (ISO alpha-3), sex (as on the document: F, M, X or U) and age band on the day of arrival."""
    t = event.traveller
    return {
        "nationality": t.nationality or UNKNOWN,
        "sex": t.sex or UNKNOWN,
        "age_band": age_band(t.date_of_birth, event.flight.scheduled_arrival.date()),
    }


@dataclass(frozen=True)
class GroupFigures:
    """One group's counts, rates and ratios in one scope ("all", "rule:ID", "typology:ID", "model:ID")."""

    scope: str
    dimension: str
    group: str
    traffic: int
    alerts: int
    interventions: int
    finds: int
    traffic_share: float | None
    alert_share: float | None
    rates: dict[str, float | None]
    ratios: dict[str, float | None]
    judged: dict[str, bool]
    flagged: tuple[str, ...] = ()

    def describe(self, measure: str) -> str:
        """A measure of this group in plain words, for a page or an alert to supervisors."""
        ratio = self.ratios.get(measure)
        if ratio is None:
            return f"{self.dimension} {self.group}: no {measure} rate to compare"
        counts = {
            "alert": f"{self.alerts} alerts in {self.traffic} travellers",
            "intervention": f"{self.interventions} interventions on {self.alerts} alerts",
            "yield": f"{self.finds} finds in {self.interventions} interventions",
        }[measure]
        judged = "" if self.judged.get(measure) else " (too few to judge)"
        return f"{self.dimension} {self.group}: {measure} rate {ratio:.2f}x that of all ({counts}){judged}"


@dataclass(frozen=True)
class FairnessReport:
    """The figures of a period, per scope, dimension and group; ``flagged`` the disparities."""

    since: datetime
    until: datetime
    band: tuple[float, float]
    min_traffic: int
    min_alerts: int
    scopes: tuple[str, ...]
    rows: tuple[GroupFigures, ...] = field(default=())

    def flagged(self) -> list[GroupFigures]:
        """The rows with a judged ratio outside the band."""
        return [r for r in self.rows if r.flagged]

    def scope(self, name: str) -> list[GroupFigures]:
        """The rows of one scope."""
        return [r for r in self.rows if r.scope == name]


def _days(since: datetime, until: datetime) -> tuple[date, date]:
    """The UTC days a period covers; a period ending at midnight leaves that day out."""
    end = until.astimezone(UTC)
    last = end.date() - timedelta(days=1) if end.time() == time(0) else end.date()
    return since.astimezone(UTC).date(), last


def _wanted(name: str, scope: Mapping[str, str] | None) -> bool:
    kind, _, ident = name.partition(":")
    return name == "all" or scope is None or scope.get(kind) == ident


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def last_days(store: Store, days: int) -> tuple[datetime, datetime]:
    """The period of the last ``days`` days of traffic: up to the latest day of arrival
    counted (travellers arriving tomorrow are alerted on today), or to today when no
    traffic is counted yet, or when it is all in the past (a replay of old files)."""
    with store.session() as s:
        latest = s.scalar(select(func.max(TrafficRow.day)).where(TrafficRow.mode == "passenger"))
    last = latest or datetime.now(UTC).date()
    until = datetime.combine(last + timedelta(days=1), time(0), UTC)
    return until - timedelta(days=days), until


def fairness_report(
    store: Store,
    since: datetime,
    until: datetime,
    band: tuple[float, float] = (0.8, 1.25),
    min_traffic: int = 50,
    min_alerts: int = 10,
    scope: Mapping[str, str] | None = None,
) -> FairnessReport:
    """Alert, intervention and yield rates of every protected group of passengers over a
    period, against all passengers, for all alerts and per rule, typology and model.

    The period is taken in whole UTC days, since traffic is counted per day of arrival;
    an alert counts on its day of arrival too (on the day it was raised when it has none).
    ``scope`` narrows the scopes reported besides "all", e.g. ``{"rule": "passenger_x"}``
    (keys rule, typology, model). See the module's docstring for what the ratios mean.
    """
    first, last = _days(since, until)
    start = datetime.combine(first, time(0), UTC)
    stop = datetime.combine(last + timedelta(days=1), time(0), UTC)
    when = func.coalesce(AlertRow.arrives_at, AlertRow.raised_at)
    with store.session() as s:
        traffic_rows = s.execute(
            select(TrafficRow.dimension, TrafficRow.group, func.sum(TrafficRow.count))
            .where(TrafficRow.mode == "passenger", TrafficRow.day >= first, TrafficRow.day <= last)
            .group_by(TrafficRow.dimension, TrafficRow.group)
        ).all()
        alert_rows = s.execute(
            select(AlertRow.typology, AlertRow.rules, AlertRow.models, AlertRow.nationality, AlertRow.sex,
                   AlertRow.age_band, OutcomeRow.result)
            .outerjoin(OutcomeRow, OutcomeRow.alert_id == AlertRow.alert_id)
            .where(AlertRow.mode == "passenger", when >= start, when < stop)
        ).all()
    traffic: dict[tuple[str, str], int] = {(d, g): int(n or 0) for d, g, n in traffic_rows}
    counts: dict[tuple[str, str, str], list[int]] = {}
    scopes: dict[str, None] = {"all": None}
    for typology, rules, models, nationality, sex, band_of_age, result in alert_rows:
        names = ["all", *(f"rule:{r}" for r in rules or ()), *(f"model:{m}" for m in models or ())]
        if typology:
            names.append(f"typology:{typology}")
        names = [n for n in names if _wanted(n, scope)]
        acted = result is not None and result != "not_examined"
        found = result in FINDS
        for name in names:
            scopes.setdefault(name, None)
            for dimension, group in zip(DIMENSIONS, (nationality, sex, band_of_age), strict=True):
                c = counts.setdefault((name, dimension, group or UNKNOWN), [0, 0, 0])
                c[0] += 1
                c[1] += acted
                c[2] += found
    rows: list[GroupFigures] = []
    ordered = ["all", *sorted(n for n in scopes if n != "all")]
    for name in ordered:
        for dimension in DIMENSIONS:
            groups = sorted({g for d, g in traffic if d == dimension}
                            | {g for n, d, g in counts if n == name and d == dimension})
            rows += _dimension_rows(name, dimension, groups, traffic, counts, band, min_traffic, min_alerts)
    return FairnessReport(since=since, until=until, band=band, min_traffic=min_traffic, min_alerts=min_alerts,
                          scopes=tuple(ordered), rows=tuple(rows))


def _dimension_rows(
    name: str, dimension: str, groups: list[str], traffic: Mapping[tuple[str, str], int],
    counts: Mapping[tuple[str, str, str], list[int]], band: tuple[float, float], min_traffic: int,
    min_alerts: int,
) -> list[GroupFigures]:
    """The figures of every group of one dimension in one scope, each against the total."""
    per = {g: (traffic.get((dimension, g), 0), *counts.get((name, dimension, g), (0, 0, 0))) for g in groups}
    total_t, total_a, total_i, total_f = (sum(v[k] for v in per.values()) for k in range(4))
    overall = {"alert": _rate(total_a, total_t), "intervention": _rate(total_i, total_a),
               "yield": _rate(total_f, total_i)}
    low, high = band
    rows = []
    for g in groups:
        t, a, i, f = per[g]
        rates = {"alert": _rate(a, t), "intervention": _rate(i, a), "yield": _rate(f, i)}
        ratios: dict[str, float | None] = {}
        for m in MEASURES:
            mine, everyone = rates[m], overall[m]
            ratios[m] = mine / everyone if mine is not None and everyone else None
        expected = t * (overall["alert"] or 0.0)
        judged = {
            "alert": t >= min_traffic and max(a, expected) >= min_alerts,
            "intervention": a >= min_alerts,
            "yield": i >= min_alerts,
        }
        flagged = tuple(m for m in MEASURES
                        if judged[m] and (r := ratios[m]) is not None and not low <= r <= high)
        rows.append(GroupFigures(
            scope=name, dimension=dimension, group=g, traffic=t, alerts=a, interventions=i, finds=f,
            traffic_share=_rate(t, total_t), alert_share=_rate(a, total_a), rates=rates, ratios=ratios,
            judged=judged, flagged=flagged,
        ))
    return rows


def export_fairness_metrics(report: FairnessReport) -> None:
    """Set the fairness gauges: each judged ratio of scope "all" (rules and models stay on the
    page, to keep the metric's labels few) and the number of disparities per measure, over
    every scope."""
    FAIRNESS_RATIO.clear()
    for row in report.scope("all"):
        for m in MEASURES:
            ratio = row.ratios[m]
            if row.judged[m] and ratio is not None:
                FAIRNESS_RATIO.labels(measure=m, dimension=row.dimension, group=row.group).set(ratio)
    for m in MEASURES:
        FAIRNESS_DISPARITIES.labels(measure=m).set(sum(m in r.flagged for r in report.rows))

