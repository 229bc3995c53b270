"""The model bank and the learner: score before learn, redeliveries, saved state, outcomes."""

from __future__ import annotations

from collections import deque
from datetime import timedelta

import pytest

from engine.errors import ConfigError
from engine.feedback.learner import Learner, precision_at, rolling_auc
from engine.feedback.outcomes import RecordedOutcomes
from engine.score.bank import ModelBank
from engine.score.stage import Scorer
from engine.settings import ModelSettings, Settings
from schemas import Alert, EnrichedEvent, Outcome
from tests.fixtures.events import RECEIVED, enriched, freight_doc, passenger_doc

LATE_CASH = {"booking": {"booked_at": "2025-03-01T06:30:00Z", "payment_type": "cash"}}


def traffic(n: int) -> list[EnrichedEvent]:
    """Consignments whose value and mass vary, some of them odd (alerted)."""
    out = []
    for i in range(n):
        goods = [{**freight_doc()["goods"][0], "gross_mass_kg": 100 + 37 * (i % 11),
                  "value": 5.0 if i % 9 == 0 else 2000 + 113 * (i % 13)}]
        doc = freight_doc(source_id=f"decl-{i:05d}", declaration_id=f"DEC{i:05d}", goods=goods)
        out.append(enriched(doc))
    return out


def scorer(**models: object) -> Scorer:
    """A scorer whose anomaly models learn every event, trusted after 5 outcomes."""
    options: dict[str, object] = {"min_outcomes": 5, "anomaly_learn_every": 1, **models}
    return Scorer(Settings(models=ModelSettings(**options)))  # type: ignore[arg-type]


def test_an_event_is_scored_before_it_is_learned() -> None:
    """The first event of a fresh anomaly model is scored by the untaught model."""
    s = scorer()
    fresh = scorer()
    [event] = traffic(1)
    score = s.score_batch([event], {}).scores[0]
    [anomaly] = [m for m in score.model_scores if m.kind == "anomaly"]
    assert anomaly.model_version.endswith("+0")
    assert s.models is not None and fresh.models is not None
    assert s.models.anomaly[(0, "freight")][0].learned == 1
    assert fresh.score_batch([event], {}).scores[0] == score


def test_a_redelivered_event_gets_its_first_scores_and_is_not_learned_again() -> None:
    """At-least-once delivery: the same event again gives the same score record."""
    s = scorer()
    events = traffic(30)
    first = s.score_batch(events, {}).scores
    assert s.models is not None
    learned = s.models.anomaly[(0, "freight")][0].learned
    again = s.score_batch(events[:10], {}).scores
    assert again == first[:10]
    assert s.models.anomaly[(0, "freight")][0].learned == learned


def test_partitions_learn_apart() -> None:
    """Each partition has its own anomaly models, whoever owns it."""
    s = scorer()
    events = traffic(6)
    s.score_batch(events, {}, partitions=[0, 1, 0, 1, 0, 1])
    assert s.models is not None
    assert {k: m[0].learned for k, m in s.models.anomaly.items()} == {(0, "freight"): 3, (1, "freight"): 3}


def _alerts(s: Scorer, events: list[EnrichedEvent]) -> list[Alert]:
    from engine.alert import build_alerts

    result = s.score_batch(events, {})
    return build_alerts(result.scores, {}, {}, result.features)


def _outcome(alert: Alert, found: bool, hours: float = 3) -> Outcome:
    return Outcome(alert_id=alert.alert_id, result="seizure" if found else "nothing_found",
                   recorded_at=alert.raised_at + timedelta(hours=hours), recorded_by="sim-officer-01")


def test_alerts_carry_the_features_their_outcome_will_teach() -> None:
    """An alerted event's yield inputs and yield scores travel on its alert; no estimate
    is used before the champion has learned min_outcomes."""
    alerts = _alerts(scorer(), traffic(30))
    assert alerts
    a = alerts[0]
    assert a.features["rule:freight_value_per_kg"] > 0 and a.features["mode:freight"] == 1.0
    assert {m.model_id for m in a.model_scores} >= {"yield_logistic", "yield_tree", "anomaly_halfspace"}
    assert a.yield_estimate is None and "still learning" in a.explanation


def test_outcomes_teach_once_and_wait_for_their_alert() -> None:
    """An outcome before its alert waits; a repeat teaches nothing; not examined teaches nothing."""
    s = scorer()
    assert s.models is not None
    learner = Learner(s.models)
    alerts = _alerts(s, traffic(40))
    first, second, third = alerts[:3]
    learner.outcome(_outcome(first, True))  # before its alert
    assert not learner.learned and learner.waiting == 1
    learner.alert(first)
    assert set(learner.learned) == {first.alert_id}
    learner.alert(first)
    learner.outcome(_outcome(first, True))
    learner.outcome(Outcome(alert_id=second.alert_id, result="not_examined", recorded_at=RECEIVED,
                            recorded_by="sim-officer-02"))
    learner.alert(second)
    learner.alert(third)
    learner.outcome(_outcome(third, False))
    assert set(learner.learned) == {first.alert_id, third.alert_id}
    assert [m.learned for m in s.models.yields] == [2, 2]


def test_learning_from_outcomes_moves_the_estimate() -> None:
    """After enough finds on one kind of alert, its learned chance of a find goes up."""
    s = scorer()
    assert s.models is not None
    learner = Learner(s.models)
    alerts = _alerts(s, traffic(90))
    for a in alerts:
        learner.alert(a)
        learner.outcome(_outcome(a, True))
    later = _alerts(s, [enriched(freight_doc(source_id="decl-new", declaration_id="DEC-NEW", goods=[
        {**freight_doc()["goods"][0], "value": 5.0}]))])
    assert later[0].yield_estimate is not None and later[0].yield_estimate > 0.5
    assert "Learned chance of a find (yield_logistic)" in later[0].explanation


