"""The score stage: every rule on every event, one score record each, alerts only for live rules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY as METRICS
from structlog.testing import capture_logs

from engine.alert import build_alerts
from engine.errors import ConfigError
from engine.score.loader import load_rules
from engine.score.rule import Hit, NoConfig, RuleSpec, make_spec
from engine.score.stage import Scorer, alert_id_for
from engine.score.typology import judge
from engine.settings import ScoringSettings, Settings, default_typologies
from schemas import EnrichedEvent, Finding, stable_id
from tests.fixtures.events import RECEIVED, enriched, passenger_doc, vessel_doc

EXPIRY = "passenger_document_expiry"
LATE_CASH = "passenger_late_cash_booking"
AIS_GAP = "vessel_ais_gap"


def finding(score: float, status: str = "live", rule_id: str = "some_rule") -> Finding:
    return Finding(rule_id=rule_id, rule_version="1", status=status, score=score, detail="because")


def expired_doc_only() -> EnrichedEvent:
    """A traveller whose passport expired a month before arrival, otherwise unremarkable."""
    return enriched(passenger_doc(source_id="pax-expired", document={"expiry": "2025-02-01"}))


def expired_and_late_cash() -> EnrichedEvent:
    """Expired passport and a cash booking made six hours before departure."""
    return enriched(
        passenger_doc(
            source_id="pax-two-reasons",
            document={"expiry": "2025-02-01"},
            booking={"booked_at": "2025-03-01T12:00:00+00:00", "payment_type": "cash"},
        )
    )


def vessel_reports_hours_apart(hours: float) -> list[EnrichedEvent]:
    """Two reports of one vessel at the same spot, ``hours`` apart."""
    later = RECEIVED - timedelta(minutes=1)
    return [enriched(vessel_doc(later - timedelta(hours=hours))), enriched(vessel_doc(later))]


def rule_errors(rule_id: str) -> float:
    return METRICS.get_sample_value("gatehound_rule_errors_total", {"rule": rule_id}) or 0.0


def exploding(event: EnrichedEvent, config: NoConfig) -> Iterator[Hit]:
    """Always raises, standing in for a rule with a bug."""
    raise RuntimeError("rule bug")


def out_of_range(event: EnrichedEvent, config: NoConfig) -> Iterator[Hit]:
    """Yields a score above 1, which no finding may carry."""
    yield Hit(1.5, "too sure")


def throwaway(func: object, rule_id: str) -> RuleSpec:
    return make_spec(
        func, id=rule_id, version="1", modes={"passenger"}, status="live", config=NoConfig
    )  # type: ignore[arg-type]


def general_score(findings: list[Finding]) -> float:
    """The default typology's score of some findings."""
    [verdict] = judge(default_typologies(ScoringSettings()), "passenger", findings) or [None]
    return verdict.score if verdict else 0.0


def band_of(scorer: Scorer, score: float) -> str | None:
    """The severity a scorer's typologies give one live finding of this score."""
    verdicts = judge(scorer.typologies, "passenger", [finding(score)])
    return verdicts[0].severity if verdicts else None


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([], 0.0),
        ([0.4], 0.4),
        ([0.5, 0.5], 0.75),
        ([0.7, 0.55], 0.865),
        ([1.0, 0.2], 1.0),
        ([0.0, 0.0], 0.0),
    ],
)
def test_combine_is_noisy_or_of_live_findings(scores: list[float], expected: float) -> None:
    """Independent reasons add up as 1 - prod(1 - score), capped at 1 (the general typology)."""
    assert general_score([finding(s) for s in scores]) == pytest.approx(expected)


def test_combine_ignores_shadow_findings() -> None:
    """Shadow findings never move the final score."""
    assert general_score([finding(0.5), finding(0.9, status="shadow")]) == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("final", "severity"),
    [
        (0.0, None),
        (0.499, None),
        (0.5, "low"),
        (0.649, "low"),
        (0.65, "medium"),
        (0.849, "medium"),
        (0.85, "high"),
        (1.0, "high"),
    ],
)
def test_default_severity_bands(final: float, severity: str | None) -> None:
    """Below 0.5 there is no alert; from 0.5 low, from 0.65 medium, from 0.85 high."""
    assert band_of(Scorer(Settings()), final) == severity


def test_severity_bands_come_from_settings() -> None:
    """Alert threshold and bands are configuration, not code."""
    scorer = Scorer(
        Settings(scoring=ScoringSettings(alert_threshold=0.2, medium_from=0.3, high_from=0.4))
    )
    assert [band_of(scorer, x) for x in (0.1, 0.2, 0.3, 0.4)] == [None, "low", "medium", "high"]


def test_no_alert_without_a_live_finding_even_at_threshold_zero() -> None:
    """With the alert threshold at 0, an event with only shadow findings still raises no alert."""
    settings = Settings(
        scoring=ScoringSettings(alert_threshold=0.0), rules={EXPIRY: {"status": "shadow"}}
    )
    scores = (
        Scorer(settings).score_batch([enriched(passenger_doc()), expired_doc_only()], {}).scores
    )
    assert [(s.severity, s.alert_id) for s in scores] == [(None, None), (None, None)]


