"""Writing consignment declarations: a ``FreightEvent`` back into the JSON document a
trader would lodge, so the simulator can publish freight traffic in the feed's own format.

``declaration_from_event`` is the inverse of the mapping in
engine/normalise/declaration.py: parsing what it writes gives back the event (apart
from ``received_at``, which the broker sets) as long as the event's ids are the ones
the parser makes (``source="declaration"``, ``source_id`` the declaration id). A
party's one-line address becomes the street of its postal address, the goods items
are numbered from 1 in the event's order, and the kind of packages, the vessel's name
and the train id, which events do not hold, are left out.

``declaration_bytes`` is deterministic: keys sorted, absent optional fields left out,
times in ISO 8601 with ``Z`` for UTC, so the same event always gives the same bytes.
"""

from __future__ import annotations

from typing import overload

import orjson

from schemas import FreightEvent
from schemas.declaration import (
    ArrivalEstimate,
    ConsignmentDeclaration,
    DeclaredGoodsItem,
    DeclaredParty,
    Packaging,
    PostalAddress,
    TransportMeans,
)
from schemas.freight import GoodsItem, Party


def declaration_from_event(
    event: FreightEvent, *, place_of_discharge: str | None = None
) -> ConsignmentDeclaration:
    """The declaration a FreightEvent was (or could have been) parsed from.

    The event's expected arrival is both the place of first entry and, unless
    ``place_of_discharge`` names another UN/LOCODE (a vessel calling at Rotterdam
    before it unloads at Felixstowe), the place of discharge. The parser takes the
    place of discharge as the event's arrival place, so a different one changes it.

    Raises ValueError (a pydantic ValidationError among them) when the event holds
    something the declaration cannot carry: no place of loading, a party's address
    without its country, a code no code list knows, a value past the format's limits.
    """
    if event.place_of_loading is None:
        raise ValueError("place_of_loading: a declaration always names where the goods were loaded")
    arrival = event.expected_arrival
    means = event.means
    return ConsignmentDeclaration(
        declaration_id=event.declaration_id,
        lodged_at=event.occurred_at,
        mode_of_transport=event.mode_of_transport,
        means_of_transport=TransportMeans(
            vessel_imo=means.vessel_imo,
            flight=means.flight,
            vehicle_registration=means.vehicle_registration,
            trailer_registration=means.trailer_registration,
        ),
        carrier=_party(event.carrier, "carrier"),
        consignor=_party(event.consignor, "consignor"),
        consignee=_party(event.consignee, "consignee"),
        notify_party=_party(event.notify_party, "notify_party"),
        goods_items=tuple(_goods(n, item) for n, item in enumerate(event.goods, start=1)),
        place_of_loading=event.place_of_loading,
        place_of_discharge=place_of_discharge or arrival.place,
        countries_of_routing=event.routing_countries,
        expected_arrival=ArrivalEstimate(place=arrival.place, at=arrival.at),
    )


def declaration_bytes(doc: ConsignmentDeclaration) -> bytes:
    """The declaration as compact, deterministic JSON: what goes on ``raw.freight``."""
    return orjson.dumps(doc.model_dump(mode="json", exclude_none=True), option=orjson.OPT_SORT_KEYS)


@overload
def _party(party: Party, role: str) -> DeclaredParty: ...
@overload
def _party(party: Party | None, role: str) -> DeclaredParty | None: ...
def _party(party: Party | None, role: str) -> DeclaredParty | None:
    if party is None:
        return None
    address = None
    if party.country is not None:
        address = PostalAddress(street=party.address, country=party.country)
    elif party.address is not None:
        raise ValueError(f"{role}: a postal address needs its country")
    return DeclaredParty(
        name=party.name,
        address=address,
        trader_id=party.trader_id,
        phone=party.phone,
        email=party.email,
    )


def _goods(sequence_number: int, item: GoodsItem) -> DeclaredGoodsItem:
    return DeclaredGoodsItem(
        sequence_number=sequence_number,
        hs_code=item.hs_code,
        description=item.description,
        gross_mass_kg=item.gross_mass_kg,
        packages=Packaging(count=item.packages),
        value=item.value,
        currency=item.currency,
        containers=item.containers,
        country_of_origin=item.origin_country,
    )
