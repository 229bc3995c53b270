"""EnrichedEvent: an event with the facts later stages need to judge it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from schemas.common import Record
from schemas.freight import FreightEvent
from schemas.passenger import PassengerEvent
from schemas.vessel import Position, VesselEvent

Event = Annotated[PassengerEvent | FreightEvent | VesselEvent, Field(discriminator="mode")]


class ReferenceFacts(Record):
    """What reference data says about the places in the event."""

    countries: tuple[str, ...] = Field(
        default=(), description="ISO alpha-2 countries the movement touches, in order."
    )
    high_risk_countries: tuple[str, ...] = Field(
        default=(), description="Those of `countries` on the configured high-risk list."
    )
    high_risk_routes: tuple[str, ...] = Field(
        default=(), description="Configured high-risk routes the movement follows, as 'FROM-TO'."
    )
    unknown_codes: tuple[str, ...] = Field(
        default=(), description="Airport, country or location codes reference data does not know."
    )
    arrival_country: str | None = None


class TrackFix(Record):
    """One earlier position of the same vessel, from the scoring stage's state."""

    event_id: str
    observed_at: AwareDatetime
    position: Position | None = None


class TrackFeatures(Record):
    """The vessel's previous report, for rules that judge movement over time."""

    previous: TrackFix | None = None
    seconds_since_previous: float | None = None
    implied_speed_knots: float | None = Field(
        default=None, description="Great-circle distance from the previous fix over the time taken."
    )
    imo: str | None = Field(
        default=None, description="The IMO number the report gives, or the last one the vessel gave before."
    )


class ScreeningHit(Record):
    """A watchlist entry that one party of the event matched, how well and why."""

    subject: Literal["traveller", "consignor", "consignee", "notify_party", "carrier", "vessel"] = Field(
        description="Which party of the event matched."
    )
    list: str = Field(max_length=100, description="The watchlist, e.g. sanctions or wanted persons.")
    list_version: str = Field(max_length=100, description="The version of the list screened against.")
    entity_id: str = Field(max_length=200, description="The listed entity's id in its list.")
    entity_schema: str = Field(max_length=40, description="FollowTheMoney schema: Person, Vessel...")
    score: float = Field(ge=0.0, le=1.0)
    explanation: str = Field(
        max_length=1000, description="Which parts matched and how; may quote the listed names."
    )
    changed: tuple[Literal["name", "flag"], ...] = Field(
        default=(),
        description="For a vessel matched by IMO or MMSI: what it now reports differently from its "
        "listing (a new name, a flag the list does not give it).",
    )


class EnrichedEvent(Record):
    """An event with reference facts, watchlist hits and (for vessels) track features."""

    key: str = Field(description="Partition key: the entity the event is about.")
    event: Event
    reference: ReferenceFacts = ReferenceFacts()
    screening: tuple[ScreeningHit, ...] = Field(
        default=(), description="Watchlist hits of the event's people, companies or vessel."
    )
    watchlist_versions: dict[str, str] = Field(
        default_factory=dict, description="Every list screened against, with its version."
    )
    track: TrackFeatures | None = None
