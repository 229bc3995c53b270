"""The normalise stage: raw feed messages in, typed events or dead letters out."""

from __future__ import annotations

import base64
import hashlib

import orjson
import pytest

from engine.messages import RawMessage
from engine.normalise import normalise_batch
from engine.normalise.stage import mode_of_topic
from schemas import DeadLetter, FreightEvent, PassengerEvent, VesselEvent, stable_id
from tests.fixtures.events import (
    RECEIVED,
    RECEIVED_MS,
    freight_doc,
    passenger_doc,
    raw_message,
    vessel_doc,
)

# A value no field name or error type could contain; it must never reach a dead letter's detail.
SECRET_VALUE = "Zz-SECRET-VALUE-93817-zZ"


def _only_deadletter(raw: RawMessage, max_bytes: int = 1_000_000) -> DeadLetter:
    result = normalise_batch([raw], max_bytes=max_bytes)
    assert result.events == []
    assert len(result.deadletters) == 1
    return result.deadletters[0]


@pytest.mark.parametrize(
    ("doc", "model"),
    [(passenger_doc(), PassengerEvent), (freight_doc(), FreightEvent), (vessel_doc(), VesselEvent)],
    ids=["passenger", "freight", "vessel"],
)
def test_valid_json_becomes_a_typed_event(doc: dict, model: type) -> None:
    """A valid JSON event of each mode normalises to that mode's event, with no dead letter."""
    result = normalise_batch([raw_message(doc)])
    assert result.deadletters == []
    [event] = result.events
    assert isinstance(event, model)
    assert event.source_id == doc["source_id"]


@pytest.mark.parametrize(
    "doc", [passenger_doc(), freight_doc(), vessel_doc()], ids=["passenger", "freight", "vessel"]
)
def test_event_id_is_derived_from_mode_source_and_source_id(doc: dict) -> None:
    """The same message normalised twice, even at other offsets, gets the same deterministic id."""
    first = normalise_batch([raw_message(doc, offset=1)]).events[0]
    again = normalise_batch([raw_message(doc, offset=99, timestamp_ms=RECEIVED_MS + 5000)]).events[
        0
    ]
    assert (
        first.event_id == again.event_id == stable_id(doc["mode"], doc["source"], doc["source_id"])
    )


def test_event_id_differs_per_source_message() -> None:
    """Two messages with different source ids get different event ids."""
    one = normalise_batch([raw_message(passenger_doc(source_id="a-1"))]).events[0]
    two = normalise_batch([raw_message(passenger_doc(source_id="a-2"))]).events[0]
    assert one.event_id != two.event_id


def test_producer_cannot_forge_event_id_or_received_at() -> None:
    """event_id and received_at in the payload are replaced by ours."""
    doc = passenger_doc(event_id="forged-id", received_at="1999-01-01T00:00:00+00:00")
    [event] = normalise_batch([raw_message(doc)]).events
    assert event.event_id == stable_id("passenger", "json", "pax-0001")
    assert event.received_at == RECEIVED


def test_received_at_comes_from_the_broker_timestamp() -> None:
    """received_at is the RawMessage timestamp, not the time the event happened."""
    [event] = normalise_batch([raw_message(vessel_doc(), timestamp_ms=RECEIVED_MS)]).events
    assert event.received_at == RECEIVED
    assert event.occurred_at != event.received_at


def test_batch_keeps_input_order_and_separates_bad_messages() -> None:
    """A batch yields good events in input order and one dead letter per bad message."""
    batch = [
        raw_message(vessel_doc(), offset=0),
        raw_message(b"{not json", offset=1),
        raw_message(passenger_doc(), offset=2),
        raw_message(b"", offset=3),
        raw_message(freight_doc(), offset=4),
    ]
    result = normalise_batch(batch)
    assert [e.mode for e in result.events] == ["vessel", "passenger", "freight"]
    assert [(d.source_offset, d.reason) for d in result.deadletters] == [
        (1, "invalid_json"),
        (3, "empty"),
    ]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (raw_message(b""), "empty"),
        (raw_message(b'{"mode": '), "invalid_json"),
        (raw_message(b"\xff\xfe{}"), "invalid_json"),
        (raw_message(b"[1, 2, 3]"), "not_an_object"),
        (raw_message(b'"passenger"'), "not_an_object"),
        (raw_message(passenger_doc(mode="rail")), "unknown_mode"),
        (raw_message({"source": "json", "source_id": "x"}), "unknown_mode"),
        (raw_message(vessel_doc(), topic="raw.passenger"), "mode_mismatch"),
        (raw_message(vessel_doc(), topic="t1.raw.passenger"), "mode_mismatch"),
        (raw_message(vessel_doc(), topic="raw.t1.raw.passenger"), "mode_mismatch"),
        (raw_message(passenger_doc(source_id="")), "invalid_schema"),
        (raw_message(passenger_doc(flight={"arrival_airport": "not-iata"})), "invalid_schema"),
    ],
    ids=[
        "empty",
        "truncated-json",
        "not-utf8",
        "array",
        "string",
        "unknown-mode",
        "no-mode",
        "mode-mismatch",
        "mode-mismatch-prefixed",
        "mode-mismatch-prefix-with-raw",
        "empty-source-id",
        "bad-field",
    ],
)
def test_each_bad_input_yields_one_deadletter_with_its_reason(raw: RawMessage, reason: str) -> None:
    """Each class of bad input becomes exactly one dead letter with the matching reason code."""
    dead = _only_deadletter(raw)
    assert dead.reason == reason
    assert dead.stage == "normalise"
    assert dead.detail


