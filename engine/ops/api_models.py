"""What the JSON API takes and gives (its OpenAPI description is made from these)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from engine.ops import actions
from engine.ops.actions import Purpose
from engine.ops.store import AlertRow, OutcomeRow


class Me(BaseModel):
    """The logged-in user."""

    id: str
    name: str
    role: str
    csrf_token: str


class RevealRequest(BaseModel):
    """Why personal data is needed: recorded in the audit log."""

    purpose: Purpose


class CaseActionRequest(BaseModel):
    """A step on a case."""

    action: actions.CaseAction
    assignee_id: str | None = Field(default=None, max_length=40, description="For assign: a user id.")
    note: str = Field(default="", max_length=300)


class AlertSummary(BaseModel):
    """An alert in the feed: codes and numbers, no personal data."""

    seq: int
    alert_id: str
    case_id: str
    mode: str
    severity: str
    score: float
    priority: float
    typology: str | None
    port: str | None
    status: str
    raised_at: datetime
    arrives_at: datetime | None

    @classmethod
    def of(cls, row: AlertRow) -> AlertSummary:
        return cls(
            seq=row.seq,
            alert_id=row.alert_id,
            case_id=row.case_id,
            mode=row.mode,
            severity=row.severity,
            score=row.score,
            priority=row.priority,
            typology=row.typology,
            port=row.port,
            status=row.status,
            raised_at=row.raised_at,
            arrives_at=row.arrives_at,
        )


class AlertDetail(AlertSummary):
    """An alert with its explanation, source event (masked unless revealed) and case."""

    explanation: str
    findings: list[dict[str, Any]]
    model_scores: list[dict[str, Any]]
    event: dict[str, Any] | None
    revealed: bool
    case_status: str
    assignee: str | None
    history: list[dict[str, Any]]
    network: list[dict[str, Any]]
    outcome: dict[str, Any] | None

    @classmethod
    def of(cls, view: actions.AlertView) -> AlertDetail:  # type: ignore[override]
        base = AlertSummary.of(view.row).model_dump()
        outcome: OutcomeRow | None = view.outcome
        return cls(
            **base,
            explanation=str(view.alert.get("explanation", "")),
            findings=list(view.alert.get("findings", [])),
            model_scores=list(view.alert.get("model_scores", [])),
            event=view.event,
            revealed=view.revealed,
            case_status=view.case.status,
            assignee=view.assignee,
            history=[
                {"at": h.at.isoformat(), "actor": h.actor_id, "action": h.action, "detail": h.detail}
                for h in view.history
            ],
            network=[
                {
                    "identifier": u.identifier,
                    "kind": u.kind,
                    "event_id": u.event_id,
                    "mode": u.mode,
                    "role": u.role,
                    "holder": u.holder,
                    "occurred_at": u.occurred_at.isoformat(),
                    "distance": u.distance,
                }
                for u in view.network
            ],
            outcome=None
            if outcome is None
            else {
                "result": outcome.result,
                "recorded_by": outcome.recorded_by,
                "recorded_at": outcome.recorded_at.isoformat(),
            },
        )
