"""Build alerts from score records, with the explanation an officer reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from engine.alert.priority import priority
from schemas import Alert, Event, Score


def explain(score: Score, titles: Mapping[str, str]) -> str:
    """The typology and band that decided, in a sentence; then one per live finding,
    strongest first: the rule's title, then the detail; then what the champion models
    made of the event, with the inputs that moved them."""
    live = sorted((f for f in score.findings if f.status == "live"), key=lambda f: -f.score)
    parts = []
    if score.typologies and score.typologies[0].severity is not None:
        t = score.typologies[0]
        parts.append(f"{t.title}, {t.severity} (score {t.score:.2f}): {t.reason}")
    parts += [
        f"{titles.get(f.rule_id, f.rule_id).rstrip('.')}: {f.detail} (score {f.score:.2f})"
        for f in live
    ]
    for m in score.model_scores:
        if m.role != "champion":
            continue
        what = "Unusual for its mode" if m.kind == "anomaly" else "Learned chance of a find"
        why = ", ".join(f"{c.feature} {c.effect:+.2f}" for c in m.top_features)
        used = "" if m.kind == "anomaly" or score.yield_estimate is not None else ", still learning: not used"
        moved = f"; most moved by {why}" if why else ""
        parts.append(f"{what} ({m.model_id}): {m.score:.2f}{used}{moved}")
    return " ".join(f"{p}." if not p.endswith(".") else p for p in parts)


def build_alerts(
    scores: Sequence[Score], titles: Mapping[str, str], arrivals: Mapping[str, datetime | None] | None = None,
    features: Mapping[str, Mapping[str, float]] | None = None, subjects: Mapping[str, str] | None = None,
    events: Mapping[str, Event] | None = None,
) -> list[Alert]:
    """An alert for each score record that carries an alert id, in input order, with its
    priority from the arrival of its event (``arrivals``, by event id), the yield
    models' inputs it was scored on (``features``) and its subject (``subjects``), by
    event id, carrying its event (``events``, by event id). A suppressed score has no
    alert id, so no alert."""
    arrivals = arrivals or {}
    features = features or {}
    subjects = subjects or {}
    events = events or {}
    alerts = []
    for score in scores:
        if score.alert_id is None or score.severity is None:
            continue
        live = tuple(f for f in score.findings if f.status == "live")
        alerts.append(
            Alert(
                alert_id=score.alert_id,
                event_id=score.event_id,
                mode=score.mode,
                key=score.key,
                severity=score.severity,
                score=score.final_score,
                findings=live,
                explanation=explain(score, titles),
                raised_at=score.received_at,
                arrives_at=arrivals.get(score.event_id),
                priority=priority(score.severity, arrivals.get(score.event_id), score.received_at,
                                  score.yield_estimate),
                model_scores=score.model_scores,
                yield_estimate=score.yield_estimate,
                typology=score.typologies[0] if score.typologies else None,
                subject=subjects.get(score.event_id),
                case_id=score.case_id,
                features=dict(features.get(score.event_id, {})),
                event=events.get(score.event_id),
            )
        )
    return alerts