def test_message_over_the_size_limit_is_too_large() -> None:
    """A message bigger than max_bytes is refused as too_large before it is parsed."""
    raw = raw_message(passenger_doc())
    dead = _only_deadletter(raw, max_bytes=len(raw.value) - 1)
    assert dead.reason == "too_large"
    assert normalise_batch([raw], max_bytes=len(raw.value)).events  # exactly at the limit is fine


@pytest.mark.parametrize(
    "topic", ["raw.passenger", "t1.raw.passenger", "prod.eu.raw.passenger", "raw.x.raw.passenger"]
)
def test_matching_mode_on_a_prefixed_topic_is_accepted(topic: str) -> None:
    """A passenger event on the passenger feed is accepted whatever the topic prefix."""
    assert mode_of_topic(topic) == "passenger"
    assert len(normalise_batch([raw_message(passenger_doc(), topic=topic)]).events) == 1


@pytest.mark.parametrize("topic", [None, "replay-file", "events.passenger", "raw.cargo"])
def test_topics_that_name_no_feed_do_not_constrain_the_mode(topic: str | None) -> None:
    """Without a raw.<mode> topic (file replay, other topics) any mode is accepted."""
    assert mode_of_topic(topic) is None
    assert len(normalise_batch([raw_message(vessel_doc(), topic=topic)]).events) == 1


@pytest.mark.parametrize(
    ("doc", "field_path"),
    [
        (passenger_doc(traveller={"nationality": SECRET_VALUE}), "traveller.nationality"),
        (passenger_doc(flight={"departure_airport": SECRET_VALUE}), "flight.departure_airport"),
        (passenger_doc(booking={"payment_type": SECRET_VALUE}), "booking.payment_type"),
        (vessel_doc(mmsi=SECRET_VALUE), "mmsi"),
        (
            freight_doc(goods=[{**freight_doc()["goods"][0], "hs_code": SECRET_VALUE}]),
            "goods.0.hs_code",
        ),
    ],
    ids=["nationality", "airport", "payment", "mmsi", "hs-code"],
)
def test_invalid_schema_detail_names_the_field_but_not_its_value(
    doc: dict, field_path: str
) -> None:
    """An invalid field is named by its path in the detail, and its value is not repeated."""
    dead = _only_deadletter(raw_message(doc))
    assert dead.reason == "invalid_schema"
    assert field_path in dead.detail
    assert SECRET_VALUE not in dead.detail
    assert SECRET_VALUE not in dead.model_dump_json(exclude={"payload_b64"})


def test_invalid_json_detail_does_not_echo_the_payload() -> None:
    """Unparseable bytes are described by position, not by quoting them."""
    dead = _only_deadletter(raw_message(f'{{"surname": "{SECRET_VALUE}", '.encode()))
    assert dead.reason == "invalid_json"
    assert SECRET_VALUE not in dead.detail


def test_deadletter_keeps_the_original_message_and_where_it_came_from() -> None:
    """A dead letter carries the exact bytes (base64), their sha256 and size, key and position."""
    payload = b'  {"mode": "passenger", "source": \xff broken\n'
    raw = RawMessage(
        value=payload,
        key=b"msg-42",
        topic="t1.raw.passenger",
        partition=3,
        offset=1234,
        timestamp_ms=RECEIVED_MS,
    )
    dead = _only_deadletter(raw)
    assert base64.b64decode(dead.payload_b64) == payload
    assert dead.payload_sha256 == hashlib.sha256(payload).hexdigest()
    assert dead.payload_size == len(payload)
    assert base64.b64decode(dead.source_key_b64 or "") == b"msg-42"
    assert (dead.source_topic, dead.source_partition, dead.source_offset) == (
        "t1.raw.passenger",
        3,
        1234,
    )
    assert dead.dead_at.tzinfo is not None


def test_deadletter_without_key_or_topic_still_round_trips() -> None:
    """A replayed line with no key, topic or offset still becomes a complete dead letter."""
    raw = RawMessage(value=orjson.dumps([1]))
    dead = _only_deadletter(raw)
    assert dead.source_key_b64 is None
    assert dead.source_topic is None and dead.source_offset is None
    assert base64.b64decode(dead.payload_b64) == b"[1]"
    DeadLetter.model_validate_json(dead.model_dump_json())


def test_digits_from_other_scripts_are_not_an_mmsi() -> None:
    """An MMSI written in Arabic-Indic digits is refused, so it cannot split a vessel's track."""
    doc = {**vessel_doc(), "mmsi": "١٢٣٤٥٦٧٨٩"}
    letter = _only_deadletter(RawMessage(value=orjson.dumps(doc), topic="raw.vessel"))
    assert letter.reason == "invalid_schema" and "mmsi" in letter.detail


def test_an_unknown_field_name_is_not_repeated_in_the_detail() -> None:
    """A producer's unknown key may itself be personal data: the detail says where, not what."""
    doc = {**passenger_doc(), "Jane Example 1984-02-11 X1234567": "x"}
    letter = _only_deadletter(RawMessage(value=orjson.dumps(doc), topic="raw.passenger"))
    assert letter.reason == "invalid_schema"
    assert "Jane" not in letter.detail and "<unknown field>" in letter.detail


def test_a_broker_timestamp_beyond_any_date_is_its_own_reason() -> None:
    """A timestamp that is not a representable time is refused as such, not as a parser bug."""
    raw = RawMessage(value=orjson.dumps(vessel_doc()), topic="raw.vessel", timestamp_ms=10**15)
    assert _only_deadletter(raw).reason == "invalid_timestamp"
