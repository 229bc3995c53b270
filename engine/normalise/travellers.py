"""Who is who across passenger feeds: flight keys, name keys and source ids.

API (PAXLST) and PNR (PNRGOV) data about one traveller arrive in different messages,
hours apart, with the names spelt by different systems. Both parsers derive their
ids here, and the join that puts booking and API data on one event matches on the
keys made here, so the three cannot drift apart.

Source ids are hashes: an id travels further than the event it names (logs, keys,
dead letters), and a traveller's name or document number must not travel with it.
"""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import UTC, tzinfo
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

import airportsdata

from schemas.passenger import Flight, TravelDocument, Traveller


def flight_key(flight: Flight) -> str:
    """Carrier, number (zero-padded to four digits), departure date and airport.

    >>> from datetime import datetime, UTC
    >>> at = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
    >>> flight_key(Flight(carrier="BA", number="12", departure_airport="DXB",
    ...     arrival_airport="LHR", scheduled_departure=at, scheduled_arrival=at))
    'BA0012/2026-06-01/DXB'
    """
    number = flight.number.zfill(4) if flight.number.isdigit() else flight.number
    day = flight.scheduled_departure.date().isoformat()
    return f"{flight.carrier}{number}/{day}/{flight.departure_airport}"


def name_key(surname: str, given_names: str) -> str:
    """Names folded to compare across systems: ASCII capitals, titles and spaces dropped.

    >>> name_key("O'Néil", "Ann Marie MRS")
    'ONEIL/ANNMARIE'
    """
    return f"{_fold(surname)}/{_fold(_drop_title(given_names))}"


_TITLES = ("MR", "MRS", "MS", "MISS", "MSTR", "DR", "PROF")


def _drop_title(given: str) -> str:
    words = given.upper().split()
    while len(words) > 1 and words[-1] in _TITLES:
        words.pop()
    return " ".join(words)


def _fold(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(c for c in ascii_text.upper() if c.isalpha())


DocumentType = Literal["passport", "id_card", "visa", "other"]


def document_type(code: str) -> DocumentType:
    """The kind of a travel document from its ICAO 9303 type code (P..., I..., V...).

    >>> document_type("PM"), document_type("ID"), document_type("V"), document_type("AC")
    ('passport', 'id_card', 'visa', 'other')
    """
    code = code.strip().upper()
    if code.startswith("P"):
        return "passport"
    if code.startswith("I"):
        return "id_card"
    if code.startswith("V"):
        return "visa"
    return "other"


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def api_source_id(flight: Flight, traveller: Traveller, document: TravelDocument | None) -> str:
    """The id of one traveller on one flight in API data.

    A manifest sent again (at check-in close, then at departure) names the same
    travellers, so it gives the same ids and downstream drops the repeats.
    """
    if document is not None:
        who = f"{document.issuing_state}:{document.number.upper()}"
    else:
        who = f"{name_key(traveller.surname, traveller.given_names)}:{traveller.date_of_birth or ''}"
    return _digest("api", flight_key(flight), traveller.role, who)


def pnr_source_id(flight: Flight, record_locator: str, traveller: Traveller) -> str:
    """The id of one traveller of one booking (record locator) on one flight."""
    return _digest(
        "pnr", flight_key(flight), record_locator.upper(),
        name_key(traveller.surname, traveller.given_names),
    )


@lru_cache(maxsize=1)
def _airport_zones() -> dict[str, str]:
    return {code: info["tz"] for code, info in airportsdata.load("IATA").items() if info.get("tz")}


@lru_cache(maxsize=1024)
def airport_zone(code: str) -> tzinfo:
    """The time zone of an IATA airport (airportsdata), UTC for one it does not know.

    PAXLST and PNRGOV give flight times in the local time of the airport they
    describe; both parsers (and their writers) convert with these zones, so the
    two feeds agree on a flight's UTC times and on its ``flight_key``.

    >>> str(airport_zone("LHR")), str(airport_zone("QQQ"))
    ('Europe/London', 'UTC')
    """
    name = _airport_zones().get(code)
    if name:
        try:
            return ZoneInfo(name)
        except (ValueError, OSError):  # a zone the system's tz database lacks
            pass
    return UTC
