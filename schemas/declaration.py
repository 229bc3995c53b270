"""ConsignmentDeclaration: the consignment declaration as a trader or carrier lodges it.

The ``raw.freight`` feed carries one JSON object per message, shaped after the data
elements of the EU entry summary declaration (ENS) that ICS2 collects before goods
reach the customs territory, cut down to what targeting uses:

- the declaration: its id (MRN or the filer's reference), when it was lodged, the
  mode of transport (sea, air, road, rail) and the means of transport (a vessel's IMO
  number and name, a flight number, a lorry's and its trailer's registrations, a
  train's id; only the ones that fit the mode may be given);
- the parties: consignor, consignee, optionally notify party and carrier, each with
  a name, a postal address, a trader id (EORI or similar), a phone and an e-mail;
- the goods items, numbered from 1: HS commodity code, description, gross mass,
  packages (count and UN/ECE Recommendation 21 kind code), value and currency, the
  ISO 6346 numbers of the containers they travel in, country of origin;
- the route: place of loading and place of discharge (UN/LOCODE), the countries of
  routing in order, and the expected arrival (place of first entry and time).

A sea declaration, compactly::

    {"schema_version": 1, "declaration_id": "25GB3F8K2M9Q1X7Z4A",
     "lodged_at": "2025-03-01T08:00:00Z", "mode_of_transport": "sea",
     "means_of_transport": {"vessel_imo": "9074729", "vessel_name": "EXAMPLE STAR"},
     "consignor": {"name": "Sample Exports Co., Ltd.", "address": {"country": "CN", ...}},
     "consignee": {...}, "goods_items": [{"sequence_number": 1, "hs_code": "090111", ...}],
     "place_of_loading": "CNSHA", "place_of_discharge": "GBFXT",
     "countries_of_routing": ["CN", "SG", "GB"],
     "expected_arrival": {"place": "GBFXT", "at": "2025-03-09T06:00:00Z"}}

Beyond what the JSON Schema can say, validation also checks the code lists: every
country code is one ISO 3166-1 knows, every UN/LOCODE names such a country, every
HS code's chapter exists. A container number must have the ISO 6346 *shape* and an
IMO number seven digits, but their check digits are deliberately not checked here:
a declaration quoting a made-up number is still taken and screened, and the rule
``freight_container_check_digit`` flags it (engine/normalise/declaration.py says why).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from schemas.codes import country2_valid, hs_code_valid, unlocode_valid
from schemas.common import Record

#: ISO 6346: owner code (three letters), equipment category (U, J or Z), six-digit
#: serial number, check digit. Only the shape; the check digit is screened by a rule.
CONTAINER_PATTERN = r"^[A-Z]{3}[UJZ][0-9]{7}$"
#: IMO ship identification number: seven digits, the last a check digit (screened, not refused).
IMO_PATTERN = r"^[0-9]{7}$"


def _known_country(code: str) -> str:
    if not country2_valid(code):
        raise PydanticCustomError("unknown_country", "not an ISO 3166-1 alpha-2 country code")
    return code


def _known_locode_country(code: str) -> str:
    if not unlocode_valid(code):
        raise PydanticCustomError("unknown_locode_country", "the UN/LOCODE's country is not in ISO 3166-1")
    return code


def _known_hs_chapter(code: str) -> str:
    if not hs_code_valid(code):
        raise PydanticCustomError("unknown_hs_chapter", "the HS code's chapter does not exist")
    return code


Country = Annotated[
    str,
    Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 country code."),
    AfterValidator(_known_country),
]
Locode = Annotated[
    str,
    Field(
        pattern=r"^[A-Z]{2}[A-Z2-9]{3}$",
        description="UN/LOCODE: ISO 3166-1 alpha-2 country code and three letters or digits 2-9.",
    ),
    AfterValidator(_known_locode_country),
]
HsCode = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{4,10}$",
        description="Harmonized System commodity code, 4 to 10 digits, no dots; "
        "its first two digits must name an HS chapter (01-97, not 77).",
    ),
    AfterValidator(_known_hs_chapter),
]
ContainerNumber = Annotated[
    str,
    Field(
        pattern=CONTAINER_PATTERN,
        description="ISO 6346 container number: owner code, category U/J/Z, serial, check digit.",
    ),
]

#: Which means-of-transport fields each mode may carry.
MEANS_BY_MODE: dict[str, frozenset[str]] = {
    "sea": frozenset({"vessel_imo", "vessel_name"}),
    "air": frozenset({"flight"}),
    "road": frozenset({"vehicle_registration", "trailer_registration"}),
    "rail": frozenset({"train_id"}),
}

_MEANS_FIELDS = frozenset().union(*MEANS_BY_MODE.values())


class PostalAddress(Record):
    """A party's postal address; the country is always given."""

    street: str | None = Field(
        default=None, min_length=1, max_length=150, description="Street and number, or PO box."
    )
    city: str | None = Field(default=None, min_length=1, max_length=100, description="City or town.")
    postcode: str | None = Field(default=None, min_length=1, max_length=20, description="Postal code.")
    country: Country


class DeclaredParty(Record):
    """A trader named on the declaration: consignor, consignee, notify party or carrier."""

    name: str = Field(min_length=1, max_length=200, description="Name of the person or company.")
    address: PostalAddress | None = Field(default=None, description="Postal address.")
    trader_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9]{1,40}$",
        description="Trader identification number: EORI (country code and up to 15 characters) "
        "or a third-country trader id.",
    )
    phone: str | None = Field(
        default=None,
        pattern=r"^\+?[0-9(][0-9 ().-]{2,37}[0-9]$",
        description="Telephone number, preferably in ITU-T E.123 international form (+44 7700 900123).",
    )
    email: str | None = Field(
        default=None,
        max_length=254,
        pattern=r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$",
        description="E-mail address.",
    )


