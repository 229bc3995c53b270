"""Consignment declarations: the schema, its exported file and examples, the parser to
FreightEvent with its refusals, and the writer that turns events back into declarations.

The examples in schemas/json/examples/ and the simulator's freight traffic are the
fixtures; all traders in them are made up.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine.normalise.declaration as declaration_parser
from engine.enrich import enrich_batch
from engine.messages import FeedResult, RawMessage
from engine.normalise.declaration import parse_declaration
from engine.score.loader import load_rules
from engine.simulate import TrafficGenerator
from engine.simulate.declaration import declaration_bytes, declaration_from_event
from schemas import FreightEvent, stable_id
from schemas.codes import imo_valid, iso6346_valid
from schemas.declaration import (
    ArrivalEstimate,
    ConsignmentDeclaration,
    DeclaredGoodsItem,
    DeclaredParty,
    Packaging,
    PostalAddress,
    TransportMeans,
)
from schemas.export import JSON_DIR, schema_text
from tests.fixtures.events import reference
from tests.fixtures.mutate import json_paths

EXAMPLES = JSON_DIR / "examples"
SCHEMA_FILE = JSON_DIR / "ConsignmentDeclaration.schema.json"
RECEIVED = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
RECEIVED_MS = int(RECEIVED.timestamp() * 1000)
KINDS = ("sea", "air", "road")

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

Doc = dict[str, Any]


def example_path(kind: str) -> Path:
    return EXAMPLES / f"declaration-{kind}.json"


def example(kind: str) -> Doc:
    """A fresh copy of one example document."""
    doc: Doc = json.loads(example_path(kind).read_text(encoding="utf-8"))
    return doc


def message(value: bytes, timestamp_ms: int | None = RECEIVED_MS) -> RawMessage:
    return RawMessage(
        value=value, key=b"k", topic="raw.freight", partition=0, offset=3, timestamp_ms=timestamp_ms
    )


def parse(value: bytes, defect_expected: bool = False) -> FeedResult:
    """Parse one message and check the contract every outcome keeps: exactly one event or
    exactly one refusal, carrying the message's own bytes, and no parser defect."""
    result = parse_declaration(message(value))
    assert len(result.events) + len(result.refused) == 1
    for _, carried in result.events:
        assert carried == value
    for carried, reason, detail in result.refused:
        assert carried == value
        assert reason.startswith("declaration_")
        assert defect_expected or reason != "declaration_parser_error", detail
    return result


def parse_event(doc: Doc) -> FreightEvent:
    result = parse(orjson.dumps(doc))
    assert result.refused == []
    [(event, _)] = result.events
    assert isinstance(event, FreightEvent)
    return event


def refusal(value: bytes) -> tuple[str, str]:
    result = parse(value)
    assert result.events == []
    [(_, reason, detail)] = result.refused
    return reason, detail


# --- the schema, its file and the examples ---------------------------------------------


def test_exported_schema_file_matches_the_model() -> None:
    """schemas/json/ConsignmentDeclaration.schema.json is exactly what the model exports today."""
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(ConsignmentDeclaration), (
        "the exported declaration schema has drifted from schemas/declaration.py: re-export it"
    )


@pytest.mark.parametrize("kind", KINDS)
def test_examples_validate_against_the_exported_json_schema(kind: str) -> None:
    """Each example is valid by the JSON Schema a producer would use, not only by pydantic."""
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(example(kind))
    ConsignmentDeclaration.model_validate(example(kind))


def test_the_exported_json_schema_refuses_what_the_model_refuses() -> None:
    """The file is not vacuous: a missing field, an unknown field and a malformed container
    number fail JSON Schema validation too."""
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))
    missing = example("sea")
    del missing["consignee"]
    unknown = example("sea")
    unknown["consignee"]["religion"] = "none"
    boxed = example("sea")
    boxed["goods_items"][0]["containers"] = ["MSCU12345"]
    for doc in (missing, unknown, boxed):
        assert not validator.is_valid(doc)


# --- examples to events -----------------------------------------------------------------


