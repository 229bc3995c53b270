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

The state is a ``JoinState`` per traveller and flight, in a changelog-backed store
(engine/flow/state.py) in the workers and a plain dict in replay; ``events.passenger``
is keyed by flight (engine/keys.py), so both halves of a traveller meet in one
partition. Entries are dropped a set time after their flight's departure.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict

from engine.normalise.travellers import flight_key, name_key
from schemas import PassengerEvent
from schemas.passenger import Booking, TravelDocument, Traveller

#: How long after its flight's departure a traveller's entry is kept.
DEFAULT_HORIZON = timedelta(days=2)


class Side(BaseModel):
    """What one source said about the traveller."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    traveller: Traveller
    document: TravelDocument | None = None
    booking: Booking | None = None
    route: tuple[str, ...] = ()
    reporting_party: str | None = None


class JoinState(BaseModel):
    """One traveller on one flight: the API side and the PNR side, as far as known."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    departs: AwareDatetime
    api: Side | None = None
    pnr: Side | None = None


def join_key(event: PassengerEvent) -> str:
    """Flight and folded name: how the two feeds name one traveller on one flight."""
    t = event.traveller
    return f"{flight_key(event.flight)}/{t.role}/{name_key(t.surname, t.given_names)}"


def merge(older: JoinState, newer: JoinState) -> JoinState:
    """What two writers saved for one key: each side from the newer when it has it."""
    return JoinState(
        departs=newer.departs, api=newer.api or older.api, pnr=newer.pnr or older.pnr
    )


def join(event: PassengerEvent, state: JoinState | None) -> tuple[PassengerEvent, JoinState | None]:
    """The event with what the other feed said added, and the traveller's new state.

    Events of other sources (normalised JSON) pass through and keep no state.
    """
    if event.source not in ("api", "pnr"):
        return event, state
    side = Side(
        traveller=event.traveller, document=event.document, booking=event.booking,
        route=event.route, reporting_party=event.reporting_party,
    )
    departs = event.flight.scheduled_departure
    if event.source == "api":
        new = JoinState(departs=departs, api=side, pnr=state.pnr if state else None)
        pnr = new.pnr
        if pnr is None or pnr.booking is None:
            return event, new
        route = pnr.route if len(pnr.route) > len(event.route) else event.route
        return event.model_copy(update={"booking": pnr.booking, "route": route}), new
    new = JoinState(departs=departs, api=state.api if state else None, pnr=side)
    api = new.api
    if api is None:
        return event, new
    t = event.traveller
    traveller = t.model_copy(update={
        "date_of_birth": api.traveller.date_of_birth or t.date_of_birth,
        "sex": api.traveller.sex or t.sex,
        "nationality": api.traveller.nationality or t.nationality,
        "country_of_residence": api.traveller.country_of_residence or t.country_of_residence,
    })
    return event.model_copy(update={
        "traveller": traveller,
        "document": event.document or api.document,
        "reporting_party": event.reporting_party or api.reporting_party,
    }), new


def expired(state: JoinState, now: AwareDatetime, horizon: timedelta = DEFAULT_HORIZON) -> bool:
    """True once the flight departed longer than ``horizon`` before ``now``."""
    return state.departs + horizon < now
