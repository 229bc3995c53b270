"""Typologies: rule findings and model scores weighed into named patterns with bands."""

from __future__ import annotations

from typing import Any

import pytest

from engine.alert import build_alerts
from engine.errors import ConfigError
from engine.score.stage import Scorer
from engine.score.typology import judge
from engine.settings import ModelSettings, Settings, Typology
from schemas import Finding
from schemas.decision import ModelScore
from tests.fixtures.events import enriched, passenger_doc

LATE_CASH = {"booking": {"booked_at": "2025-03-01T06:30:00Z", "payment_type": "cash"}}


def typology(**kw: Any) -> Typology:
    base: dict[str, Any] = {
        "title": "Courier", "modes": ["passenger"],
        "rules": {"passenger_late_cash_booking": 1.0},
        "bands": [{"from": 0.4, "severity": "low", "reason": "courier signs"},
                  {"from": 0.8, "severity": "high", "reason": "strong courier signs"}],
    }
    return Typology.model_validate({**base, **kw})


def finding(rule_id: str, score: float, status: str = "live") -> Finding:
    return Finding(rule_id=rule_id, score=score, detail="test", status=status)  # type: ignore[arg-type]


def model(model_id: str, score: float, kind: str = "anomaly", role: str = "champion") -> ModelScore:
    return ModelScore(model_id=model_id, model_version="1+9", kind=kind, role=role, score=score)  # type: ignore[arg-type]


def test_parts_are_weighed_and_banded() -> None:
    """Score = noisy-OR of score x weight; the band is the highest reached."""
    t = typology(models={"anomaly_halfspace": 0.5})
    [verdict] = judge({"courier": t}, "passenger", [finding("passenger_late_cash_booking", 0.6)],
                      [model("anomaly_halfspace", 0.8)])
    assert verdict.score == pytest.approx(1 - (1 - 0.6) * (1 - 0.4))
    assert (verdict.severity, verdict.reason) == ("low", "courier signs")
    assert [(p.source, p.id, p.weight) for p in verdict.parts] == [
        ("rule", "passenger_late_cash_booking", 1.0), ("model", "anomaly_halfspace", 0.5)]


def test_only_live_findings_champions_and_trusted_yield_count() -> None:
    """Shadow findings, challengers and an untrusted yield model add nothing."""
    t = typology(models={"yield_logistic": 1.0, "yield_tree": 1.0})
    findings = [finding("passenger_late_cash_booking", 0.3, "shadow")]
    models = [model("yield_logistic", 0.9, "yield"), model("yield_tree", 0.9, "yield", "challenger")]
    assert judge({"c": t}, "passenger", findings, models, estimate=None) == []
    [trusted] = judge({"c": t}, "passenger", findings, models, estimate=0.9)
    assert [p.id for p in trusted.parts] == ["yield_logistic"] and trusted.severity == "high"


def test_the_best_typology_decides_and_modes_filter() -> None:
    """Highest severity first, then score; a typology of another mode is not judged."""
    low = typology(title="Low", bands=[{"from": 0.1, "severity": "low", "reason": "x"}])
    high = typology(title="High", rules={"*": 2.0})
    freight = typology(title="Freight", modes=["freight"])
    verdicts = judge({"low": low, "high": high, "freight": freight}, "passenger",
                     [finding("passenger_late_cash_booking", 0.5)])
    assert [v.typology_id for v in verdicts] == ["high", "low"] and verdicts[0].score == 1.0


def test_a_configured_typology_raises_the_alert_and_explains_it() -> None:
    """The alert carries its typology and band; the explanation opens with them."""
    settings = Settings(typologies={"courier": typology()}, models=ModelSettings(enabled=False))
    scored = Scorer(settings).score_batch([enriched(passenger_doc(**LATE_CASH))], {})
    [alert] = build_alerts(scored.scores, {}, {}, scored.features)
    assert alert.typology is not None and alert.typology.typology_id == "courier"
    assert alert.explanation.startswith("Courier, low (score 0.55): courier signs.")
    strict = typology(bands=[{"from": 0.9, "severity": "high", "reason": "x"}])
    below = Settings(typologies={"courier": strict}, models=ModelSettings(enabled=False))
    [score] = Scorer(below).score_batch([enriched(passenger_doc(**LATE_CASH))], {}).scores
    assert score.alert_id is None and score.typologies[0].severity is None


def test_typology_config_is_checked() -> None:
    """Unknown rules or models, unordered bands, weights out of range: refused with a reason."""
    with pytest.raises(ConfigError, match="unknown rule"):
        Scorer(Settings(typologies={"t": typology(rules={"no_such_rule": 1.0})}))
    with pytest.raises(ConfigError, match="unknown or unused model"):
        Scorer(Settings(typologies={"t": typology(models={"no_such_model": 1.0})}))
    with pytest.raises(ValueError, match="rising order"):
        typology(bands=[{"from": 0.8, "severity": "high", "reason": "a"},
                        {"from": 0.4, "severity": "low", "reason": "b"}])
    with pytest.raises(ValueError, match="between 0 and 2"):
        typology(rules={"passenger_late_cash_booking": 3.0})
