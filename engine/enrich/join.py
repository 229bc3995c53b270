"""Booking (PNR) and API data about one traveller, put on one event.

PNRGOV pushes a flight's bookings from 72 hours before departure; the PAXLST
manifest of who actually boarded follows at check-in close. Each becomes a
``PassengerEvent`` of its own. This join remembers, per flight and traveller
(engine/normalise/travellers.py: flight key and folded name), what each source
said; whichever of the two arrives second is emitted carrying both:

- an API event gains the booking (record locator, contacts, payment, agency, bags,
  seat, co-travellers) and the booked itinerary when it is longer than the
  manifest's departure and arrival;
- a PNR event gains the travel document, and the traveller's details as the
  document gives them (date of birth, sex, nationality), and the reporting party.

So a rule sees one traveller's booking and document together on one event, in
whichever order the feeds deliver. The first of the two is scored on its own as it
arrives: there is no waiting, a manifest may never come.

The state is a ``JoinState`` per traveller and flight, kept as JSON bytes in a
changelog-backed store (engine/flow/state.py); ``events.passenger`` is keyed by
flight (engine/keys.py), so both halves of a traveller meet in one partition.
Entries are dropped a set time after their flight's departure, which the key names.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict

from engine.normalise.travellers import flight_key, name_key
from schemas import PassengerEvent
from schemas.passenger import Booking, TravelDocument

#: How long after its flight's departure a traveller's entry is kept.
DEFAULT_HORIZON = timedelta(days=2)


class ApiSide(BaseModel):
    """What the manifest said that the booking does not: the document and what it states."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    document: TravelDocument | None = None
    date_of_birth: date | None = None
    sex: Literal["F", "M", "X", "U"] | None = None
    nationality: str | None = None
    country_of_residence: str | None = None
    reporting_party: str | None = None


class PnrSide(BaseModel):
    """What the booking said that the manifest does not."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    booking: Booking
    route: tuple[str, ...] = ()


class JoinState(BaseModel):
    """One traveller on one flight: the API side and the PNR side, as far as known.

    Only what the other feed lacks is kept (names are in the key), and the store
    holds it as the JSON bytes its changelog carries: most entries are never read
    again (the other feed never comes, or comes once), so they are decoded only
    when they are.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    api: ApiSide | None = None
    pnr: PnrSide | None = None


def join_key(event: PassengerEvent) -> str:
    """Flight and folded name: how the two feeds name one traveller on one flight."""
    t = event.traveller
    return f"{flight_key(event.flight)}/{t.role}/{name_key(t.surname, t.given_names)}"


def merge(older: JoinState, newer: JoinState) -> JoinState:
    """What two writers saved for one key: each side from the newer when it has it."""
    return JoinState(api=newer.api or older.api, pnr=newer.pnr or older.pnr)


def merge_encoded(older: bytes, newer: bytes) -> bytes:
    """``merge`` over the stored JSON bytes."""
    merged = merge(JoinState.model_validate_json(older), JoinState.model_validate_json(newer))
    return merged.model_dump_json().encode("utf-8")


def join(event: PassengerEvent, state: JoinState | None) -> tuple[PassengerEvent, JoinState | None]:
    """The event with what the other feed said added, and the traveller's new state.

    Events of other sources (normalised JSON) pass through and keep no state.
    """
    if event.source == "api":
        t = event.traveller
        api = ApiSide(
            document=event.document, date_of_birth=t.date_of_birth, sex=t.sex,
            nationality=t.nationality, country_of_residence=t.country_of_residence,
            reporting_party=event.reporting_party,
        )
        new = JoinState(api=api, pnr=state.pnr if state else None)
        if new.pnr is None:
            return event, new
        pnr = new.pnr
        route = pnr.route if len(pnr.route) > len(event.route) else event.route
        return event.model_copy(update={"booking": pnr.booking, "route": route}), new
    if event.source == "pnr" and event.booking is not None:
        new = JoinState(api=state.api if state else None,
                        pnr=PnrSide(booking=event.booking, route=event.route))
        if new.api is None:
            return event, new
        a, t = new.api, event.traveller
        traveller = t.model_copy(update={
            "date_of_birth": a.date_of_birth or t.date_of_birth,
            "sex": a.sex or t.sex,
            "nationality": a.nationality or t.nationality,
            "country_of_residence": a.country_of_residence or t.country_of_residence,
        })
        return event.model_copy(update={
            "traveller": traveller,
            "document": event.document or a.document,
            "reporting_party": event.reporting_party or a.reporting_party,
        }), new
    return event, state


def departure_day(key: str) -> date | None:
    """The departure date a join key names (its flight key's second part).

    >>> departure_day("BA0012/2026-06-01/DXB/passenger/SAMPLE/ALEX")
    datetime.date(2026, 6, 1)
    """
    parts = key.split("/", 2)
    try:
        return date.fromisoformat(parts[1]) if len(parts) > 2 else None
    except ValueError:
        return None


def expired(key: str, now: datetime, horizon: timedelta = DEFAULT_HORIZON) -> bool:
    """True once the key's flight departed longer than ``horizon`` before ``now``
    (by date: an entry lives up to a day longer than the horizon)."""
    day = departure_day(key)
    return day is not None and day + horizon < now.date()
