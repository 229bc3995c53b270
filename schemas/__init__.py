"""The contracts of gatehound: pydantic models, the source of truth for every topic."""

from schemas.audit import AuditRecord
from schemas.common import PERSONAL_KEY, PROTECTED_KEY, SCHEMA_VERSION, Record, stable_id
from schemas.deadletter import DeadLetter
from schemas.decision import Alert, Finding, Score
from schemas.declaration import ConsignmentDeclaration
from schemas.enriched import (
    EnrichedEvent,
    Event,
    ReferenceFacts,
    ScreeningHit,
    TrackFeatures,
    TrackFix,
)
from schemas.freight import FreightEvent
from schemas.link import HubNotice, Link, MemberNote, NetworkFeatures, NetworkView
from schemas.outcome import Outcome
from schemas.passenger import PassengerEvent
from schemas.vessel import VesselEvent

#: Every top-level contract, by the name its JSON Schema file carries.
CONTRACTS: dict[str, type[Record]] = {
    "PassengerEvent": PassengerEvent,
    "FreightEvent": FreightEvent,
    "VesselEvent": VesselEvent,
    "EnrichedEvent": EnrichedEvent,
    "Link": Link,
    "MemberNote": MemberNote,
    "NetworkView": NetworkView,
    "HubNotice": HubNotice,
    "NetworkFeatures": NetworkFeatures,
    "Finding": Finding,
    "Score": Score,
    "Alert": Alert,
    "Outcome": Outcome,
    "DeadLetter": DeadLetter,
    "AuditRecord": AuditRecord,
    # Not on a topic of ours as such: the feed format of raw.freight that producers write.
    "ConsignmentDeclaration": ConsignmentDeclaration,
}

__all__ = [
    "CONTRACTS",
    "PERSONAL_KEY",
    "PROTECTED_KEY",
    "SCHEMA_VERSION",
    "Alert",
    "AuditRecord",
    "ConsignmentDeclaration",
    "DeadLetter",
    "EnrichedEvent",
    "Event",
    "Finding",
    "FreightEvent",
    "HubNotice",
    "Link",
    "MemberNote",
    "NetworkFeatures",
    "NetworkView",
    "Outcome",
    "PassengerEvent",
    "ReferenceFacts",
    "Record",
    "Score",
    "ScreeningHit",
    "TrackFeatures",
    "TrackFix",
    "VesselEvent",
    "stable_id",
]
