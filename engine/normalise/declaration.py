"""Consignment declarations in: one JSON document per message, one ``FreightEvent`` out.

A message on ``raw.freight`` in this format is a single JSON object, a
``ConsignmentDeclaration`` (schemas/declaration.py, exported to
schemas/json/ConsignmentDeclaration.schema.json, examples beside it): the data
elements of an EU entry summary declaration that targeting uses. Each message gives
exactly one event or exactly one refusal, and a refusal carries the whole message.

How a declaration becomes an event:

- ``event_id`` is ``stable_id("freight", "declaration", declaration_id)``, ``source``
  is ``"declaration"`` and ``source_id`` the declaration id, so a re-sent declaration
  gets the same id and is dropped downstream as a duplicate;
- ``occurred_at`` is when it was lodged, ``received_at`` the broker's timestamp;
- the expected arrival is the place of *discharge*, where the goods are unloaded and
  can be examined, at the expected time of arrival at the first place of entry;
- parties keep name, trader id and country; the postal address becomes one line
  (street, city, postcode); the phone loses its visual separators (``+44 7700 900123``
  becomes ``+447700900123``) and the e-mail's ASCII letters are lower-cased, so both
  compare equal to what a traveller gives in a booking and can link a consignee with
  a passenger;
- goods items are put in sequence-number order; containers, origin, values and the
  package count carry over;
- the vessel's IMO number, the flight and the road registrations carry over.

Not carried into the event, because ``FreightEvent`` has no place for them yet: the
vessel's name, the train id, the kind of packages, and the place of first entry when
it differs from the place of discharge.

Refusals, each with a reason and a detail that names the field path and the rule
broken but never the value (a value may be personal data):

=======================================  ==================================================
``declaration_invalid_json``             the bytes are not JSON (or not UTF-8)
``declaration_not_an_object``            JSON, but not one object
``declaration_invalid_schema``           a field missing, unknown, of the wrong type or
                                         breaking a rule of the schema; also a document
                                         with problems of several of the kinds below
``declaration_invalid_container``        a container number not in the ISO 6346 shape
``declaration_invalid_imo``              an IMO number that is not seven digits
``declaration_unknown_hs_chapter``       an HS code whose chapter does not exist
``declaration_unknown_country``          a country code ISO 3166-1 does not know
``declaration_unknown_locode_country``   a UN/LOCODE whose country ISO 3166-1 does not know
``declaration_invalid_timestamp``        the broker's timestamp is not a time
``declaration_parser_error``             a defect of this parser: the detail names the
                                         exception type only (or, should the event refuse
                                         what the declaration allowed, the field paths);
                                         nothing is ever raised
=======================================  ==================================================

When every problem of a document is of one of the precise kinds, the reason names
that kind; problems of several kinds are ``declaration_invalid_schema``, and the
detail lists up to five of them either way.

Decided: a container number or IMO number of the right shape whose check digit fails
is *not* refused; only malformed documents are. A declaration quoting a made-up
container number is exactly the one to look at: refused, it would go to the
dead-letter topic, where no rule sees it, and escape screening. Taken, it is
risk-assessed like any other, and ``freight_container_check_digit``
(rules/freight/container_check_digit.py) flags the number with its reason. An IMO
number failing its check digit is kept on the event in the same way, for rules to
judge.
"""

from __future__ import annotations

import re
import string
from datetime import datetime
from typing import Any, overload

import orjson
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from engine.errors import InvalidMessage
from engine.messages import FeedResult, RawMessage, describe_validation_error
from schemas import FreightEvent, stable_id
from schemas.declaration import ConsignmentDeclaration, DeclaredGoodsItem, DeclaredParty
from schemas.freight import Arrival, GoodsItem, MeansOfTransport, Party

SOURCE = "declaration"
SCHEMA_REASON = "declaration_invalid_schema"
PARSER_ERROR = "declaration_parser_error"
#: Most problems a detail lists.
DETAIL_LIMIT = 5

#: Reasons more precise than a schema violation, by the validation error type, and the
#: rule each one breaks, as the detail says it.
_BY_ERROR_TYPE = {
    "unknown_hs_chapter": "declaration_unknown_hs_chapter",
    "unknown_country": "declaration_unknown_country",
    "unknown_locode_country": "declaration_unknown_locode_country",
}
_RULES = {
    "declaration_invalid_container": "not an ISO 6346 container number "
    "(three letters, category U, J or Z, seven digits)",
    "declaration_invalid_imo": "an IMO number is seven digits",
    "declaration_unknown_hs_chapter": "no HS chapter has the code's first two digits",
    "declaration_unknown_country": "not an ISO 3166-1 alpha-2 country code",
    "declaration_unknown_locode_country": "the UN/LOCODE's first two letters are no ISO 3166-1 country",
}
_PHONE_SEPARATORS = re.compile(r"[ ().-]")
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)



def parse_declaration(raw: RawMessage) -> FeedResult:
    """One declaration message as one FreightEvent, or one refusal of the whole message.

    Never raises: an unexpected failure is refused as ``declaration_parser_error``.
    """
    result = FeedResult()
    try:
        result.events.append((_event(raw), raw.value))
    except InvalidMessage as exc:
        result.refused.append((raw.value, exc.reason, exc.detail))
    except Exception as exc:  # a parser defect must cost one message, not the worker
        result.refused.append((raw.value, PARSER_ERROR, type(exc).__name__))
    return result


