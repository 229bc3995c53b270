"""What officers and supervisors do in the operations centre, apart from the web: list
alerts, read one (masked or revealed), act on a case, record an outcome.

The routes in engine/ops/app.py (HTML and JSON alike) call these; who may call them is
decided there, and what was done is written to the audit log there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import GatehoundError
from engine.ops.store import (
    AlertRow,
    CaseEventRow,
    CaseRow,
    LinkRow,
    OutcomeRow,
    UserRow,
    note_case,
    utcnow,
)
from engine.oversight.masking import MASK, mask_event
from schemas import Outcome
from schemas.outcome import Seizure

#: The shortest purpose a user may give for seeing personal data.
MIN_PURPOSE = 10
#: Why someone needs personal data: ten characters or more, not all blank.
Purpose = Annotated[str, StringConstraints(min_length=MIN_PURPOSE, max_length=500, pattern=r"\S")]


def purpose_given(text: str) -> bool:
    """Whether a stated purpose is one (the same test as ``Purpose``)."""
    return len(text) >= MIN_PURPOSE and bool(text.strip())


STATUSES = ("new", "acknowledged", "assigned", "escalated", "closed")
CaseAction = Literal["acknowledge", "take", "assign", "escalate", "close", "reopen"]
CASE_ACTIONS: tuple[str, ...] = get_args(CaseAction)
#: The status each case action leaves a case in.
_STATUS_AFTER = {
    "acknowledge": "acknowledged",
    "take": "assigned",
    "assign": "assigned",
    "escalate": "escalated",
    "close": "closed",
    "reopen": "acknowledged",
}


class NotFound(GatehoundError):
    """No such alert, case or user."""


class Refused(GatehoundError):
    """The action does not fit the case's state (e.g. a second outcome for one alert)."""


class FeedFilter(BaseModel):
    """What the live feed shows: every field narrows it."""

    mode: Literal["passenger", "freight", "vessel"] | None = None
    severity: Literal["low", "medium", "high"] | None = None
    port: str | None = Field(default=None, max_length=10, pattern=r"^[A-Za-z0-9]*$")
    status: Literal["new", "acknowledged", "assigned", "escalated", "closed", "open"] | None = None
    arriving_within_hours: float | None = Field(default=None, gt=0, le=24 * 30)

    def query_string(self) -> str:
        """The filter as URL query parameters (for the live stream's URL)."""
        from urllib.parse import urlencode

        return urlencode({k: v for k, v in self.model_dump().items() if v not in (None, "")})


def list_alerts(
    session: Session, flt: FeedFilter, after_seq: int = 0, limit: int = 200, now: datetime | None = None
) -> list[AlertRow]:
    """Alerts passing the filter, highest priority first (newest first among equals);
    only those after ``after_seq`` when given (a live stream resuming)."""
    q = select(AlertRow).where(AlertRow.seq > after_seq)
    if flt.mode:
        q = q.where(AlertRow.mode == flt.mode)
    if flt.severity:
        q = q.where(AlertRow.severity == flt.severity)
    if flt.port:
        q = q.where(AlertRow.port == flt.port.upper())
    if flt.status == "open":
        q = q.where(AlertRow.status != "closed")
    elif flt.status:
        q = q.where(AlertRow.status == flt.status)
    if flt.arriving_within_hours:
        now = now or utcnow()
        q = q.where(
            AlertRow.arrives_at >= now,
            AlertRow.arrives_at <= now + timedelta(hours=flt.arriving_within_hours),
        )
    q = q.order_by(AlertRow.priority.desc(), AlertRow.seq.desc()).limit(limit)
    return list(session.scalars(q))


@dataclass
class NetworkUse:
    """One use of an identifier the alert's event shares with other events."""

    identifier: str
    kind: str
    event_id: str
    mode: str
    role: str
    holder: str
    occurred_at: datetime
    distance: int


@dataclass
class AlertView:
    """An alert as a page shows it: personal data masked unless revealed."""

    row: AlertRow
    case: CaseRow
    alert: dict[str, Any]
    event: dict[str, Any] | None
    revealed: bool
    history: list[CaseEventRow] = field(default_factory=list)
    network: list[NetworkUse] = field(default_factory=list)
    outcome: OutcomeRow | None = None
    assignee: str | None = None


def get_alert(session: Session, alert_id: str) -> AlertRow:
    """The stored alert, or NotFound."""
    row = session.scalar(select(AlertRow).where(AlertRow.alert_id == alert_id))
    if row is None:
        raise NotFound("no such alert")
    return row


def get_case(session: Session, case_id: str) -> CaseRow:
    """The case, or NotFound."""
    case = session.get(CaseRow, case_id)
    if case is None:
        raise NotFound("no such case")
    return case


def view_alert(session: Session, alert_id: str, reveal: bool = False) -> AlertView:
    """The alert with its case, history, outcome and linked network; its source event
    and the network's holders masked unless ``reveal``."""
    row = get_alert(session, alert_id)
    case = get_case(session, row.case_id)
    body = dict(row.body)
    event = body.pop("event", None)
    if event is not None and not reveal:
        event = mask_event(event)
    if not reveal:
        body["findings"] = [
            {**f, "evidence": {k: MASK for k in f.get("evidence", {})}} for f in body.get("findings", [])
        ]
    history = list(
        session.scalars(
            select(CaseEventRow).where(CaseEventRow.case_id == case.case_id).order_by(CaseEventRow.id)
        )
    )
    assignee = session.get(UserRow, case.assignee_id) if case.assignee_id else None
    return AlertView(
        row=row,
        case=case,
        alert=body,
        event=event,
        revealed=reveal,
        history=history,
        network=network_of(session, row.event_id, reveal),
        outcome=session.get(OutcomeRow, row.alert_id),
        assignee=assignee.name if assignee else None,
    )