def test_the_sea_example_becomes_a_freight_event() -> None:
    """Ids, times, parties, vessel, goods and route of the sea example map onto the event."""
    event = parse_event(example("sea"))
    assert event.event_id == stable_id("freight", "declaration", "25GB7K2M9Q4X1Z8A3D")
    assert (event.source, event.source_id, event.declaration_id) == (
        "declaration", "25GB7K2M9Q4X1Z8A3D", "25GB7K2M9Q4X1Z8A3D",
    )
    assert event.occurred_at == datetime(2025, 3, 1, 8, 15, tzinfo=UTC)
    assert event.received_at == RECEIVED
    assert event.mode_of_transport == "sea"
    assert event.means.vessel_imo == "9182734" and event.means.flight is None
    assert event.expected_arrival.place == "GBFXT"
    assert event.expected_arrival.at == datetime(2025, 3, 24, 6, 0, tzinfo=UTC)
    assert event.place_of_loading == "CNSHA"
    assert event.routing_countries == ("CN", "SG", "NL", "GB")
    consignee = event.consignee
    assert consignee.name == "Placeholder Imports Ltd"
    assert consignee.address == "12 Sample Street, Leeds, LS1 0AA" and consignee.country == "GB"
    assert consignee.trader_id == "GB000000000123"
    assert consignee.phone == "+447700900123"
    assert consignee.email == "accounts@placeholder-imports.example"
    assert event.notify_party is not None and event.notify_party.name == "Mock Freight Forwarding Ltd"
    assert event.carrier is not None and event.carrier.country == "NL"
    assert [g.hs_code for g in event.goods] == ["610910", "620342"]
    first, second = event.goods
    assert (first.gross_mass_kg, first.packages, first.value, first.currency) == (8450.5, 420, 61200.0, "USD")
    assert first.containers == ("MSCU1234566",) and first.origin_country == "CN"
    assert second.containers == ("MSCU1234566", "OOLU2405181")


def test_the_air_example_becomes_a_freight_event() -> None:
    """The flight carries over; a phone in national-prefix form loses only its separators."""
    event = parse_event(example("air"))
    assert event.mode_of_transport == "air"
    assert event.means.flight == "EK0009" and event.means.vessel_imo is None
    assert event.expected_arrival.place == "GBLHR"
    assert event.occurred_at == datetime(2025, 3, 1, 5, 40, tzinfo=UTC)
    assert event.consignee.phone == "+4407700900789"
    assert event.consignor.phone == "+97140000000"
    assert event.notify_party is None
    assert event.carrier is not None and event.carrier.address == "Dubai"
    [item] = event.goods
    assert item.hs_code == "851762" and item.containers == ()


def test_the_road_example_becomes_a_freight_event_with_goods_in_sequence_order() -> None:
    """Registrations carry over and goods items are ordered by their sequence number."""
    event = parse_event(example("road"))
    assert event.mode_of_transport == "road"
    assert event.means.vehicle_registration == "AB12 CDE"
    assert event.means.trailer_registration == "XY-123-ZZ"
    assert [g.hs_code for g in event.goods] == ["940360", "940161"]
    assert event.expected_arrival.place == "GBDVR"
    assert event.routing_countries == ("DE", "NL", "BE", "FR", "GB")


def test_the_place_of_discharge_is_the_event_s_arrival_place() -> None:
    """When the first place of entry differs, the event arrives where the goods are unloaded."""
    doc = example("sea")
    doc["expected_arrival"]["place"] = "NLRTM"
    event = parse_event(doc)
    assert event.expected_arrival.place == "GBFXT"


def test_the_same_declaration_gets_the_same_event_id() -> None:
    """A re-sent declaration has the event id it had the first time, so it can be de-duplicated."""
    first = parse_event(example("sea"))
    doc = example("sea")
    doc["goods_items"][0]["value"] = 1.0  # an amendment keeps the declaration's id
    assert parse_event(doc).event_id == first.event_id
    assert parse_event(example("air")).event_id != first.event_id


# --- check digits are screened, not refused --------------------------------------------