class TransportMeans(Record):
    """The active means of transport crossing the border; only the fields of its mode."""

    vessel_imo: str | None = Field(
        default=None,
        pattern=IMO_PATTERN,
        description="Sea: IMO ship identification number, seven digits (no 'IMO' prefix).",
    )
    vessel_name: str | None = Field(
        default=None, min_length=1, max_length=35, description="Sea: vessel name."
    )
    flight: str | None = Field(
        default=None,
        pattern=r"^[A-Z0-9]{2}[A-Z]?[0-9]{1,4}[A-Z]?$",
        description="Air: flight number, airline designator then number (BA0117).",
    )
    vehicle_registration: str | None = Field(
        default=None,
        pattern=r"^[A-Z0-9][A-Z0-9 -]{0,14}$",
        description="Road: registration of the motor vehicle.",
    )
    trailer_registration: str | None = Field(
        default=None,
        pattern=r"^[A-Z0-9][A-Z0-9 -]{0,14}$",
        description="Road: registration of the trailer or semi-trailer.",
    )
    train_id: str | None = Field(
        default=None, pattern=r"^[A-Z0-9][A-Z0-9 -]{0,34}$", description="Rail: train number."
    )


class Packaging(Record):
    """How a goods item is packed."""

    count: int = Field(ge=0, le=1_000_000, description="Number of packages (0 for goods in bulk).")
    kind: str | None = Field(
        default=None,
        pattern=r"^[A-Z0-9]{2}$",
        description="Kind of packages, UN/ECE Recommendation 21 code (CT carton, PK package, PX pallet).",
    )


class DeclaredGoodsItem(Record):
    """One goods item of the consignment."""

    sequence_number: int = Field(ge=1, le=999, description="Goods item number, unique in the declaration.")
    hs_code: HsCode
    description: str = Field(
        min_length=1, max_length=500, description="Plain-language description of the goods."
    )
    gross_mass_kg: float = Field(gt=0, le=1e7, description="Gross mass in kilograms, packing included.")
    packages: Packaging = Field(description="Number and kind of packages.")
    value: float = Field(ge=0, le=1e12, description="Declared value of the goods item.")
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 currency of the value.")
    containers: tuple[ContainerNumber, ...] = Field(
        default=(), max_length=99, description="Containers the item travels in (ISO 6346 numbers)."
    )
    country_of_origin: Country | None = Field(default=None, description="Where the goods were produced.")


class ArrivalEstimate(Record):
    """The expected arrival at the first place of entry."""

    place: Locode = Field(description="UN/LOCODE of the first place of entry.")
    at: AwareDatetime = Field(description="Expected date and time of arrival, with its UTC offset.")


class ConsignmentDeclaration(Record):
    """One consignment declaration (entry summary declaration) as lodged."""

    declaration_id: str = Field(
        min_length=1,
        max_length=40,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$",
        description="Declaration reference: MRN, or the filer's own reference number.",
    )
    lodged_at: AwareDatetime = Field(description="When the declaration was lodged, with its UTC offset.")
    mode_of_transport: Literal["sea", "air", "road", "rail"] = Field(
        description="Mode of transport at the border."
    )
    means_of_transport: TransportMeans = Field(
        default=TransportMeans(),
        description="Identity of the active means of transport; only the fields of the mode may be set.",
    )
    carrier: DeclaredParty | None = Field(
        default=None, description="Carrier operating the means of transport."
    )
    consignor: DeclaredParty = Field(description="Party sending the goods (shipper).")
    consignee: DeclaredParty = Field(description="Party the goods are sent to.")
    notify_party: DeclaredParty | None = Field(default=None, description="Party to notify on arrival.")
    goods_items: tuple[DeclaredGoodsItem, ...] = Field(
        min_length=1, max_length=999, description="Goods items, sequence numbers unique."
    )
    place_of_loading: Locode = Field(description="UN/LOCODE where the goods were loaded.")
    place_of_discharge: Locode = Field(description="UN/LOCODE where the goods will be unloaded.")
    countries_of_routing: tuple[Country, ...] = Field(
        default=(), max_length=99, description="Countries the consignment passes through, in order."
    )
    expected_arrival: ArrivalEstimate = Field(description="Expected arrival at the first place of entry.")

    @field_validator("means_of_transport")
    @classmethod
    def _means_fit_the_mode(cls, means: TransportMeans, info: ValidationInfo) -> TransportMeans:
        mode = info.data.get("mode_of_transport")
        if mode is None:  # the mode itself failed validation and is reported there
            return means
        given = {name for name in _MEANS_FIELDS if getattr(means, name) is not None}
        if given - MEANS_BY_MODE[mode]:
            raise PydanticCustomError("means_not_of_mode", "a means of transport of another mode is given")
        return means

    @field_validator("goods_items")
    @classmethod
    def _sequence_numbers_unique(cls, items: tuple[DeclaredGoodsItem, ...]) -> tuple[DeclaredGoodsItem, ...]:
        numbers = [item.sequence_number for item in items]
        if len(set(numbers)) != len(numbers):
            raise PydanticCustomError("duplicate_sequence_number", "two goods items share a sequence number")
        return items