def read_declaration(value: bytes) -> ConsignmentDeclaration:
    """The validated declaration in a message's bytes.

    Raises InvalidMessage with one of the ``declaration_*`` reasons otherwise.
    """
    try:
        doc: Any = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise InvalidMessage("declaration_invalid_json", f"not valid JSON at char {exc.pos}") from None
    if not isinstance(doc, dict):
        raise InvalidMessage("declaration_not_an_object", f"expected a JSON object, got {type(doc).__name__}")
    try:
        return ConsignmentDeclaration.model_validate(doc)
    except ValidationError as exc:
        raise InvalidMessage(*_refusal(exc)) from None


def _event(raw: RawMessage) -> FreightEvent:
    try:
        doc = read_declaration(raw.value)
        received = raw.received_at()
    except InvalidMessage as exc:
        reason = exc.reason if exc.reason.startswith("declaration_") else f"declaration_{exc.reason}"
        raise InvalidMessage(reason, exc.detail) from None
    try:
        return event_of(doc, received_at=received)
    except ValidationError as exc:
        # The declaration's rules are meant to be at least as strict as the event's.
        raise InvalidMessage(
            PARSER_ERROR, f"the declaration does not fit a FreightEvent: {describe_validation_error(exc)}"
        ) from None


def event_of(doc: ConsignmentDeclaration, *, received_at: datetime) -> FreightEvent:
    """The FreightEvent a validated declaration stands for (the mapping the module describes)."""
    means = doc.means_of_transport
    return FreightEvent(
        event_id=stable_id("freight", SOURCE, doc.declaration_id),
        source=SOURCE,
        source_id=doc.declaration_id,
        occurred_at=doc.lodged_at,
        received_at=received_at,
        declaration_id=doc.declaration_id,
        mode_of_transport=doc.mode_of_transport,
        expected_arrival=Arrival(place=doc.place_of_discharge, at=doc.expected_arrival.at),
        carrier=_party(doc.carrier),
        means=MeansOfTransport(
            vessel_imo=means.vessel_imo,
            flight=means.flight,
            vehicle_registration=means.vehicle_registration,
            trailer_registration=means.trailer_registration,
        ),
        consignor=_party(doc.consignor),
        consignee=_party(doc.consignee),
        notify_party=_party(doc.notify_party),
        goods=tuple(_goods(item) for item in sorted(doc.goods_items, key=lambda i: i.sequence_number)),
        routing_countries=doc.countries_of_routing,
        place_of_loading=doc.place_of_loading,
    )


def normalise_email(email: str) -> str:
    """An e-mail address with its ASCII letters lower-cased, as mail systems treat them.

    Only ASCII: lower-casing other letters can change the address's length and is not
    how internationalised addresses compare.

    >>> normalise_email("Trade.Desk@Example.COM")
    'trade.desk@example.com'
    """
    return email.translate(_ASCII_LOWER)


def normalise_phone(phone: str) -> str:
    """A phone number without its visual separators, so two spellings compare equal.

    >>> normalise_phone("+44 (0) 7700-900.123")
    '+4407700900123'
    """
    return _PHONE_SEPARATORS.sub("", phone)


@overload
def _party(party: DeclaredParty) -> Party: ...
@overload
def _party(party: DeclaredParty | None) -> Party | None: ...
def _party(party: DeclaredParty | None) -> Party | None:
    if party is None:
        return None
    address = party.address
    line = None
    if address is not None:
        line = ", ".join(p for p in (address.street, address.city, address.postcode) if p) or None
    return Party(
        name=party.name,
        address=line,
        country=address.country if address is not None else None,
        trader_id=party.trader_id,
        phone=normalise_phone(party.phone) if party.phone is not None else None,
        email=normalise_email(party.email) if party.email is not None else None,
    )


def _goods(item: DeclaredGoodsItem) -> GoodsItem:
    return GoodsItem(
        hs_code=item.hs_code,
        description=item.description,
        gross_mass_kg=item.gross_mass_kg,
        packages=item.packages.count,
        value=item.value,
        currency=item.currency,
        containers=item.containers,
        origin_country=item.country_of_origin,
    )


def _refusal(exc: ValidationError) -> tuple[str, str]:
    """The reason and detail of a declaration that failed validation.

    A document whose every problem is of one precise kind (say, unknown country codes)
    gets that kind's reason; anything else is a schema violation.
    """
    errors = exc.errors(include_input=False, include_url=False)
    kinds = {_kind(err) for err in errors}
    if len(kinds) != 1 or SCHEMA_REASON in kinds:
        return SCHEMA_REASON, describe_validation_error(exc, limit=DETAIL_LIMIT)
    reason = kinds.pop()
    paths = [".".join(str(p) for p in err["loc"]) or "(root)" for err in errors]
    more = f"; and {len(paths) - DETAIL_LIMIT} more" if len(paths) > DETAIL_LIMIT else ""
    return reason, "; ".join(f"{path}: {_RULES[reason]}" for path in paths[:DETAIL_LIMIT]) + more


def _kind(err: ErrorDetails) -> str:
    loc, kind = err["loc"], err["type"]
    if kind in _BY_ERROR_TYPE:
        return _BY_ERROR_TYPE[kind]
    if kind == "string_pattern_mismatch":
        if len(loc) == 4 and loc[0] == "goods_items" and loc[2] == "containers":
            return "declaration_invalid_container"
        if tuple(loc) == ("means_of_transport", "vessel_imo"):
            return "declaration_invalid_imo"
    return SCHEMA_REASON