def test_a_container_failing_its_check_digit_is_taken_and_flagged_by_the_rule() -> None:
    """A well-shaped container number with a wrong check digit gives an event, and the
    container check-digit rule fires on it."""
    doc = example("sea")
    doc["goods_items"][0]["containers"] = ["MSCU1234567"]
    assert not iso6346_valid("MSCU1234567")
    event = parse_event(doc)
    assert event.goods[0].containers == ("MSCU1234567",)
    spec = load_rules()["freight_container_check_digit"]
    [enriched] = enrich_batch([event], reference())
    [finding] = spec.evaluate(enriched, spec.build_config({}), "live")
    assert finding.evidence == {"invalid_containers": "MSCU1234567"}


def test_an_imo_number_failing_its_check_digit_is_taken() -> None:
    """A seven-digit IMO number with a wrong check digit is kept on the event, not refused."""
    doc = example("sea")
    doc["means_of_transport"]["vessel_imo"] = "9182735"
    assert not imo_valid("9182735")
    assert parse_event(doc).means.vessel_imo == "9182735"


# --- refusals ----------------------------------------------------------------------------

#: A value no detail may repeat.
SECRET = "Zebediah Quuxworth"


def _set(path: str, value: Any) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for step in parents:
            node = node[int(step)] if isinstance(node, list) else node[step]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return change


def _drop(path: str) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for step in parents:
            node = node[int(step)] if isinstance(node, list) else node[step]
        del node[last]

    return change


def _both(*changes: Callable[[Doc], None]) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        for one in changes:
            one(doc)

    return change


REFUSALS: dict[str, tuple[Callable[[Doc], None], str, str, str]] = {
    # name: (change to the sea example, reason, text the detail must contain, value it must not)
    "missing consignee": (_drop("consignee"), "declaration_invalid_schema", "consignee: missing", SECRET),
    "mass as text": (
        _set("goods_items.0.gross_mass_kg", SECRET),
        "declaration_invalid_schema", "goods_items.0.gross_mass_kg", SECRET,
    ),
    "unknown field": (
        _set("consignee.favourite_colour", SECRET),
        "declaration_invalid_schema", "consignee.<unknown field>: extra_forbidden", "favourite_colour",
    ),
    "naive lodging time": (
        _set("lodged_at", "2025-03-01T08:15:00"), "declaration_invalid_schema", "lodged_at: timezone_aware",
        "2025-03-01",
    ),
    "unknown mode": (
        _set("mode_of_transport", "pipeline"), "declaration_invalid_schema",
        "mode_of_transport: literal_error", "pipeline",
    ),
    "flight on a ship": (
        _set("means_of_transport.flight", "BA0117"), "declaration_invalid_schema",
        "means_of_transport: means_not_of_mode", "BA0117",
    ),
    "duplicate sequence numbers": (
        _set("goods_items.1.sequence_number", 1), "declaration_invalid_schema",
        "goods_items: duplicate_sequence_number", SECRET,
    ),
    "no goods": (_set("goods_items", []), "declaration_invalid_schema", "goods_items: too_short", SECRET),
    "HS code with dots": (
        _set("goods_items.0.hs_code", "6109.10"), "declaration_invalid_schema",
        "goods_items.0.hs_code: string_pattern_mismatch", "6109.10",
    ),
    "container too short": (
        _set("goods_items.1.containers.1", "OOLU240518"), "declaration_invalid_container",
        "goods_items.1.containers.1: not an ISO 6346 container number", "OOLU240518",
    ),
    "container with a wrong category": (
        _set("goods_items.0.containers.0", "MSCA1234566"), "declaration_invalid_container",
        "goods_items.0.containers.0", "MSCA1234566",
    ),
    "container in lower case": (
        _set("goods_items.0.containers.0", "mscu1234566"), "declaration_invalid_container",
        "goods_items.0.containers.0", "mscu1234566",
    ),
    "IMO with prefix": (
        _set("means_of_transport.vessel_imo", "IMO 9182734"), "declaration_invalid_imo",
        "means_of_transport.vessel_imo: an IMO number is seven digits", "9182734",
    ),
    "IMO of six digits": (
        _set("means_of_transport.vessel_imo", "918273"), "declaration_invalid_imo",
        "means_of_transport.vessel_imo", "918273",
    ),
    "HS chapter 77": (
        _set("goods_items.1.hs_code", "770100"), "declaration_unknown_hs_chapter",
        "goods_items.1.hs_code: no HS chapter", "770100",
    ),
    "HS chapter 99": (
        _set("goods_items.0.hs_code", "9901"), "declaration_unknown_hs_chapter",
        "goods_items.0.hs_code", "9901",
    ),
    "unknown address country": (
        _set("consignee.address.country", "QZ"), "declaration_unknown_country",
        "consignee.address.country: not an ISO 3166-1 alpha-2 country code", "QZ",
    ),
    "unknown origin and routing countries": (
        _both(_set("goods_items.0.country_of_origin", "ZZ"), _set("countries_of_routing.1", "QQ")),
        "declaration_unknown_country", "goods_items.0.country_of_origin", "ZZ",
    ),
    "UN/LOCODE of no country": (
        _set("place_of_loading", "QZSHA"), "declaration_unknown_locode_country",
        "place_of_loading: the UN/LOCODE's first two letters are no ISO 3166-1 country", "QZSHA",
    ),
    "arrival at a UN/LOCODE of no country": (
        _set("expected_arrival.place", "XXFXT"), "declaration_unknown_locode_country",
        "expected_arrival.place", "XXFXT",
    ),
    "problems of two kinds": (
        _both(_set("consignee.address.country", "QZ"), _set("goods_items.0.containers.0", "MSCU12")),
        "declaration_invalid_schema", "consignee.address.country: unknown_country", "MSCU12",
    ),
}


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_a_malformed_declaration_is_refused_with_a_precise_reason(name: str) -> None:
    """Each kind of defect has its reason; the detail names the field path and the rule,
    never the offending value."""
    change, reason, said, unsaid = REFUSALS[name]
    doc = example("sea")
    change(doc)
    got_reason, detail = refusal(orjson.dumps(doc))
    assert got_reason == reason
    assert said in detail
    assert unsaid not in detail


