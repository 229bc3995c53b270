"""Link: one use of an identifier (a phone, an email, a card, an address, a container, a
person, a document, an organisation, a vehicle, a vessel) by one event; and the records
that turn the uses into network features per event.

The decide hop writes a Link for every identifier of every event to ``links``, keyed
by the identifier, so all uses of one identifier meet in one partition of the link
hop, which finds the networks in them (engine/link/). The identifier itself travels
only as a hash: ``identifier`` is a stable id, never the number or address.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field, NonNegativeInt

from schemas.common import Record

Mode = Literal["passenger", "freight", "vessel"]

IdentifierKind = Literal[
    "phone", "email", "card", "address", "container",
    "person", "document", "organisation", "vehicle", "vessel",
]


class LinkMember(Record):
    """The event that used the identifier, and as what."""

    event_id: str = Field(max_length=100)
    mode: Mode
    holder: str = Field(
        max_length=120,
        description="What in the event the identifier belongs to: a booking (pnr:LOCATOR), a "
        "traveller's trip (trip:FLIGHT:DATE) or a declaration's party (decl:ID:consignee). "
        "Two events of one holder (a trip's manifest and booking) do not link each other.",
    )
    role: Literal[
        "booking", "traveller", "consignor", "consignee", "notify_party", "carrier", "goods"
    ]
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


class MemberNote(Record):
    """What the network hop tells an identifier about one event that uses it: how the event
    stands in the graph, so the identifier's other users see two hops out.

    Written to ``links`` (keyed by the identifier) when the event's own summary changes.
    """

    type: Literal["note"] = "note"
    identifier: str = Field(max_length=100)
    event_id: str = Field(max_length=100)
    seq: NonNegativeInt = Field(description="The event's summary version: a later one replaces an earlier.")
    near: bool = Field(description="The event is flagged or shares an identifier with a flagged event.")
    neighbours: tuple[str, ...] = Field(
        default=(), max_length=16, description="Events sharing an identifier with it (the first 16 by id)."
    )
    modes: tuple[Mode, ...] = Field(default=(), description="Modes of the event and those neighbours.")


class ViewMember(Record):
    """Another user of an identifier, as the identifier knows it."""

    event_id: str = Field(max_length=100)
    mode: Mode
    occurred_at: AwareDatetime
    flagged: bool
    near: bool = Field(description="Flagged, or one link from a flagged event (from its last note).")
    neighbours: tuple[str, ...] = Field(default=(), max_length=16)
    modes: tuple[Mode, ...] = ()


class NetworkView(Record):
    """What one identifier of an event shows of the graph: the other events that use it.

    The link hop writes one to ``network`` (keyed by the event) for each user of an
    identifier whenever what the identifier knows changes; the network hop keeps the
    latest per (event, identifier) and works out the event's features from them.
    """

    event_id: str = Field(max_length=100)
    identifier: str = Field(max_length=100)
    kind: IdentifierKind
    seq: NonNegativeInt = Field(
        description="The identifier's state version: a later view replaces an earlier."
    )
    mode: Mode
    holder: str = Field(max_length=120, description="What in the event uses the identifier.")
    occurred_at: AwareDatetime
    received_at: AwareDatetime
    flagged: bool = Field(description="The event itself raised an alert.")
    hub: bool = Field(
        default=False,
        description="The identifier is shared too widely to mean a link (a forwarder's address used by "
        "many traders); its users are not listed, only the modes of the flagged ones.",
    )
    members: tuple[ViewMember, ...] = ()
    flagged_modes: tuple[Mode, ...] = Field(
        default=(), description="For a hub: the modes of its flagged users (other than this event)."
    )


class NetworkFeatures(Record):
    """An event's place in the link graph, for scoring: written to ``features`` keyed by
    the event whenever it changes, so the last record of an event is its current one."""

    event_id: str = Field(max_length=100)
    mode: Mode
    occurred_at: AwareDatetime
    entities: tuple[str, ...] = Field(description="The event's entities, resolved to stable ids.")
    linked_events: NonNegativeInt = Field(description="Events sharing an entity with it (one hop).")
    component_size: NonNegativeInt = Field(
        description="Events within two hops, itself included: its connected component out to two links."
    )
    modes: tuple[Mode, ...] = Field(description="Transport modes within two hops.")
    flagged_distance: int | None = Field(
        ge=0, le=2, description="Hops to the nearest flagged event: 0 itself, 1, 2, or none within two."
    )
    flagged_neighbour_modes: tuple[Mode, ...] = Field(
        default=(), description="Modes of the flagged events one hop away."
    )
    new_links_24h: NonNegativeInt = Field(
        description="Uses of its entities by other events in the 24 hours up to it."
    )
    hub_entities: NonNegativeInt = Field(description="Its entities shared too widely to count as links.")


class FlaggedUser(Record):
    """A flagged user of a hub: which event, as what, in which mode."""

    event_id: str = Field(max_length=100)
    holder: str = Field(max_length=120)
    mode: Mode


class HubNotice(Record):
    """A hub's flagged users, sent to every partition of ``network`` when one joins: the
    network hop updates the view of every event there that uses the hub (a hub keeps
    only its newest users, so it cannot address them one by one)."""

    type: Literal["hub"] = "hub"
    identifier: str = Field(max_length=100)
    seq: NonNegativeInt = Field(description="The hub's state version, as in its views.")
    flagged: tuple[FlaggedUser, ...] = ()