def test_clean_event_gets_a_score_record_without_alert() -> None:
    """An event no rule finds anything in still gets a score record, with every rule that ran."""
    [score] = Scorer(Settings()).score_batch([enriched(passenger_doc())], {}).scores
    assert score.findings == ()
    assert score.final_score == 0.0
    assert score.severity is None and score.alert_id is None
    passenger_rules = {k for k, s in load_rules().items() if "passenger" in s.modes}
    assert set(score.rule_versions) == passenger_rules


def test_two_live_findings_raise_an_alert_with_a_deterministic_id() -> None:
    """Two live findings make a high alert whose id depends only on event and rule versions."""
    event = expired_and_late_cash()
    [first] = Scorer(Settings()).score_batch([event], {}).scores
    [second] = Scorer(Settings()).score_batch([event], {}).scores
    assert {f.rule_id for f in first.findings} == {EXPIRY, LATE_CASH}
    assert first.final_score == pytest.approx(1 - (1 - 0.7) * (1 - 0.55))
    assert first.severity == "high"
    expected = stable_id("alert", event.event.event_id, "general", f"{EXPIRY}@1", f"{LATE_CASH}@1")
    assert first.alert_id == second.alert_id == expected
    assert first == second


def test_alert_id_ignores_finding_order_and_shadow_findings() -> None:
    """The alert id ignores the order of findings, and shadow findings do not count."""
    a, b = finding(0.5, rule_id="rule_a"), finding(0.6, rule_id="rule_b")
    shadow = finding(0.9, status="shadow", rule_id="rule_c")
    assert alert_id_for("ev-1", "t", [a, b]) == alert_id_for("ev-1", "t", [b, shadow, a])
    assert alert_id_for("ev-1", "t", [a, b]) != alert_id_for("ev-2", "t", [a, b])
    assert alert_id_for("ev-1", "t", [a, b]) != alert_id_for("ev-1", "t", [a])
    assert alert_id_for("ev-1", "t", [a, b]) != alert_id_for("ev-1", "u", [a, b])


def test_alert_explains_each_live_finding_with_its_rule_title() -> None:
    """The alert built from a score lists the live findings, strongest first, under their titles."""
    scorer = Scorer(Settings())
    scores = scorer.score_batch([expired_and_late_cash(), enriched(passenger_doc())], {}).scores
    titles = {rid: spec.title for rid, spec in load_rules().items()}
    [alert] = build_alerts(scores, titles)
    assert alert.alert_id == scores[0].alert_id
    assert alert.explanation.index(titles[EXPIRY].rstrip(".")) < alert.explanation.index(
        titles[LATE_CASH].rstrip(".")
    )


def test_shadow_rule_is_recorded_but_never_alerts() -> None:
    """A rule set to shadow leaves its finding in the score record and raises no alert."""
    settings = Settings(rules={EXPIRY: {"status": "shadow"}})
    [score] = Scorer(settings).score_batch([expired_doc_only()], {}).scores
    [found] = score.findings
    assert (found.rule_id, found.status) == (EXPIRY, "shadow")
    assert score.final_score == 0.0
    assert score.severity is None and score.alert_id is None
    assert EXPIRY in score.rule_versions


def test_shadow_rule_does_not_change_the_alert_of_live_rules() -> None:
    """A shadow finding next to live ones leaves the alert id what the live rules alone give."""
    event = expired_and_late_cash()
    [score] = Scorer(Settings(rules={EXPIRY: {"status": "shadow"}})).score_batch([event], {}).scores
    assert score.final_score == pytest.approx(0.55)
    assert score.alert_id == stable_id("alert", event.event.event_id, "general", f"{LATE_CASH}@1")


def test_rule_switched_off_does_not_run() -> None:
    """A rule set to off produces no finding and is absent from rule_versions."""
    [score] = (
        Scorer(Settings(rules={EXPIRY: {"status": "off"}}))
        .score_batch([expired_doc_only()], {})
        .scores
    )
    assert score.findings == ()
    assert EXPIRY not in score.rule_versions
    assert LATE_CASH in score.rule_versions


def test_unknown_status_is_refused() -> None:
    """A misspelt status is a configuration error, not a silently live rule."""
    with pytest.raises(ConfigError, match=EXPIRY):
        Scorer(Settings(rules={EXPIRY: {"status": "shadw"}}))


def test_unknown_config_key_is_refused() -> None:
    """An override naming a setting the rule does not have is an error, not silently ignored."""
    with pytest.raises(ConfigError, match=AIS_GAP):
        Scorer(Settings(rules={AIS_GAP: {"gap_hour": 2}}))


def test_invalid_config_value_is_refused() -> None:
    """An override that breaks the rule's Config names the rule."""
    with pytest.raises(ConfigError, match=AIS_GAP):
        Scorer(Settings(rules={AIS_GAP: {"gap_hours": -1}}))


