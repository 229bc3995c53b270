"""FreightEvent: one consignment as declared before arrival."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from schemas.common import Record, personal


class Party(Record):
    """A trader named on a declaration (consignor, consignee, notify party, carrier)."""

    name: str = personal("The trader's name; a sole trader's is a person's.", max_length=200)
    address: str | None = personal("Postal address as given.", default=None, max_length=300)
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2.")
    trader_id: str | None = Field(default=None, max_length=40, description="EORI or similar.")
    phone: str | None = personal(
        default=None,
        max_length=40,
        description="Contact telephone number, visual separators removed (+447700900123); "
        "links a trader with a traveller who gives the same number.",
    )
    email: str | None = personal(
        default=None,
        max_length=254,
        description="Contact e-mail address, ASCII letters lower-cased; links a trader with "
        "a traveller who gives the same address.",
    )


class Arrival(Record):
    """Where and when the goods are expected."""

    place: str = Field(description="UN/LOCODE, e.g. GBFXT.", pattern=r"^[A-Z]{2}[A-Z0-9]{3}$")
    at: AwareDatetime


class MeansOfTransport(Record):
    """What carries the goods; which fields are set depends on the mode of transport."""

    vessel_imo: str | None = Field(default=None, pattern=r"^[0-9]{7}$")
    flight: str | None = Field(default=None, max_length=8)
    vehicle_registration: str | None = Field(default=None, max_length=15)
    trailer_registration: str | None = Field(default=None, max_length=15)


class GoodsItem(Record):
    """One goods item of the consignment."""

    hs_code: str = Field(pattern=r"^[0-9]{4,10}$", description="Harmonized System code, 4 to 10 digits.")
    description: str = Field(max_length=500)
    gross_mass_kg: float = Field(gt=0, le=1e7)
    packages: int = Field(ge=0, le=1_000_000)
    value: float = Field(ge=0, le=1e12)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    containers: tuple[str, ...] = Field(default=(), description="ISO 6346 container numbers.")
    origin_country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")


class FreightEvent(Record):
    """One consignment declaration."""

    mode: Literal["freight"] = "freight"
    event_id: str = Field(
        min_length=1, max_length=100, description="Deterministic id derived from the source and its id."
    )
    source: str = Field(max_length=20)
    source_id: str = Field(max_length=200)
    occurred_at: AwareDatetime = Field(description="When the declaration was lodged.")
    received_at: AwareDatetime
    declaration_id: str = Field(max_length=40)
    mode_of_transport: Literal["sea", "air", "road", "rail"]
    expected_arrival: Arrival
    carrier: Party | None = None
    means: MeansOfTransport = MeansOfTransport()
    consignor: Party
    consignee: Party
    notify_party: Party | None = None
    goods: tuple[GoodsItem, ...] = Field(min_length=1, max_length=999)
    routing_countries: tuple[str, ...] = Field(default=(), description="ISO alpha-2, in order.")
    place_of_loading: str | None = Field(default=None, pattern=r"^[A-Z]{2}[A-Z0-9]{3}$")
