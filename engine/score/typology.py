"""Typologies: named risk patterns from config, scored from rule findings and model scores.

A typology (``Settings.typologies``, see engine/settings.py) names the rules and the
champion models that make it up, each with a weight, and the score bands that raise
an alert::

    [typologies.drug_courier]
    title = "Drug courier"
    modes = ["passenger"]
    rules = { passenger_late_cash_booking = 1.0, cross_watchlist_match = 1.2 }
    models = { yield_logistic = 0.8 }
    bands = [
      { from = 0.5, severity = "low", reason = "courier signs: check at arrival" },
      { from = 0.8, severity = "high", reason = "strong courier signs: stop and search" },
    ]

Its score is the noisy-OR of its parts, each part its score times its weight (capped
at 1): independent signs add up, none alone counts for more than its weight allows.
A yield model counts only once it is trusted (``models.min_outcomes``); a rule only
by its live findings, a model only as champion. The band is the highest one the
score reaches. The event's verdict is its best typology: the highest severity, then
the highest score, then the id. Weighting an anomaly model makes alerts depend on
what each partition's model has seen; the default (no typologies configured: one
``general`` typology of every rule at weight 1, banded by the scoring thresholds)
uses rules only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from engine.settings import Typology
from schemas.decision import Finding, ModelScore, TypologyPart, TypologyResult

SEVERITY_RANK = {None: 0, "low": 1, "medium": 2, "high": 3}


def parts_of(
    typology: Typology, findings: Sequence[Finding], models: Sequence[ModelScore], estimate: float | None
) -> list[TypologyPart]:
    """What counts towards a typology: its rules' live findings, its champion models' scores."""
    out = []
    anyrule = typology.rules.get("*")
    for f in findings:
        weight = typology.rules.get(f.rule_id, anyrule)
        if f.status == "live" and weight:
            out.append(TypologyPart(source="rule", id=f.rule_id, score=f.score, weight=weight))
    for m in models:
        weight = typology.models.get(m.model_id)
        if not weight or m.role != "champion":
            continue
        score = m.score if m.kind == "anomaly" else estimate
        if score is not None:
            out.append(TypologyPart(source="model", id=m.model_id, score=score, weight=weight))
    return out


def judge_one(typology_id: str, typology: Typology, parts: Sequence[TypologyPart]) -> TypologyResult:
    """A typology's score and band from its parts."""
    clear = 1.0
    for p in parts:
        clear *= 1.0 - min(1.0, p.score * p.weight)
    score = round(1.0 - clear, 6)
    band = None
    for b in typology.bands:
        if score >= b.from_score:
            band = b
    return TypologyResult(
        typology_id=typology_id, title=typology.title, score=score,
        severity=band.severity if band else None, reason=band.reason if band else None, parts=tuple(parts),
    )


def judge(
    typologies: Mapping[str, Typology], mode: str, findings: Sequence[Finding],
    models: Sequence[ModelScore] = (), estimate: float | None = None,
) -> list[TypologyResult]:
    """Every typology of the mode the event scores on, best first (see the module docstring)."""
    results = []
    for typology_id, typology in typologies.items():
        if mode not in typology.modes:
            continue
        parts = parts_of(typology, findings, models, estimate)
        if parts:
            results.append(judge_one(typology_id, typology, parts))
    results.sort(key=lambda r: (-SEVERITY_RANK[r.severity], -r.score, r.typology_id))
    return results
