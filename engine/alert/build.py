"""Build alerts from score records, with the explanation an officer reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from engine.alert.priority import priority
from schemas import Alert, Score


def explain(score: Score, titles: Mapping[str, str]) -> str:
    """One sentence per live finding, strongest first: the rule's title, then the detail."""
    live = sorted((f for f in score.findings if f.status == "live"), key=lambda f: -f.score)
    parts = [
        f"{titles.get(f.rule_id, f.rule_id).rstrip('.')}: {f.detail} (score {f.score:.2f})"
        for f in live
    ]
    return " ".join(f"{p}." if not p.endswith(".") else p for p in parts)


def build_alerts(
    scores: Sequence[Score], titles: Mapping[str, str], arrivals: Mapping[str, datetime | None] | None = None
) -> list[Alert]:
    """An alert for each score record that carries an alert id, in input order, with its
    priority from the arrival of its event (``arrivals``, by event id)."""
    arrivals = arrivals or {}
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
                priority=priority(score.severity, arrivals.get(score.event_id), score.received_at),
            )
        )
    return alerts