def test_the_detail_of_problems_of_two_kinds_names_both() -> None:
    """A document with a bad container and an unknown country lists both fields."""
    doc = example("sea")
    REFUSALS["problems of two kinds"][0](doc)
    _, detail = refusal(orjson.dumps(doc))
    assert "goods_items.0.containers.0: string_pattern_mismatch" in detail


@pytest.mark.parametrize(
    ("value", "reason", "detail"),
    [
        (b'{"declaration_id": "25GB', "declaration_invalid_json", "not valid JSON at char"),
        (b"\xff\xfe{}", "declaration_invalid_json", "not valid JSON"),
        (b"", "declaration_invalid_json", "not valid JSON"),
        (b"NaN", "declaration_invalid_json", "not valid JSON"),
        (b'["Zebediah Quuxworth"]', "declaration_not_an_object", "got list"),
        (b'"Zebediah Quuxworth"', "declaration_not_an_object", "got str"),
        (b"null", "declaration_not_an_object", "got NoneType"),
        (b"{}", "declaration_invalid_schema", "declaration_id: missing"),
    ],
)
def test_bytes_that_are_no_json_object_are_refused(value: bytes, reason: str, detail: str) -> None:
    """Not JSON, or JSON that is not one object, is refused before any field is read."""
    got_reason, got_detail = refusal(value)
    assert got_reason == reason
    assert detail in got_detail
    assert SECRET not in got_detail


def test_an_unreadable_broker_timestamp_is_refused() -> None:
    """A broker timestamp beyond any calendar gives a declaration_ reason, not an exception."""
    result = parse_declaration(message(example_path("sea").read_bytes(), timestamp_ms=2**62))
    assert result.events == []
    [(_, reason, _)] = result.refused
    assert reason == "declaration_invalid_timestamp"