def test_saved_state_restores_the_same_scores_after_a_restart() -> None:
    """Stop half way, save, load into a fresh bank: the rest scores exactly as an
    uninterrupted run (anomaly and yield alike)."""
    events = traffic(80)

    def run(restart: bool) -> list[object]:
        s = scorer()
        assert s.models is not None
        learner = Learner(s.models)
        out = []
        for i in range(0, len(events), 20):
            if restart and i == 40:
                saved = s.models.dump()
                s = scorer()
                assert s.models is not None
                s.models.load(saved)
                learner.bank = s.models
            result = s.score_batch(events[i:i + 20], {})
            out += result.scores
            from engine.alert import build_alerts

            for a in build_alerts(result.scores, {}, {}, result.features):
                learner.alert(a)
                learner.outcome(_outcome(a, a.score > 0.6))
        return out

    assert run(restart=True) == run(restart=False)


def test_saved_state_with_a_bad_signature_is_refused() -> None:
    """Altered (or foreign-keyed) state is not unpickled."""
    bank = ModelBank(ModelSettings())
    saved = bytearray(bank.dump())
    saved[-5] ^= 1
    with pytest.raises(ConfigError, match="signature"):
        bank.load(bytes(saved))
    other = ModelBank(ModelSettings(signing_key="another key"))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="signature"):
        other.load(bank.dump())


def test_roles_come_from_settings() -> None:
    """The challenger can be promoted, the champion sent off; two champions are refused."""
    bank = ModelBank(ModelSettings(roles={"yield_tree": "champion", "yield_logistic": "off"}))
    assert bank.champion is not None and bank.champion.spec.id == "yield_tree"
    with pytest.raises(ConfigError, match="more than one champion"):
        ModelBank(ModelSettings(roles={"yield_tree": "champion"}))
    with pytest.raises(ConfigError, match="unknown model"):
        ModelBank(ModelSettings(roles={"yield_nope": "off"}))


def test_rolling_auc() -> None:
    """AUC: 1 when every find outscored every non-find, 0.5 for ties, None without both."""
    assert rolling_auc([(0.9, True), (0.1, False), (0.8, True), (0.2, False)]) == 1.0
    assert rolling_auc([(0.5, True), (0.5, False)]) == 0.5
    assert rolling_auc([(0.2, True), (0.9, False), (0.4, True), (0.3, False)]) == 0.25
    assert rolling_auc(deque([(0.2, True)])) is None


def test_precision_at_budget() -> None:
    """Finds among the best-scored, as many as the budget."""
    pairs = [(0.9, True), (0.8, False), (0.7, True), (0.1, True)]
    assert precision_at(pairs, 2) == 0.5 and precision_at(pairs, 3) == 2 / 3 and precision_at([], 3) is None


def test_outcomes_count_for_the_rules_behind_the_alert() -> None:
    """An examined outcome counts once per rule of its alert, and once for its typology."""
    from prometheus_client import REGISTRY

    def count() -> tuple[float, float]:
        rule = REGISTRY.get_sample_value("gatehound_rule_outcomes_total",
                                         {"rule": "freight_value_per_kg", "result": "find"})
        typology = REGISTRY.get_sample_value("gatehound_typology_outcomes_total",
                                             {"typology": "general", "result": "find"})
        return rule or 0.0, typology or 0.0

    s = scorer()
    assert s.models is not None
    learner = Learner(s.models)
    [a, *_] = _alerts(s, traffic(10))
    before = count()
    learner.alert(a)
    learner.outcome(_outcome(a, True))
    learner.outcome(_outcome(a, True))
    assert count() == (before[0] + 1, before[1] + 1)


def test_recorded_outcomes_come_due_in_time_order() -> None:
    """A replay meets recorded outcomes when its clock passes their recording time."""
    alerts = _alerts(scorer(), traffic(30))
    late, early = _outcome(alerts[0], True, hours=10), _outcome(alerts[1], False, hours=2)
    source = RecordedOutcomes([late, early])
    assert source.due(RECEIVED) == []
    assert source.due(RECEIVED + timedelta(hours=5)) == [early]
    assert source.due(RECEIVED + timedelta(days=1)) == [late]


def test_late_cash_fixture_alerts() -> None:
    """The passenger fixture with a late cash booking gets passenger features on its alert."""
    [a] = _alerts(scorer(), [enriched(passenger_doc(**LATE_CASH))])
    assert a.features["mode:passenger"] == 1.0 and a.features["paid:cash"] == 1.0
    assert sum(v for k, v in a.features.items() if k.startswith("departs:")) == 1.0


def test_the_learners_state_stays_small() -> None:
    """Learned ids and waiting outcomes are bounded, so the state record on 'models' stays
    well under Kafka's 1 MB; an outcome of an alert with nothing to learn is released."""
    s = scorer()
    assert s.models is not None
    learner = Learner(s.models)
    learner.KEEP_IDS = 50
    alerts = _alerts(s, traffic(90))
    for i in range(200):
        learner.outcome(Outcome(alert_id=f"alert-unknown-{i}", result="seizure", recorded_at=RECEIVED,
                                recorded_by="sim-officer-01"))
    assert learner.waiting == 50
    link_alert = alerts[0].model_copy(update={"alert_id": "alert-unknown-199", "features": {}})
    learner.alert(link_alert)
    assert learner.waiting == 49
    learner.KEEP_IDS = 3
    assert len(alerts) > 3
    for a in alerts:
        learner.alert(a)
        learner.outcome(_outcome(a, True))
    assert list(learner.learned) == [a.alert_id for a in alerts[-3:]] and len(learner.dump()) < 1_000_000