def network_of(
    session: Session, event_id: str, reveal: bool, hops: int = 2, cap: int = 200
) -> list[NetworkUse]:
    """The uses of identifiers within ``hops`` of the event (1: the event's own and the
    events sharing them; 2: those events' other identifiers and their users), nearest first."""
    uses: list[NetworkUse] = []
    seen_events, seen_ids = {event_id}, set[str]()
    frontier = {event_id}
    for distance in range(hops):
        if not frontier or len(uses) >= cap:
            break
        ids = (
            set(session.scalars(select(LinkRow.identifier).where(LinkRow.event_id.in_(frontier)))) - seen_ids
        )
        seen_ids |= ids
        query = select(LinkRow).where(LinkRow.identifier.in_(ids)).limit(cap)
        rows: list[LinkRow] = list(session.scalars(query)) if ids else []
        frontier = set()
        for link in rows:
            uses.append(
                NetworkUse(
                    link.identifier,
                    link.kind,
                    link.event_id,
                    link.mode,
                    link.role,
                    link.holder if reveal else MASK,
                    link.occurred_at,
                    distance + 1,
                )
            )
            if link.event_id not in seen_events:
                seen_events.add(link.event_id)
                frontier.add(link.event_id)
    uses.sort(key=lambda u: (u.distance, u.identifier, u.occurred_at))
    return uses[:cap]


def act_on_case(
    session: Session, case_id: str, action: str, actor_id: str, assignee_id: str | None = None, note: str = ""
) -> CaseRow:
    """Acknowledge, take (assign to oneself), assign, escalate, close or reopen a case;
    every alert of the case follows its status, and the history records the step."""
    if action not in CASE_ACTIONS:
        raise Refused(f"unknown case action {action!r}")
    case = get_case(session, case_id)
    target = actor_id if action == "take" else assignee_id
    if action == "assign":
        if not target or session.get(UserRow, target) is None:
            raise NotFound("no such user to assign")
    if action in ("take", "assign"):
        case.assignee_id = target
    case.status = _STATUS_AFTER[action]
    case.updated_at = utcnow()
    for alert in session.scalars(select(AlertRow).where(AlertRow.case_id == case_id)):
        alert.status = case.status
    detail = note[:300]
    if target and action in ("take", "assign"):
        detail = f"assigned to {target}" + (f": {detail}" if detail else "")
    note_case(session, case_id, action, detail, actor_id)
    return case


class OutcomeForm(BaseModel):
    """What an officer records after acting on an alert."""

    result: Literal["seizure", "arrest", "nothing_found", "not_examined"]
    seizures: Sequence[Seizure] = ()
    notes: str = Field(default="", max_length=2000)


def record_outcome(session: Session, alert_id: str, form: OutcomeForm, actor_id: str) -> Outcome:
    """Store the outcome of an alert (one per alert) and return it as the record the
    ``outcomes`` topic carries."""
    row = get_alert(session, alert_id)
    if session.get(OutcomeRow, alert_id) is not None:
        raise Refused("this alert's outcome is recorded already")
    if form.result == "seizure" and not form.seizures:
        raise Refused("a seizure says what was seized and how much")
    outcome = Outcome(
        alert_id=alert_id,
        result=form.result,
        recorded_at=utcnow(),
        recorded_by=actor_id,
        seizures=tuple(form.seizures),
        notes=form.notes,
    )
    session.add(
        OutcomeRow(
            alert_id=alert_id,
            result=outcome.result,
            recorded_at=outcome.recorded_at,
            recorded_by=actor_id,
            seizures=[s.model_dump() for s in outcome.seizures],
            notes=outcome.notes,
        )
    )
    done = form.result.replace("_", " ")
    note_case(session, row.case_id, "outcome", f"{done} on alert {alert_id}", actor_id)
    return outcome


def search_alerts(session: Session, text: str, limit: int = 50) -> list[AlertRow]:
    """Alerts whose source event holds the text (a name, a document number...): a search
    of personal data, so the caller audits it. Case-insensitive; at least 3 characters."""
    needle = text.strip().lower()
    if len(needle) < 3:
        raise Refused("search for at least 3 characters")
    found = []
    for row in session.scalars(select(AlertRow).order_by(AlertRow.seq.desc()).limit(5000)):
        event = row.body.get("event")
        if event and needle in _flat_text(event):
            found.append(row)
            if len(found) >= limit:
                break
    return found


def _flat_text(value: Any) -> str:
    if isinstance(value, dict):
        return " ".join(_flat_text(v) for v in value.values())
    if isinstance(value, list | tuple):
        return " ".join(_flat_text(v) for v in value)
    return str(value).lower() if value is not None else ""


def flat_fields(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """An event as (dotted path, value) lines for a page, skipping empty values."""
    if isinstance(value, dict):
        out: list[tuple[str, str]] = []
        for k, v in value.items():
            if k != "schema_version":
                out += flat_fields(v, f"{prefix}{k}.")
        return out
    if isinstance(value, list | tuple):
        if value and all(not isinstance(v, dict | list) for v in value):
            return [(prefix.rstrip("."), ", ".join(str(v) for v in value))]
        out = []
        for i, v in enumerate(value):
            out += flat_fields(v, f"{prefix}{i + 1}.")
        return out
    if value in (None, ""):
        return []
    return [(prefix.rstrip("."), str(value))]
