"""PassengerEvent: one traveller on one movement (API and, when present, PNR data)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import AwareDatetime, Field

from schemas.common import PERSONAL_KEY, PROTECTED_KEY, Record, personal, protected


class Flight(Record):
    """The flight the traveller is on."""

    carrier: str = Field(description="IATA airline designator.", min_length=2, max_length=3)
    number: str = Field(description="Flight number without the carrier.", min_length=1, max_length=5)
    departure_airport: str = Field(description="IATA code of the departure airport.", pattern=r"^[A-Z]{3}$")
    arrival_airport: str = Field(description="IATA code of the arrival airport.", pattern=r"^[A-Z]{3}$")
    scheduled_departure: AwareDatetime
    scheduled_arrival: AwareDatetime


class Traveller(Record):
    """The person travelling. Names are personal data; marked fields are protected."""

    role: Literal["passenger", "crew"] = "passenger"
    given_names: str = personal("Given names as on the document.", max_length=200)
    surname: str = personal("Surname as on the document.", max_length=200)
    date_of_birth: date | None = Field(
        default=None, description="Date of birth.",
        json_schema_extra={PROTECTED_KEY: True, PERSONAL_KEY: True},
    )
    sex: Literal["F", "M", "X", "U"] | None = protected("Sex as on the travel document.", default=None)
    nationality: str | None = protected(
        "Nationality, ISO 3166-1 alpha-3 as on travel documents.",
        default=None,
        pattern=r"^[A-Z]{3}$",
    )
    country_of_residence: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")


class TravelDocument(Record):
    """The document the traveller presented or reported."""

    type: Literal["passport", "id_card", "visa", "other"] = "passport"
    number: str = personal("The document number.", min_length=1, max_length=40)
    issuing_state: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 3166-1 alpha-3.")
    expiry: date | None = None


class Address(Record):
    """A postal address as given."""

    line: str = personal("Street and house.", max_length=300)
    city: str | None = Field(default=None, max_length=100)
    postcode: str | None = personal("Postcode.", default=None, max_length=20)
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2,3}$")


class Booking(Record):
    """PNR data about the booking; absent for API-only events."""

    record_locator: str = personal(
        "As the airline gives it (usually 6 characters).", min_length=1, max_length=8
    )
    booked_at: AwareDatetime
    agency: str | None = Field(default=None, max_length=100)
    payment_type: Literal["card", "cash", "invoice", "voucher", "miles", "other"] | None = None
    payment_instrument_hash: str | None = personal(
        "Salted hash of the card or account number; never the number itself.",
        default=None,
        pattern=r"^[0-9a-f]{16,64}$",
    )
    phones: tuple[str, ...] = personal("Contact telephone numbers.", default=())
    emails: tuple[str, ...] = personal("Contact e-mail addresses.", default=())
    address: Address | None = None
    co_travellers: tuple[str, ...] = personal(
        "Names of the other travellers on the same record.", default=()
    )
    bags: int | None = Field(default=None, ge=0, le=50)
    seat: str | None = Field(default=None, max_length=4)


class PassengerEvent(Record):
    """One traveller on one movement."""

    mode: Literal["passenger"] = "passenger"
    event_id: str = Field(
        min_length=1, max_length=100, description="Deterministic id derived from the source and its id."
    )
    source: str = Field(description="Which feed this came from: api, pnr, json.", max_length=20)
    source_id: str = Field(description="The source message's own id.", max_length=200)
    occurred_at: AwareDatetime = Field(description="When the source message was created.")
    received_at: AwareDatetime = Field(description="When gatehound received it.")
    flight: Flight
    route: tuple[str, ...] = Field(default=(), description="IATA airports in travel order.")
    traveller: Traveller
    document: TravelDocument | None = None
    booking: Booking | None = None
    reporting_party: str | None = Field(
        default=None, max_length=100, description="Who sent the data: the carrier or its agent."
    )
