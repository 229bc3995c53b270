"""The identifiers of an event that can tie it to others: contacts, cards, addresses,
containers.

Each is normalised so two spellings of one identifier give one id: phones to their
digits (``+44 7700 900123`` and ``0044 7700-900123`` are one), emails lower-cased,
addresses to lower-case letters and digits. The id is a hash (``stable_id``): links
and alerts carry no phone number, email or address in clear.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

import orjson

from schemas import SCHEMA_VERSION, Event, FreightEvent, PassengerEvent, stable_id
from schemas.link import IdentifierKind, Link

_NOT_DIGIT = re.compile(r"[^0-9]")
_NOT_WORD = re.compile(r"[^0-9a-z]")


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


def link_records(event: Event, received_at: datetime, flagged: bool) -> list[tuple[bytes, bytes]]:
    """Each identifier of the event as a ``links`` record: (identifier id, Link JSON).

    A booking's contacts, card and address; a consignment's containers (timed by
    expected arrival) and its traders' contacts and addresses. None for vessels yet.
    The JSON is built directly (it runs for every event; pydantic here cost ~30 us an
    event); tests/unit/test_link.py holds it to the ``Link`` contract.
    """
    uses: list[tuple[IdentifierKind, str | None, dict[str, object]]] = []
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
        for role, party in (("consignor", event.consignor), ("consignee", event.consignee),
                            ("notify_party", event.notify_party)):
            if party is None:
                continue
            member = _member(event.event_id, "freight", f"decl:{event.declaration_id}:{role}", role,
                             event.occurred_at, received_at, flagged)
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
