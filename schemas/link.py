"""Link: one use of an identifier (a phone, an email, a card, an address, a container)
by one event.

The decide hop writes a Link for every identifier of every event to ``links``, keyed
by the identifier, so all uses of one identifier meet in one partition of the link
hop, which finds the networks in them (engine/link/). The identifier itself travels
only as a hash: ``identifier`` is a stable id, never the number or address.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from schemas.common import Record

IdentifierKind = Literal["phone", "email", "card", "address", "container"]


class LinkMember(Record):
    """The event that used the identifier, and as what."""

    event_id: str = Field(max_length=100)
    mode: Literal["passenger", "freight", "vessel"]
    holder: str = Field(
        max_length=120,
        description="What in the event the identifier belongs to: a booking (pnr:LOCATOR) or "
        "a declaration's party (decl:ID:consignee).",
    )
    role: Literal["booking", "consignor", "consignee", "notify_party", "carrier", "goods"]
    route: str | None = Field(
        default=None, max_length=20, description="For a booking: origin-destination, e.g. LOS-LHR."
    )
    carrier: str | None = Field(
        default=None, max_length=40,
        description="For a consignment: what carries it (vessel IMO, flight, vehicle registration).",
    )
    occurred_at: AwareDatetime
    received_at: AwareDatetime
    flagged: bool = Field(description="The event raised an alert of its own.")


class Link(Record):
    """One identifier used by one event."""

    identifier: str = Field(max_length=100, description="Stable id of the identifier (a hash).")
    kind: IdentifierKind
    member: LinkMember
