"""Fairness figures on a store of hand-built traffic, alerts and outcomes: rates and ratios
worked by hand, over-targeted groups flagged, even and small ones not."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from itertools import count
from pathlib import Path

import pytest

from engine.metrics import FAIRNESS_DISPARITIES, FAIRNESS_RATIO
from engine.ops.store import AlertRow, CaseRow, OutcomeRow, Store, TrafficRow
from engine.oversight.fairness import (
    FairnessReport,
    GroupFigures,
    age_band,
    export_fairness_metrics,
    fairness_report,
    groups_of,
)
from schemas import PassengerEvent
from tests.fixtures.events import normalised, passenger_doc

DAY = date(2026, 6, 1)
SINCE = datetime(2026, 6, 1, tzinfo=UTC)
UNTIL = datetime(2026, 6, 3, tzinfo=UTC)  # two whole days: 1 and 2 June
_ids = count()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A migrated, empty store on each database."""
    s = Store(store_url)
    yield s
    s.close()


def traffic(store: Store, dimension: str, counts: dict[str, int], day: date = DAY) -> None:
    """Travellers per group of one dimension on one day."""
    with store.session() as s:
        for group, n in counts.items():
            s.add(TrafficRow(day=day, mode="passenger", dimension=dimension, group=group, count=n))


def alerts(store: Store, n: int, nationality: str | None, results: Sequence[str | None] = (),
           rules: Sequence[str] = ("r1",), arrives: datetime = SINCE + timedelta(hours=12)) -> None:
    """n passenger alerts on travellers of one nationality; the first ones get these outcomes."""
    with store.session() as s:
        for i in range(n):
            k = next(_ids)
            s.add(CaseRow(case_id=f"case-{k}"))
            s.flush()
            s.add(AlertRow(alert_id=f"alert-{k}", case_id=f"case-{k}", event_id=f"ev-{k}", mode="passenger",
                           severity="low", score=0.6, priority=0.6, typology="t1", raised_at=arrives,
                           arrives_at=arrives, rules=list(rules), models=[], nationality=nationality, sex="F",
                           age_band=None, body={}))
            if i < len(results) and results[i] is not None:
                s.flush()
                s.add(OutcomeRow(alert_id=f"alert-{k}", result=results[i], recorded_at=arrives,
                                 recorded_by="u-1"))


def row(report: FairnessReport, group: str, scope: str = "all", dimension: str = "nationality"
        ) -> GroupFigures:
    return next(r for r in report.scope(scope) if r.dimension == dimension and r.group == group)


def worked_example(store: Store) -> None:
    """3000 travellers, a third of each nationality; 90 alerts, 45 interventions, 20 finds.

    AAA: 40 alerts, 20 interventions (12 seizures, 8 nothing), 5 not examined.
    BBB: 20 alerts, 10 interventions (5 arrests, 5 nothing).
    DDD: 30 alerts, 15 interventions (3 seizures, 12 nothing); its alerts come from rules r1 and r2.
    """
    traffic(store, "nationality", {"AAA": 600, "BBB": 600, "DDD": 600})
    traffic(store, "nationality", {"AAA": 400, "BBB": 400, "DDD": 400}, day=DAY + timedelta(days=1))
    traffic(store, "sex", {"F": 3000})
    traffic(store, "age_band", {"unknown": 3000})
    alerts(store, 40, "AAA", ["seizure"] * 12 + ["nothing_found"] * 8 + ["not_examined"] * 5)
    alerts(store, 20, "BBB", ["arrest"] * 5 + ["nothing_found"] * 5)
    alerts(store, 30, "DDD", ["seizure"] * 3 + ["nothing_found"] * 12, rules=("r1", "r2"))


def test_age_bands_and_groups_of_a_traveller() -> None:
    """Ages are taken on the day of arrival, and missing characteristics make the group 'unknown'."""
    assert [age_band(date(2026 - a, 6, 1), DAY) for a in (17, 18, 29, 30, 44, 45, 59, 60)] == [
        "<18", "18-29", "18-29", "30-44", "30-44", "45-59", "45-59", "60+"]
    assert age_band(date(2027, 1, 1), DAY) == "unknown"
    event = normalised(passenger_doc())
    assert isinstance(event, PassengerEvent)
    assert groups_of(event) == {"nationality": "USA", "sex": "F", "age_band": "45-59"}
    bare = event.model_copy(update={"traveller": event.traveller.model_copy(
        update={"nationality": None, "sex": None, "date_of_birth": None})})
    assert groups_of(bare) == {"nationality": "unknown", "sex": "unknown", "age_band": "unknown"}


