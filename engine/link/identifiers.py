"""The identifiers of an event that can tie it to others: contacts, cards, addresses,
containers.

Each is normalised so two spellings of one identifier give one id: phones to their
digits (``+44 7700 900123`` and ``0044 7700-900123`` are one), emails lower-cased,
addresses to lower-case letters and digits. The id is a hash (``stable_id``): links
and alerts carry no phone number, email or address in clear.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from schemas import Event, FreightEvent, PassengerEvent, stable_id
from schemas.link import IdentifierKind, Link, LinkMember


def phone_key(phone: str) -> str | None:
    """Digits of a phone number, international prefix dropped; None if too short to mean much.

    >>> phone_key("+44 7700 900123"), phone_key("0044-7700-900123"), phone_key("+44 (0)7700 900123")
    ('447700900123', '447700900123', '447700900123')
    >>> phone_key("123") is None
    True
    """
    digits = "".join(c for c in phone.replace("(0)", "") if c.isascii() and c.isdigit())
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
    folded = "".join(c for c in line.split(",", 1)[0].lower() if c.isalnum())
    return folded if len(folded) >= 6 else None


def _id(kind: IdentifierKind, value: str) -> str:
    return stable_id(kind, value)


def links_of(event: Event, received_at: datetime, flagged: bool) -> Iterator[Link]:
    """A Link for each identifier of the event: a booking's contacts, card and address; a
    consignment's containers (timed by expected arrival) and its traders' contacts and
    addresses. None for vessels yet."""
    if isinstance(event, PassengerEvent) and event.booking is not None:
        b = event.booking
        route = f"{event.route[0]}-{event.route[-1]}" if event.route else (
            f"{event.flight.departure_airport}-{event.flight.arrival_airport}")
        member = LinkMember(
            event_id=event.event_id, mode="passenger", holder=f"pnr:{b.record_locator}"[:120],
            role="booking", route=route, occurred_at=event.occurred_at, received_at=received_at,
            flagged=flagged,
        )
        found: list[tuple[IdentifierKind, str | None]] = [("phone", phone_key(p)) for p in b.phones]
        found += [("email", email_key(e)) for e in b.emails]
        if b.payment_instrument_hash:
            found.append(("card", b.payment_instrument_hash))
        if b.address is not None:
            found.append(("address", address_key(b.address.line)))
        for kind, value in dict.fromkeys(found):
            if value:
                yield Link(identifier=_id(kind, value), kind=kind, member=member)
    if isinstance(event, FreightEvent):
        means = event.means
        carrier = means.vessel_imo or means.flight or means.vehicle_registration
        goods = LinkMember(
            event_id=event.event_id, mode="freight", holder=f"decl:{event.declaration_id}"[:120],
            role="goods", carrier=carrier, occurred_at=event.expected_arrival.at,
            received_at=received_at, flagged=flagged,
        )
        for number in dict.fromkeys(c.replace(" ", "").upper() for g in event.goods for c in g.containers):
            yield Link(identifier=_id("container", number), kind="container", member=goods)
        for role, party in (("consignor", event.consignor), ("consignee", event.consignee),
                            ("notify_party", event.notify_party)):
            if party is None:
                continue
            member = LinkMember(
                event_id=event.event_id, mode="freight", holder=f"decl:{event.declaration_id}:{role}"[:120],
                role=role, occurred_at=event.occurred_at,  # type: ignore[arg-type]
                received_at=received_at, flagged=flagged,
            )
            parts: list[tuple[IdentifierKind, str | None]] = []
            if party.phone:
                parts.append(("phone", phone_key(party.phone)))
            if party.email:
                parts.append(("email", email_key(party.email)))
            if party.address:
                parts.append(("address", address_key(party.address)))
            for kind, value in dict.fromkeys(parts):
                if value:
                    yield Link(identifier=_id(kind, value), kind=kind, member=member)