def test_config_override_changes_rule_behaviour() -> None:
    """A three-hour silence is no gap by default, but is once gap_hours is set to 2."""
    events = vessel_reports_hours_apart(3)
    default = Scorer(Settings()).score_batch(events, {}).scores[1]
    tuned = Scorer(Settings(rules={AIS_GAP: {"gap_hours": 2}})).score_batch(events, {}).scores[1]
    assert AIS_GAP not in {f.rule_id for f in default.findings}
    assert AIS_GAP in {f.rule_id for f in tuned.findings}


def test_config_override_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """GATEHOUND_RULES__<RULE>__<FIELD> overrides a rule's config."""
    monkeypatch.setenv("GATEHOUND_RULES__VESSEL_AIS_GAP__GAP_HOURS", "2")
    scores = Scorer(Settings()).score_batch(vessel_reports_hours_apart(3), {}).scores
    assert AIS_GAP in {f.rule_id for f in scores[1].findings}


def test_raising_rule_is_skipped_and_counted() -> None:
    """A rule that raises is counted and logged; the event is still scored by the other rules."""
    registry = {
        "test_exploding_rule": throwaway(exploding, "test_exploding_rule"),
        EXPIRY: load_rules()[EXPIRY],
    }
    before = rule_errors("test_exploding_rule")
    with capture_logs() as logs:
        [score] = Scorer(Settings(), registry=registry).score_batch([expired_doc_only()], {}).scores
    assert rule_errors("test_exploding_rule") == before + 1
    assert [f.rule_id for f in score.findings] == [EXPIRY]
    assert score.alert_id is not None
    assert set(score.rule_versions) == {"test_exploding_rule", EXPIRY}
    failed = [e for e in logs if e["event"] == "rule.failed"]
    assert failed and failed[0]["rule_id"] == "test_exploding_rule"
    assert "rule bug" not in str(failed[0])


def test_rule_yielding_an_out_of_range_score_is_skipped() -> None:
    """A finding with a score above 1 is refused, not clamped, and counted as a rule error."""
    registry = {"test_out_of_range": throwaway(out_of_range, "test_out_of_range")}
    before = rule_errors("test_out_of_range")
    [score] = (
        Scorer(Settings(), registry=registry).score_batch([enriched(passenger_doc())], {}).scores
    )
    assert score.findings == ()
    assert rule_errors("test_out_of_range") == before + 1


def test_throwaway_rules_stay_out_of_the_global_registry() -> None:
    """Rules built with make_spec for a custom registry never appear in load_rules()."""
    throwaway(exploding, "test_exploding_rule")
    assert "test_exploding_rule" not in load_rules()


def test_vessel_reports_are_judged_against_their_track() -> None:
    """In one batch a vessel's second report sees the first; track updates are keyed by vessel."""
    result = Scorer(Settings()).score_batch(vessel_reports_hours_apart(8), {})
    first, second = result.scores
    assert AIS_GAP not in {f.rule_id for f in first.findings}
    assert AIS_GAP in {f.rule_id for f in second.findings}
    assert list(result.track_updates) == ["mmsi:235000001"]
    assert len(result.track_updates["mmsi:235000001"].fixes) == 2


def test_track_state_carries_over_between_batches() -> None:
    """The track from one batch lets the next see the gap, and the input is not mutated."""
    first, second = vessel_reports_hours_apart(8)
    scorer = Scorer(Settings())
    tracks: dict = {}
    tracks.update(scorer.score_batch([first], tracks).track_updates)
    snapshot = dict(tracks)
    result = scorer.score_batch([second], tracks)
    assert tracks == snapshot
    assert AIS_GAP in {f.rule_id for f in result.scores[0].findings}


def test_redelivered_vessel_report_is_scored_the_same() -> None:
    """A vessel report delivered again after its own state update gets the same score record."""
    first, second = vessel_reports_hours_apart(8)
    scorer = Scorer(Settings())
    tracks = dict(scorer.score_batch([first, second], {}).track_updates)
    once = scorer.score_batch(
        [second],
        {"mmsi:235000001": scorer.score_batch([first], {}).track_updates["mmsi:235000001"]},
    )
    again = scorer.score_batch([second], tracks)
    assert again.scores == once.scores
    assert again.track_updates == tracks


def test_rules_from_an_entry_point_are_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A module named in the gatehound.rules entry-point group is imported and its rules registered."""
    import sys
    import types
    from importlib.metadata import EntryPoint

    import engine.score.loader as loader
    from engine.score.rule import REGISTRY, rule

    module = types.ModuleType("thirdparty_rules_for_test")

    def load_module() -> None:
        @rule(id="thirdparty_always", version="1", modes={"freight"}, status="shadow")
        def always(event: object, config: object) -> None:
            """Third-party rule used to prove entry points load."""

        module.always = always  # type: ignore[attr-defined]

    ep = EntryPoint(name="thirdparty", value="thirdparty_rules_for_test", group=loader.ENTRY_POINT_GROUP)
    monkeypatch.setitem(sys.modules, "thirdparty_rules_for_test", module)
    monkeypatch.setattr(loader, "entry_points", lambda group: [ep] if group == ep.group else [])
    monkeypatch.setattr(EntryPoint, "load", lambda self: load_module())
    try:
        assert "thirdparty_always" in loader.load_rules()
    finally:
        REGISTRY.pop("thirdparty_always", None)