def test_rates_and_ratios_match_the_hand_worked_example(store: Store) -> None:
    """Alert, intervention and yield rates and their ratios to all traffic are as worked by hand."""
    worked_example(store)
    report = fairness_report(store, SINCE, UNTIL)
    aaa, bbb, ddd = (row(report, g) for g in ("AAA", "BBB", "DDD"))
    assert (aaa.traffic, aaa.alerts, aaa.interventions, aaa.finds) == (1000, 40, 20, 12)
    assert aaa.rates["alert"] == pytest.approx(0.04) and aaa.ratios["alert"] == pytest.approx(0.04 / 0.03)
    assert bbb.ratios["alert"] == pytest.approx(0.02 / 0.03) and ddd.ratios["alert"] == pytest.approx(1.0)
    assert aaa.traffic_share == pytest.approx(1 / 3) and aaa.alert_share == pytest.approx(40 / 90)
    assert [r.ratios["intervention"] for r in (aaa, bbb, ddd)] == pytest.approx([1.0, 1.0, 1.0])
    overall_yield = 20 / 45
    assert aaa.ratios["yield"] == pytest.approx(0.6 / overall_yield)
    assert ddd.ratios["yield"] == pytest.approx(0.2 / overall_yield)


def test_an_over_targeted_group_is_flagged_and_an_even_one_is_not(store: Store) -> None:
    """Ratios outside 0.8-1.25 are flagged on their measure; DDD, alerted on at the overall rate, is not."""
    worked_example(store)
    report = fairness_report(store, SINCE, UNTIL, band=(0.8, 1.25))
    assert row(report, "AAA").flagged == ("alert", "yield")
    assert row(report, "BBB").flagged == ("alert",)
    assert row(report, "DDD").flagged == ("yield",)
    assert "alert" not in row(report, "DDD").flagged
    assert row(report, "AAA").describe("alert") == (
        "nationality AAA: alert rate 1.33x that of all (40 alerts in 1000 travellers)")


def test_a_small_group_is_shown_but_not_judged(store: Store) -> None:
    """A group under min_traffic travellers is not flagged however uneven, nor one with too few alerts."""
    worked_example(store)
    traffic(store, "nationality", {"CCC": 20})
    alerts(store, 6, "CCC", ["seizure"] * 6)
    report = fairness_report(store, SINCE, UNTIL, min_traffic=50, min_alerts=10)
    ccc = row(report, "CCC")
    assert ccc.ratios["alert"] is not None and ccc.ratios["alert"] > 5
    assert ccc.judged == {"alert": False, "intervention": False, "yield": False} and ccc.flagged == ()
    judged_lower = fairness_report(store, SINCE, UNTIL, min_traffic=10, min_alerts=5)
    assert "alert" in row(judged_lower, "CCC").flagged


def test_figures_are_given_per_rule_and_typology_and_can_be_narrowed(store: Store) -> None:
    """Each rule and typology has its own rows; a rule that never fires on a large group is flagged there."""
    worked_example(store)
    report = fairness_report(store, SINCE, UNTIL)
    assert report.scopes == ("all", "rule:r1", "rule:r2", "typology:t1")
    r2 = row(report, "AAA", scope="rule:r2")
    assert r2.alerts == 0 and r2.ratios["alert"] == 0 and "alert" in r2.flagged
    assert row(report, "DDD", scope="rule:r2").ratios["alert"] == pytest.approx(3.0)
    narrowed = fairness_report(store, SINCE, UNTIL, scope={"rule": "r2"})
    assert narrowed.scopes == ("all", "rule:r2")


def test_only_the_period_counts(store: Store) -> None:
    """Traffic and alerts on days outside the period are left out."""
    worked_example(store)
    later = DAY + timedelta(days=2)
    traffic(store, "nationality", {"AAA": 5000}, day=later)
    alerts(store, 50, "BBB", arrives=datetime.combine(later, datetime.min.time(), UTC) + timedelta(hours=1))
    report = fairness_report(store, SINCE, UNTIL)
    assert (row(report, "AAA").traffic, row(report, "BBB").alerts) == (1000, 20)


def test_metrics_carry_the_all_scope_ratios_and_the_disparity_counts(store: Store) -> None:
    """The ratio gauge holds judged ratios of scope 'all'; the disparity gauge counts flags in every scope."""
    worked_example(store)
    report = fairness_report(store, SINCE, UNTIL)
    export_fairness_metrics(report)
    got = FAIRNESS_RATIO.labels(measure="alert", dimension="nationality", group="AAA")._value.get()
    assert got == pytest.approx(0.04 / 0.03)
    expected = {m: sum(m in r.flagged for r in report.rows) for m in ("alert", "intervention", "yield")}
    assert {m: FAIRNESS_DISPARITIES.labels(measure=m)._value.get() for m in expected} == expected
    assert expected["alert"] >= 2


def test_the_period_ends_with_the_latest_day_of_traffic(tmp_path: Path) -> None:
    """Fairness looks at the last days of traffic counted: up to tomorrow's arrivals when
    they are counted, and back in time for a replay of old files; today with none."""
    from engine.oversight.fairness import last_days

    store = Store(f"sqlite:///{tmp_path}/ops.db")
    since, until = last_days(store, 7)
    assert until.date() == datetime.now(UTC).date() + timedelta(days=1) and until - since == timedelta(days=7)
    with store.session() as s:
        s.add(TrafficRow(day=date(2026, 6, 3), mode="passenger", dimension="sex", group="F", count=5))
    since, until = last_days(store, 7)
    assert (since.date(), until.date()) == (date(2026, 5, 28), date(2026, 6, 4))
    store.close()
