"""The entities of an event, each resolved to a stable id: the identifiers that tie it to
other events in any mode.

- a traveller: the person (name and date of birth), the travel document, and from the
  booking its phones, emails, address and payment card;
- a consignment: each trader as an organisation (by EORI, else name and country) with
  its phones, emails and address, the containers, and the vessel (IMO) or vehicle
  (registration) that carries it.

A ship's AIS reports are not linked one by one: a ship reports every few minutes,
and a report that another replaced would keep whatever view of the graph it had
when it was replaced, which depends on arrival order. The vessel enters the graph
through the declarations that name it (its IMO): consignments on one ship are linked.
The ship itself is screened, by IMO, MMSI and name, in the enrich stage.

Each is normalised so two spellings of one identifier give one id: phones to their
digits (``+44 7700 900123`` and ``0044 7700-900123`` are one), emails lower-cased,
addresses to lower-case letters and digits, names transliterated to ASCII, lower-cased
and put in order. The id is a hash (``stable_id``): links, features and alerts carry
no phone number, email, name or document number in clear.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

import orjson
from anyascii import anyascii

from schemas import SCHEMA_VERSION, Event, FreightEvent, PassengerEvent, stable_id
from schemas.link import IdentifierKind, Link

_NOT_DIGIT = re.compile(r"[^0-9]")
_NOT_WORD = re.compile(r"[^0-9a-z]")
_NOT_ALNUM = re.compile(r"[^0-9A-Z]")
_WORDS = re.compile(r"[a-z0-9]+")
#: Legal forms dropped from a company name before it is compared.
_LEGAL_FORMS = frozenset((
    "ltd", "limited", "llc", "inc", "co", "corp", "corporation", "company", "plc", "gmbh", "ag", "sa", "sas",
    "sarl", "srl", "spa", "bv", "nv", "oy", "ab", "as", "pte", "pty", "sdn", "bhd", "kft", "sp", "zoo",
))


def phone_key(phone: str) -> str | None:
    """Digits of a phone number, international prefix dropped; None if too short to mean much.

    >>> phone_key("+44 7700 900123"), phone_key("0044-7700-900123"), phone_key("+44 (0)7700 900123")
    ('447700900123', '447700900123', '447700900123')
    >>> phone_key("123") is None
    True
    """
    digits = _NOT_DIGIT.sub("", phone.replace("(0)", ""))
    digits = digits[2:] if digits.startswith("00") else digits
    return digits if len(digits) >= 7 else None


def email_key(email: str) -> str | None:
    """An email, trimmed and lower-cased; None when it is not one."""
    email = email.strip().lower()
    return email if "@" in email and "." in email.rsplit("@", 1)[-1] else None


def address_key(line: str) -> str | None:
    """Letters and digits of an address's first line, lower-cased (the part before the
    first comma: a declaration's one-line address also names city and postcode).

    >>> address_key("12 Sample Street, Leeds, LS1 1AA"), address_key("12 sample st")
    ('12samplestreet', '12samplest')
    """
    folded = _NOT_WORD.sub("", line.split(",", 1)[0].lower())
    return folded if len(folded) >= 6 else None


def person_key(given_names: str, surname: str, birth: str | None) -> str | None:
    """A traveller's name parts in ASCII, lower case and sorted, with the date of birth;
    None without a birth date (a name alone names too many people to link on).

    >>> person_key("Zoë Anne", "Sample", "1980-02-03") == person_key("ANNE ZOE", "SAMPLE", "1980-02-03")
    True
    """
    if not birth:
        return None
    words = sorted(_WORDS.findall(anyascii(f"{given_names} {surname}").lower()))
    return f"{' '.join(words)}|{birth}" if words else None


def organisation_key(name: str, country: str | None, trader_id: str | None) -> str | None:
    """A trader: its registration (EORI) when it has one, else its name without legal
    form, in ASCII and lower case, with its country.

    >>> organisation_key("Sample Trading Ltd.", "GB", None) == organisation_key("SAMPLE TRADING", "GB", None)
    True
    """
    if trader_id and (tid := _NOT_ALNUM.sub("", trader_id.upper())):
        return f"eori:{tid}"
    words = [w for w in _WORDS.findall(anyascii(name).lower()) if w not in _LEGAL_FORMS]
    return f"{' '.join(words)}|{country or ''}" if words else None


def code_key(value: str | None) -> str | None:
    """A document number or registration: upper-case letters and digits only."""
    folded = _NOT_ALNUM.sub("", value.upper()) if value else ""
    return folded if len(folded) >= 4 else None


def link_records(event: Event, received_at: datetime, flagged: bool) -> list[tuple[bytes, bytes]]:
    """Each identifier of the event as a ``links`` record: (identifier id, Link JSON).

    See the module docstring for what each mode gives. The JSON is built directly (it
    runs for every event; pydantic here cost ~30 us an event); tests/unit/test_link.py
    holds it to the ``Link`` contract.
    """
    uses: list[tuple[IdentifierKind, str | None, dict[str, object]]] = []
    if isinstance(event, PassengerEvent) and event.source != "pnr":
        # The person and document from the manifest (every international flight sends
        # one); a booking's event that the join gave them would only repeat them.
        f, t = event.flight, event.traveller
        holder = f"trip:{f.carrier}{f.number}:{f.scheduled_departure:%Y%m%d}"
        trip = _member(event.event_id, "passenger", holder, "traveller", event.occurred_at, received_at,
                       flagged)
        birth = t.date_of_birth.isoformat() if t.date_of_birth else None
        uses.append(("person", person_key(t.given_names, t.surname, birth), trip))
        if event.document is not None:
            number = code_key(event.document.number)
            uses.append(("document", number and f"{number}|{event.document.issuing_state}", trip))
    # A manifest's event carries the booking only once the join gave it the PNR's: the
    # PNR's own event has already linked it, and a second copy would only cost.
    if isinstance(event, PassengerEvent) and event.booking is not None and event.source != "api":
        b = event.booking
        route = f"{event.route[0]}-{event.route[-1]}" if event.route else (
            f"{event.flight.departure_airport}-{event.flight.arrival_airport}")
        member = _member(event.event_id, "passenger", f"pnr:{b.record_locator}", "booking",
                         event.occurred_at, received_at, flagged, route=route)
        uses += [("phone", phone_key(x), member) for x in b.phones]
        uses += [("email", email_key(x), member) for x in b.emails]
        if b.payment_instrument_hash:
            uses.append(("card", b.payment_instrument_hash, member))
        if b.address is not None:
            uses.append(("address", address_key(b.address.line), member))
    elif isinstance(event, FreightEvent):
        means = event.means
        goods = _member(event.event_id, "freight", f"decl:{event.declaration_id}", "goods",
                        event.expected_arrival.at, received_at, flagged,
                        carrier=means.vessel_imo or means.flight or means.vehicle_registration)
        boxes = dict.fromkeys(c.replace(" ", "").upper() for g in event.goods for c in g.containers)
        uses += [("container", box, goods) for box in boxes]
        carrier = _member(event.event_id, "freight", f"decl:{event.declaration_id}:carrier", "carrier",
                          event.expected_arrival.at, received_at, flagged)
        uses.append(("vessel", means.vessel_imo, carrier))
        uses += [("vehicle", code_key(reg), carrier) for reg in (means.vehicle_registration,
                                                                   means.trailer_registration)]
        for role, party in (("consignor", event.consignor), ("consignee", event.consignee),
                            ("notify_party", event.notify_party)):
            if party is None:
                continue
            member = _member(event.event_id, "freight", f"decl:{event.declaration_id}:{role}", role,
                             event.occurred_at, received_at, flagged)
            organisation = organisation_key(party.name, party.country, party.trader_id)
            uses.append(("organisation", organisation, member))
            if party.phone:
                uses.append(("phone", phone_key(party.phone), member))
            if party.email:
                uses.append(("email", email_key(party.email), member))
            if party.address:
                uses.append(("address", address_key(party.address), member))
    out: dict[bytes, bytes] = {}
    for kind, value, member in uses:
        if value:
            identifier = stable_id(kind, value)
            key = identifier.encode("ascii") + b"|" + str(member["holder"]).encode()
            out.setdefault(key, orjson.dumps(
                {"schema_version": SCHEMA_VERSION, "identifier": identifier, "kind": kind, "member": member},
                option=orjson.OPT_UTC_Z,
            ))
    return [(key.split(b"|", 1)[0], value) for key, value in out.items()]


def _member(
    event_id: str, mode: str, holder: str, role: str, occurred_at: datetime, received_at: datetime,
    flagged: bool, route: str | None = None, carrier: str | None = None,
) -> dict[str, object]:
    return {
        "schema_version": SCHEMA_VERSION, "event_id": event_id, "mode": mode, "holder": holder[:120],
        "role": role, "route": route, "carrier": carrier, "occurred_at": occurred_at,
        "received_at": received_at, "flagged": flagged,
    }


def links_of(event: Event, received_at: datetime, flagged: bool) -> Iterator[Link]:
    """The event's links as ``Link`` models (for tools and tests; the hot path keeps the
    bytes of ``link_records``)."""
    for _, value in link_records(event, received_at, flagged):
        yield Link.model_validate_json(value)