def test_a_parser_defect_is_a_refusal_naming_only_the_exception_type(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An unexpected exception inside the parser refuses the message with its type only."""

    def broken(*args: Any, **kwargs: Any) -> FreightEvent:
        raise RuntimeError(SECRET)

    monkeypatch.setattr(declaration_parser, "event_of", broken)
    value = example_path("sea").read_bytes()
    [refused] = parse(value, defect_expected=True).refused
    assert refused == (value, "declaration_parser_error", "RuntimeError")


def test_the_longest_values_the_declaration_allows_fit_the_event() -> None:
    """Every field at its longest still makes an event: the declaration is never looser
    than FreightEvent, so a valid document cannot become a parser error."""
    doc = example("sea")
    doc["declaration_id"] = "D" * 40
    doc["means_of_transport"]["vessel_name"] = "V" * 35
    doc["consignee"] = {
        "name": "N" * 200,
        "address": {"street": "S" * 150, "city": "C" * 100, "postcode": "P" * 20, "country": "GB"},
        "trader_id": "T" * 40,
        "phone": "+" + "1" * 39,
        "email": "\u0130" * 64 + "@" + "E" * 181 + ".example",
    }
    doc["goods_items"][0]["description"] = "D" * 500
    event = parse_event(doc)
    assert event.consignee.email is not None and len(event.consignee.email) == 254
    assert event.consignee.email.startswith("\u0130" * 64 + "@eee")


# --- the writer and the round trip --------------------------------------------------------


@lru_cache(maxsize=1)
def simulated_events() -> tuple[FreightEvent, ...]:
    """The simulator's freight consignments of all three modes, with the ids the parser makes."""
    events = []
    for i, msg in enumerate(TrafficGenerator(seed=4, malformed_share=0.0).messages(400)):
        if msg.topic_base != "raw.freight":
            continue
        doc = orjson.loads(msg.value)
        doc.update(
            source="declaration",
            source_id=doc["declaration_id"],
            event_id=stable_id("freight", "declaration", doc["declaration_id"]),
            received_at=RECEIVED.isoformat(),
        )
        if i % 3 == 0:  # some consignees with contact details, as the examples have
            doc["consignee"] = {**doc["consignee"], "phone": f"+447700900{i % 1000:03d}",
                                "email": f"trade{i}@example.com"}
        events.append(FreightEvent.model_validate(doc))
    assert {e.mode_of_transport for e in events} == {"sea", "air", "road"}
    return tuple(events)


def test_events_round_trip_through_the_declaration_format() -> None:
    """event -> declaration_from_event -> declaration_bytes -> parse_declaration gives the
    same event back, apart from the time it was received."""
    for event in simulated_events():
        result = parse(declaration_bytes(declaration_from_event(event)))
        assert result.refused == []
        [(back, _)] = result.events
        assert back.model_copy(update={"received_at": event.received_at}) == event


@pytest.mark.parametrize("kind", KINDS)
def test_examples_round_trip_through_the_writer(kind: str) -> None:
    """Parsing an example, writing the event and parsing again gives the same event."""
    event = parse_event(example(kind))
    again = parse(declaration_bytes(declaration_from_event(event)))
    assert [e for e, _ in again.events] == [event]


def test_the_writer_can_name_a_place_of_discharge_other_than_the_first_entry() -> None:
    """With place_of_discharge, the document arrives first at the event's place and unloads
    at the other, which the parser then takes as the arrival place."""
    event = parse_event(example("sea"))
    doc = declaration_from_event(event, place_of_discharge="GBSOU")
    assert doc.expected_arrival.place == "GBFXT" and doc.place_of_discharge == "GBSOU"
    [(back, _)] = parse(declaration_bytes(doc)).events
    assert isinstance(back, FreightEvent) and back.expected_arrival.place == "GBSOU"


def test_declaration_bytes_are_compact_sorted_and_deterministic() -> None:
    """Same event, same bytes: keys sorted, no whitespace, no nulls, UTC written as Z."""
    event = parse_event(example("air"))
    first = declaration_bytes(declaration_from_event(event))
    assert first == declaration_bytes(declaration_from_event(event))
    assert b" :" not in first and b": " not in first and b"null" not in first
    assert b'"at":"2025-03-01T14:55:00Z"' in first
    keys = list(orjson.loads(first))
    assert keys == sorted(keys)


def test_the_writer_refuses_what_the_format_cannot_carry() -> None:
    """An event without a place of loading, or with an address but no country, cannot be
    written as a declaration."""
    event = parse_event(example("sea"))
    with pytest.raises(ValueError, match="place_of_loading"):
        declaration_from_event(event.model_copy(update={"place_of_loading": None}))
    homeless = event.consignee.model_copy(update={"country": None})
    with pytest.raises(ValueError, match="consignee"):
        declaration_from_event(event.model_copy(update={"consignee": homeless}))


# --- fuzz: nothing raises, every message is one event or one refusal --------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)




def _at(doc: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        doc = doc[step]
    return doc


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _no_leak(result: FeedResult, injected: Any) -> None:
    """No refusal detail repeats an injected string long enough to be a real value."""
    for _, _, detail in result.refused:
        for text in _strings(injected):
            if len(text) >= 8:
                assert text not in detail


#: Every field name of the declaration and its parts: adding one may still be valid.
FIELD_NAMES = frozenset(
    name
    for model in (
        ConsignmentDeclaration, DeclaredParty, PostalAddress, TransportMeans, DeclaredGoodsItem, Packaging,
        ArrivalEstimate,
    )
    for name in model.model_fields
)


@lru_cache(maxsize=1)
def seed_documents() -> tuple[Doc, ...]:
    """Valid documents to mutate: the three examples and a few written from simulated events."""
    written = [orjson.loads(declaration_bytes(declaration_from_event(e))) for e in simulated_events()[:6]]
    return tuple([example(k) for k in KINDS] + written)


seeds = st.integers(min_value=0, max_value=8).map(lambda i: copy.deepcopy(seed_documents()[i]))


@FUZZ
@given(st.binary(max_size=400))
def test_arbitrary_bytes_give_one_outcome(value: bytes) -> None:
    """Any bytes at all: one event or one refusal, never an exception."""
    parse(value)


@FUZZ
@given(json_values)
def test_arbitrary_json_gives_one_outcome(value: Any) -> None:
    """Any JSON value: one event or one refusal, and no refusal repeats its strings."""
    _no_leak(parse(orjson.dumps(value)), value)


@FUZZ
@given(seeds, st.data(), json_values)
def test_a_value_replaced_by_arbitrary_json_gives_one_outcome(
    doc: Doc, data: st.DataObject, new: Any
) -> None:
    """A valid declaration with one value anywhere replaced: one event or one refusal."""
    path = data.draw(st.sampled_from([p for p in json_paths(doc) if p]))
    _at(doc, path[:-1])[path[-1]] = new
    _no_leak(parse(orjson.dumps(doc)), new)


@FUZZ
@given(seeds, st.data())
def test_a_key_deleted_gives_one_outcome(doc: Doc, data: st.DataObject) -> None:
    """A valid declaration with one member of any object removed: one event or one refusal."""
    paths = [p for p in json_paths(doc) if p and isinstance(_at(doc, p[:-1]), dict)]
    path = data.draw(st.sampled_from(paths))
    del _at(doc, path[:-1])[path[-1]]
    parse(orjson.dumps(doc))


@FUZZ
@given(seeds, st.data(), st.text(min_size=1, max_size=20), json_values)
def test_a_key_added_gives_one_outcome(doc: Doc, data: st.DataObject, key: str, value: Any) -> None:
    """A valid declaration with a new member in any object: one event or one refusal, and an
    unknown key is refused without repeating its name."""
    objects = [p for p in json_paths(doc) if isinstance(_at(doc, p), dict)]
    target = _at(doc, data.draw(st.sampled_from(objects)))
    known = key in target or key in FIELD_NAMES
    target[key] = value
    result = parse(orjson.dumps(doc))
    if not known:
        assert result.events == []
        _no_leak(result, {key: value})


@FUZZ
@given(seeds, st.data())
def test_truncated_bytes_give_one_outcome(doc: Doc, data: st.DataObject) -> None:
    """A valid declaration cut short anywhere is refused as invalid JSON, never raises."""
    value = orjson.dumps(doc)
    cut = data.draw(st.integers(min_value=0, max_value=len(value) - 1))
    reason, _ = refusal(value[:cut])
    assert reason == "declaration_invalid_json"


@FUZZ
@given(seeds)
def test_the_seed_documents_are_valid(doc: Doc) -> None:
    """Every document the mutations start from parses to an event, so a refusal is the mutation's."""
    assert parse(orjson.dumps(doc)).refused == []
