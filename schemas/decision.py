"""Finding, Score, Alert: what the engine decided about an event, and why."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from schemas.common import Record
from schemas.freight import FreightEvent
from schemas.passenger import PassengerEvent
from schemas.vessel import VesselEvent

RuleStatus = Literal["live", "shadow", "off"]
ModelRole = Literal["champion", "challenger", "off"]
ModelKind = Literal["anomaly", "yield"]
Severity = Literal["low", "medium", "high"]
Mode = Literal["passenger", "freight", "vessel"]
EvidenceValue = str | int | float | bool | None


class Finding(Record):
    """One rule's verdict on one event: a score in [0, 1] and the reason."""

    rule_id: str
    rule_version: str = ""
    status: RuleStatus = "live"
    score: float = Field(ge=0.0, le=1.0)
    detail: str = Field(min_length=1, max_length=500, description="Plain words, no personal data.")
    evidence: dict[str, EvidenceValue] = Field(default_factory=dict)


class Contribution(Record):
    """How much one input moved a model's score: the score minus the score without it."""

    feature: str = Field(max_length=120, description="A feature name, never a personal value.")
    effect: float


class ModelScore(Record):
    """One model's score of one event, with the inputs that moved it most."""

    model_id: str
    model_version: str = Field(description="The model file's version and how many examples it has learned.")
    kind: ModelKind
    role: ModelRole = Field(description="A challenger is scored and recorded, never used for a decision.")
    score: float = Field(ge=0.0, le=1.0, description="Anomaly: how unusual; yield: chance of a find.")
    top_features: tuple[Contribution, ...] = ()


class TypologyPart(Record):
    """One input of a typology's score: a live rule finding or a champion model's score."""

    source: Literal["rule", "model"]
    id: str = Field(description="The rule's or the model's id.")
    score: float = Field(ge=0.0, le=1.0)
    weight: float = Field(ge=0.0, le=2.0)


class TypologyResult(Record):
    """How much an event fits a named risk pattern, and the band (severity, reason) it reaches."""

    typology_id: str
    title: str
    score: float = Field(
        ge=0.0, le=1.0, description="Noisy-OR of the parts, each its score times its weight."
    )
    severity: Severity | None = Field(default=None, description="The band reached; None below the first.")
    reason: str | None = Field(default=None, description="The band's reason, for the officer.")
    parts: tuple[TypologyPart, ...] = ()


class Score(Record):
    """The score record for EVERY event: the audit trail of decisions."""

    event_id: str
    mode: Mode
    key: str
    occurred_at: AwareDatetime
    received_at: AwareDatetime
    findings: tuple[Finding, ...] = Field(description="Live and shadow findings alike.")
    rule_versions: dict[str, str] = Field(description="Every rule that ran, with its version.")
    final_score: float = Field(ge=0.0, le=1.0, description="Combined score of the live findings.")
    severity: Severity | None = None
    alert_id: str | None = Field(default=None, description="Set when this score raised an alert.")
    model_scores: tuple[ModelScore, ...] = Field(default=(), description="Champion and challenger models.")
    yield_estimate: float | None = Field(
        default=None, ge=0.0, le=1.0,
        description="The champion yield model's chance of a find, once it has learned enough.",
    )
    typologies: tuple[TypologyResult, ...] = Field(
        default=(), description="Every typology the event scores on, best first: the first decides.",
    )
    case_id: str | None = Field(default=None, description="The case of its alert (engine/alert/cases.py).")
    suppressed_by: str | None = Field(
        default=None,
        description="An alert was due but not sent: this earlier alert on the same subject and "
                    "typology, within the suppression window, covers it.",
    )


class Alert(Record):
    """A hit for the operations centre. The id is deterministic: replays do not duplicate."""

    alert_id: str
    event_id: str
    mode: Mode
    key: str
    severity: Severity
    score: float = Field(ge=0.0, le=1.0)
    findings: tuple[Finding, ...] = Field(min_length=1, description="The live findings behind it.")
    explanation: str
    raised_at: AwareDatetime = Field(description="When the triggering event was received.")
    arrives_at: AwareDatetime | None = Field(
        default=None, description="When the traveller, goods or ship arrives, where the event says."
    )
    priority: float = Field(
        default=0.0, ge=0.0, le=100.0,
        description="Severity (or the learned chance of a find) weighted by how soon the arrival is "
                    "(engine/alert/priority.py): higher first.",
    )
    model_scores: tuple[ModelScore, ...] = ()
    yield_estimate: float | None = Field(default=None, ge=0.0, le=1.0)
    typology: TypologyResult | None = Field(
        default=None, description="The typology and band that raised it (link and network alerts: none).",
    )
    subject: str | None = Field(
        default=None, description="The entity it is about, as the link graph's entity id (a hash).",
    )
    case_id: str | None = Field(
        default=None, description="Alerts on one subject, from any mode, share a case.",
    )
    features: dict[str, float] = Field(
        default_factory=dict, description="The models' inputs as scored: joined with the outcome to learn."
    )
    event: PassengerEvent | FreightEvent | VesselEvent | None = Field(
        default=None, discriminator="mode",
        description="The event that raised it, as normalised, so the operations centre can show "
                    "it (masked) without reading the event topics. Link and network alerts: none.",
    )
