"""EnrichedEvent: an event with the facts later stages need to judge it."""

from __future__ import annotations

from typing import Annotated

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


class EnrichedEvent(Record):
    """An event with reference facts and (for vessels) track features."""

    key: str = Field(description="Partition key: the entity the event is about.")
    event: Event
    reference: ReferenceFacts = ReferenceFacts()
    track: TrackFeatures | None = None
