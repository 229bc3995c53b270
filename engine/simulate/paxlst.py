"""Writing PAXLST interchanges from PassengerEvents: API data as an airline would send it.

The simulator and the tests use this to make input for ``engine/normalise/paxlst.py``,
so it writes every field that reader takes, in the layout the WCO/IATA/ICAO API
guidelines describe:

- passengers and crew go in separate messages, ``BGM+745`` (passenger list) and
  ``BGM+250`` (crew list), travellers as ``NAD+FL`` and ``NAD+FM``;
- a list longer than ``max_per_message`` is split into parts, each with the whole
  flight header, the same common access reference in UNH element 3 (designator,
  local departure date and time) and its place in UNH element 4 (``01:C``,
  ``02:C`` ... ``NN:F``); a list that fits one message has no element 4;
- the header: ``NAD+MS`` (reporting party), ``TDT+20`` (designator, the number
  zero-padded to four digits, and the carrier in element 5), ``LOC+125``/``DTM+189``
  and ``LOC+87``/``DTM+232`` with times local at each airport (format 201),
  ``LOC+92`` for each airport of the route;
- per traveller: ``NAD`` names (surname, given names), ``ATT+2`` sex, ``DTM+329``
  date of birth, ``LOC+174`` residence, ``LOC+178``/``LOC+179`` embarkation and
  debarkation (the flight's airports), ``NAT+2``, ``DOC`` (P, I, V, or AC for
  ``other``), ``DTM+36`` expiry and ``LOC+91`` issuing state;
- ``CNT+42`` (passengers) or ``CNT+41`` (crew): the travellers in that message.

Dates have two-digit years (``YYMMDD``) as airlines write them, unless the reader's
century rule would misread them (a date of birth a hundred years or more before the
flight; an expiry half a century away): those get four (format 102).

The character set is UNOB when every value is ASCII, else UNOY (UTF-8).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from engine.normalise.travellers import airport_zone
from engine.simulate.edifact import Group, Message, interchange, segment
from schemas.passenger import Flight, PassengerEvent

MESSAGE_TYPE = ("PAXLST", "D", "05B", "UN", "IATA")
#: role -> (BGM code, NAD qualifier, CNT qualifier)
LISTS = {"passenger": ("745", "FL", "42"), "crew": ("250", "FM", "41")}
DOCUMENT_CODES = {"passport": "P", "id_card": "I", "visa": "V", "other": "AC"}


def paxlst_interchange(
    events: Sequence[PassengerEvent],
    *,
    reference: str,
    sender: str,
    recipient: str,
    prepared_at: datetime,
    max_per_message: int = 100,
    group: bool = True,
    with_una: bool = True,
    newlines: bool = True,
) -> bytes:
    """One interchange with the passenger and crew lists of one flight.

    ``group`` wraps the messages in a UNG/UNE functional group; ``with_una`` and
    ``newlines`` choose whether the UNA and a line break after each segment are
    written. Raises ValueError for no events, events of several flights, or
    ``max_per_message`` below 1.
    """
    if not events:
        raise ValueError("a manifest needs at least one traveller")
    if max_per_message < 1:
        raise ValueError("max_per_message must be at least 1")
    flight = events[0].flight
    if any(event.flight != flight for event in events):
        raise ValueError("every event of a manifest must be on the same flight")
    party = next((e.reporting_party for e in events if e.reporting_party), None)
    departure = _local(flight.scheduled_departure, flight.departure_airport)
    designator = f"{flight.carrier}{flight.number.zfill(4) if flight.number.isdigit() else flight.number}"
    access_reference = f"{designator}/{departure:%y%m%d}/{departure:%H%M}"
    header = _flight_header(flight, events[0].route, party, designator)

    messages: list[Message] = []
    for role, (list_code, nad, count) in LISTS.items():
        travellers = [e for e in events if e.traveller.role == role]
        parts = [travellers[i : i + max_per_message] for i in range(0, len(travellers), max_per_message)]
        for index, part in enumerate(parts, start=1):
            body = [segment("BGM", list_code), *header]
            for event in part:
                body += _traveller(event, nad, departure.date())
            body.append(segment("CNT", (count, str(len(part)))))
            extra: list[str | tuple[str, str]] = [access_reference]
            if len(parts) > 1:
                extra.append((f"{index:02d}", "F" if index == len(parts) else "C"))
            messages.append(Message(str(len(messages) + 1), MESSAGE_TYPE, body, extra))

    prepared = prepared_at.astimezone(UTC) if prepared_at.tzinfo else prepared_at
    values = [sender, recipient, *(line for m in messages for line in m.render())]
    syntax = ("UNOB", "4") if all(v.isascii() for v in values) else ("UNOY", "4")
    return interchange(
        messages,
        sender=sender,
        recipient=recipient,
        prepared_at=prepared,
        reference=reference,
        syntax=syntax,
        group=Group("PAXLST", sender, recipient, reference) if group else None,
        with_una=with_una,
        newlines=newlines,
    )


def _local(when: datetime, airport: str) -> datetime:
    """Local time at the airport, as PAXLST carries it."""
    return when.astimezone(airport_zone(airport)).replace(tzinfo=None)


def _flight_header(flight: Flight, route: Sequence[str], party: str | None, designator: str) -> list[str]:
    departure = _local(flight.scheduled_departure, flight.departure_airport)
    arrival = _local(flight.scheduled_arrival, flight.arrival_airport)
    header = [segment("NAD", "MS", None, None, party)] if party else []
    header += [
        segment("TDT", "20", designator, None, None, flight.carrier),
        segment("LOC", "125", flight.departure_airport),
        segment("DTM", ("189", f"{departure:%y%m%d%H%M}", "201")),
        segment("LOC", "87", flight.arrival_airport),
        segment("DTM", ("232", f"{arrival:%y%m%d%H%M}", "201")),
    ]
    header += [segment("LOC", "92", airport) for airport in route]
    return header


def _traveller(event: PassengerEvent, nad: str, departure_day: date) -> list[str]:
    person, document = event.traveller, event.document
    segments = [segment("NAD", nad, None, None, (person.surname, person.given_names))]
    if person.sex:
        segments.append(segment("ATT", "2", None, person.sex))
    if person.date_of_birth:
        birth = person.date_of_birth
        segments.append(segment("DTM", _date("329", birth, _birth_is_short(birth, departure_day))))
    if person.country_of_residence:
        segments.append(segment("LOC", "174", person.country_of_residence))
    segments += [
        segment("LOC", "178", event.flight.departure_airport),
        segment("LOC", "179", event.flight.arrival_airport),
    ]
    if person.nationality:
        segments.append(segment("NAT", "2", person.nationality))
    if document is not None:
        segments.append(segment("DOC", (DOCUMENT_CODES[document.type], "110", "111"), document.number))
        if document.expiry:
            short = abs(document.expiry.year - departure_day.year) < 49
            segments.append(segment("DTM", _date("36", document.expiry, short)))
        segments.append(segment("LOC", "91", document.issuing_state))
    return segments


def _birth_is_short(birth: date, departure_day: date) -> bool:
    """True when YYMMDD reads back right: less than a hundred years before the flight."""
    try:
        return birth.replace(year=birth.year + 100) > departure_day
    except ValueError:  # 29 February a century on
        return False


def _date(qualifier: str, day: date, short: bool) -> tuple[str, ...]:
    return (qualifier, f"{day:%y%m%d}") if short else (qualifier, f"{day:%Y%m%d}", "102")
