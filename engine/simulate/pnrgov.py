"""Writing PNRGOV: passenger events with bookings in, the EDIFACT push an airline would
send about their flight out. The simulator makes its PNR traffic with it and the tests
make their input with it, so it writes every field ``engine/normalise/pnrgov.py`` reads,
in the places that module's docstring names:

- ``UNH+n+PNRGOV:11:1:IA``, ``MSG+:22``, ``ORG`` (the reporting party, else the
  carrier), the flight ``TVL`` in its airports' local times, ``EQN`` (PNRs in the message);
- per PNR (``SRC``): ``RCI`` (carrier : locator : : creation date : time, UTC), ``ORG``
  with the agency name in element 9, ``ADD``, ``EBD`` (bags), ``SSR CTCE``/``CTCM``
  (emails with the IATA escapes, phones);
- per traveller: ``TIF`` (surname, given names, reference number), ``SSR DOCS`` when
  the event has a document or a date of birth, sex or nationality, and after the
  first traveller the PNR's ``FOP`` (with the clear card number from ``card_numbers``
  for a card payment: the events hold only its hash; without an entry there, no
  number is written and the parser gives no hash);
- the itinerary: one ``TVL`` per pair of consecutive airports of the route (the pushed
  flight's leg with its times, carrier and number), each traveller's ``SSR SEAT``
  after the pushed flight's leg, or in the traveller group when there is no route.

Names are written as the events hold them; the EDIFACT layer releases separator
characters. Seconds are not written: PADIS times have minutes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime

from engine.normalise.travellers import airport_zone
from engine.simulate.edifact import Element, Group, Message, interchange, segment
from schemas.passenger import Booking, Flight, PassengerEvent

MESSAGE_TYPE = ("PNRGOV", "11", "1", "IA")
#: payment_type -> the FOP code written (the parser's table maps each back).
FOP_CODES = {"card": "CC", "cash": "CA", "invoice": "INV", "voucher": "VO", "miles": "FF", "other": "OT"}
DOCUMENT_CODES = {"passport": "P", "id_card": "I", "visa": "V", "other": "F"}
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def pnrgov_interchange(
    pnrs: Sequence[Sequence[PassengerEvent]],
    *,
    card_numbers: Mapping[str, str],
    reference: str,
    sender: str,
    recipient: str,
    prepared_at: datetime,
    syntax: tuple[str, str] = ("IATA", "1"),
    with_una: bool = True,
    newlines: bool = True,
    functional_group: bool = False,
    per_message: int | None = None,
) -> bytes:
    """One PNRGOV interchange about one flight: each inner sequence is one PNR, one event
    per traveller, each with the booking set and the same record locator.

    ``card_numbers`` maps a record locator to the clear (synthetic) card number its FOP
    carries when the booking was paid by card. ``per_message`` splits the PNRs over
    several messages of at most that many; ``functional_group`` wraps them in UNG/UNE.
    Raises ValueError when the events do not share one flight or a PNR is not one booking.
    """
    if not pnrs or any(not pnr for pnr in pnrs):
        raise ValueError("a push needs at least one PNR, each with at least one traveller")
    flight = pnrs[0][0].flight
    for pnr in pnrs:
        locators = {e.booking.record_locator if e.booking else None for e in pnr}
        if None in locators or len(locators) != 1:
            raise ValueError("each PNR's events need a booking with one record locator")
        if any(e.flight != flight for e in pnr):
            raise ValueError("every event of a push must be on the same flight")
    size = per_message or len(pnrs)
    chunks = [pnrs[i:i + size] for i in range(0, len(pnrs), size)]
    party = pnrs[0][0].reporting_party or flight.carrier
    messages = [
        Message(
            reference=str(n),
            type=MESSAGE_TYPE,
            segments=_message_body(chunk, flight, party, card_numbers),
            header_extra=(f"{flight.carrier}{flight.number}/{_ddmmyy(flight.scheduled_departure)}",
                          (f"{n:02d}", "F" if n == len(chunks) else "C")),
        )
        for n, chunk in enumerate(chunks, start=1)
    ]
    at = prepared_at.astimezone(UTC)
    group = Group("PNRGOV", sender, recipient, reference) if functional_group else None
    return interchange(
        messages, sender=sender, recipient=recipient, prepared_at=at, reference=reference,
        syntax=syntax, group=group, with_una=with_una, newlines=newlines,
    )


def _message_body(pnrs: Sequence[Sequence[PassengerEvent]], flight: Flight, party: str,
                  card_numbers: Mapping[str, str]) -> list[str]:
    body = [
        segment("MSG", (None, "22")),
        segment("ORG", (party, flight.departure_airport)),
        _flight_tvl(flight),
        segment("EQN", str(len(pnrs))),
    ]
    for pnr in pnrs:
        body += _pnr(pnr, flight, card_numbers)
    return body


def _flight_tvl(flight: Flight) -> str:
    dep = flight.scheduled_departure.astimezone(airport_zone(flight.departure_airport))
    arr = flight.scheduled_arrival.astimezone(airport_zone(flight.arrival_airport))
    return segment(
        "TVL", (_ddmmyy(dep), dep.strftime("%H%M"), _ddmmyy(arr), arr.strftime("%H%M")),
        flight.departure_airport, flight.arrival_airport, flight.carrier, flight.number,
    )


def _pnr(pnr: Sequence[PassengerEvent], flight: Flight, card_numbers: Mapping[str, str]) -> list[str]:
    booking = pnr[0].booking
    assert booking is not None  # checked by the caller
    carrier = flight.carrier
    booked = booking.booked_at.astimezone(UTC)
    out = [
        segment("SRC"),
        segment("RCI", (carrier, booking.record_locator, None, _ddmmyy(booked), booked.strftime("%H%M"))),
    ]
    if booking.agency:
        out.append(segment("ORG", (carrier, flight.departure_airport), *([None] * 7), booking.agency))
    if booking.address is not None:
        a = booking.address
        out.append(segment("ADD", None, ("700", a.line, a.city, None, None, a.country, a.postcode)))
    if booking.bags is not None:
        out.append(segment("EBD", None, (str(booking.bags),)))
    out += [_ssr("CTCE", carrier, "/" + _iata_email(email)) for email in booking.emails]
    out += [_ssr("CTCM", carrier, "/" + phone) for phone in booking.phones]
    seats_in_itinerary = len(pnr[0].route) >= 2
    for ref, event in enumerate(pnr, start=1):
        traveller = event.traveller
        out.append(segment("TIF", traveller.surname, (traveller.given_names, "A", str(ref))))
        docs = _docs_text(event)
        if docs is not None:
            out.append(_ssr("DOCS", carrier, docs, traveller_ref=str(ref)))
        seat = event.booking.seat if event.booking else None
        if seat and not seats_in_itinerary:
            out.append(_seat(seat, flight, ref))
        if ref == 1 and booking.payment_type is not None:
            out.append(_fop(booking, card_numbers))
    route = pnr[0].route
    for dep, arr in zip(route, route[1:], strict=False):
        if (dep, arr) != (flight.departure_airport, flight.arrival_airport):
            out.append(segment("TVL", None, dep, arr))
            continue
        out.append(_flight_tvl(flight))
        for ref, event in enumerate(pnr, start=1):
            seat = event.booking.seat if event.booking else None
            if seat:
                out.append(_seat(seat, flight, ref))
    return out


def _ssr(code: str, carrier: str, text: str, *, traveller_ref: str | None = None) -> str:
    details: Element = (None, None, traveller_ref) if traveller_ref else None
    return segment("SSR", (code, "HK", "1", carrier, None, None, None, None, text), details)


def _seat(seat: str, flight: Flight, ref: int) -> str:
    where = (flight.departure_airport, flight.arrival_airport)
    return segment("SSR", ("SEAT", "HK", "1", flight.carrier, None, None, *where), (seat, None, str(ref)))


def _fop(booking: Booking, card_numbers: Mapping[str, str]) -> str:
    code = FOP_CODES[booking.payment_type or "other"]
    number = card_numbers.get(booking.record_locator) if booking.payment_type == "card" else None
    if number is None:
        return segment("FOP", (code,))
    return segment("FOP", (code, None, None, "VI", number))


def _docs_text(event: PassengerEvent) -> str | None:
    t, d = event.traveller, event.document
    if d is None and t.date_of_birth is None and t.sex is None and t.nationality is None:
        return None
    fields = [
        DOCUMENT_CODES[d.type] if d else "",
        d.issuing_state if d else "",
        d.number if d else "",
        t.nationality or "",
        _ddmmmyy(t.date_of_birth) if t.date_of_birth else "",
        t.sex or "",
        _ddmmmyy(d.expiry) if d and d.expiry else "",
        t.surname,
        t.given_names,
    ]
    return "/" + "/".join(f.replace("/", " ") for f in fields)


def _iata_email(email: str) -> str:
    """The IATA SSR spelling of an email address: ``@`` as ``//``, ``_`` as ``..``, ``-`` as ``./``."""
    return email.replace("-", "./").replace("_", "..").replace("@", "//")


def _ddmmyy(at: datetime | date) -> str:
    return at.strftime("%d%m%y")


def _ddmmmyy(on: date) -> str:
    return f"{on.day:02d}{_MONTHS[on.month - 1]}{on.year % 100:02d}"
