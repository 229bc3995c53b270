"""Hostile input on every stage entry point: nothing raises, every message is accounted for once.

Each input message must come out as exactly one thing: an output record (an event, a
score) or a dead letter with a reason, never both and never neither. Dead letters keep
the original bytes and must not repeat the input's values in their detail, because
those values may be personal data.

The most useful inputs are valid events with one small thing wrong, so most strategies
start from the demo traffic generator's messages and mutate them: a value replaced by
arbitrary JSON, a key deleted or added, the mode changed, the bytes truncated or flipped.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pyais import encode_dict

from engine.alert.cases import OpenAlert
from engine.enrich import parse_events
from engine.enrich.join import JoinState
from engine.flow.hops import DecideHop, NormaliseHop, booking_store, track_store
from engine.messages import RawMessage, dead_letter
from engine.normalise import normalise_batch
from engine.normalise.ais import looks_like_nmea
from engine.normalise.stage import mode_of_topic
from engine.score.track import TrackState
from engine.settings import ReferenceSettings, Settings, WorkerSettings
from engine.simulate import TrafficGenerator
from schemas import DeadLetter
from schemas.deadletter import PAYLOAD_LIMIT
from tests.fixtures.mutate import json_paths

# --- budgets ----------------------------------------------------------------------------

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FUZZ_SMALL = settings(FUZZ, max_examples=60)

MODES = ("passenger", "freight", "vessel")
#: Nine digits, but not ASCII ones: "\d" in the schemas' patterns matches them.
ARABIC_INDIC_MMSI = "\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669"
#: (topic, document) pairs of valid messages.
Pool = tuple[tuple[str, dict[str, Any]], ...]
BROKER_MS = int(datetime(2026, 6, 1, 7, 0, tzinfo=UTC).timestamp() * 1000)
#: A detail may name fields and problems, but no run this long of any input value.
LEAK_RUN = 12
#: A small event limit, so that ordinary events with a little padding exceed it.
SMALL_EVENT_LIMIT = 2048

SMALL_LIMIT_SETTINGS = Settings(worker=WorkerSettings(max_event_bytes=SMALL_EVENT_LIMIT))
# High-risk routes configured, so that the route-matching code in enrich runs too.
DECIDE_SETTINGS = Settings(
    reference=ReferenceSettings(high_risk_routes=["IR-GB", "IKA-LHR", "MM-GB"])
)


# --- the valid traffic every mutation starts from ---------------------------------------


@lru_cache(maxsize=1)
def raw_pool() -> Pool:
    """Valid ``raw.*`` documents of all three modes, with the topic each was sent to."""
    messages = TrafficGenerator(seed=20260601, malformed_share=0.0).messages(160)
    pool = tuple((m.topic_base, orjson.loads(m.value)) for m in messages)
    assert {topic for topic, _ in pool} == {f"raw.{m}" for m in MODES}
    return pool


@lru_cache(maxsize=1)
def ais_pool() -> tuple[bytes, ...]:
    """AIS sentences encoded here: positions (types 1, 18), voyage data in two fragments
    (type 5), a class B static report (24), and one behind a tag block."""
    docs: list[dict[str, Any]] = [
        {"type": 1, "mmsi": 235012345, "lat": 51.5, "lon": 1.25, "speed": 12.3, "course": 87.5, "second": 17},
        {"type": 18, "mmsi": 244123456, "lat": 52.1, "lon": 4.2, "speed": 6.5, "second": 5},
        {"type": 5, "mmsi": 538001234, "imo": 9074729, "shipname": "NORTHERN STAR", "month": 6, "day": 3},
        {"type": 24, "mmsi": 244123456, "partno": 0, "shipname": "WADDEN"},
    ]
    lines = [s.encode() for d in docs for s in encode_dict(d, talker_id="AI", sentence_type="VDM", seq_id=1)]
    return (*lines, b"\\s:r1,c:1780000000*5C\\" + lines[0])


@lru_cache(maxsize=1)
def event_pool() -> Pool:
    """Valid ``events.<mode>`` documents: the generator's traffic after the normalise hop."""
    raws = [
        RawMessage(orjson.dumps(doc), None, topic, 0, i, BROKER_MS + i)
        for i, (topic, doc) in enumerate(raw_pool())
    ]
    out = NormaliseHop(Settings()).run(raws)
    assert out.deadletters == [], [d.reason for d in out.deadletters]
    return tuple(
        (f"events.{ev.mode}", orjson.loads(value))
        for ev, value in zip(out.events, out.encoded, strict=True)
    )


@lru_cache(maxsize=1)
def known_keys() -> tuple[str, ...]:
    """Every field name the valid documents use, so mutations can add real fields too."""
    keys: set[str] = set()
    for _, doc in raw_pool() + event_pool():
        for node in _walk(doc):
            if isinstance(node, dict):
                keys.update(node)
    return tuple(sorted(keys))


@lru_cache(maxsize=1)
def decide_hop() -> DecideHop:
    """One decide hop for the module: building its rules is too slow to do per example."""
    return DecideHop(DECIDE_SETTINGS)


def fresh_decide_hop() -> DecideHop:
    """The module's decide hop with empty state (tracks, join), so every example starts alike."""
    hop = decide_hop()
    hop.tracks = track_store(DECIDE_SETTINGS)
    hop.bookings = booking_store(DECIDE_SETTINGS)
    return hop


def _walk(value: Any) -> Iterator[Any]:
    """Every node of a JSON value, iteratively (fuzzed values can be very deep)."""
    stack = [value]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)




def _at(doc: Any, path: Sequence[Any]) -> Any:
    for step in path:
        doc = doc[step]
    return doc


# --- hostile values ---------------------------------------------------------------------


def _deep(depth: int, opener: bytes, closer: bytes, core: bytes = b"1") -> bytes:
    return opener * depth + core + closer * depth


def _splice_field(doc_bytes: bytes, field: bytes) -> bytes:
    """A JSON object with one more member, written as raw bytes (for literals JSON lacks)."""
    return doc_bytes[:-1] + b"," + field + b"}"


def _first(pool: Pool, topic: str, positioned: bool = False) -> Any:
    return copy.deepcopy(next(
        doc for t, doc in pool if t == topic and (doc.get("position") or not positioned)
    ))


def _hostile(pool: Pool, feed: str) -> dict[str, tuple[str | None, bytes]]:
    """Named nasty messages built from the first valid documents of ``pool``: (topic, bytes)."""
    pax, freight = _first(pool, f"{feed}.passenger"), _first(pool, f"{feed}.freight")
    ship = _first(pool, f"{feed}.vessel", positioned=True)
    pax_b, ship_b = orjson.dumps(pax), orjson.dumps(ship)
    pax_t, freight_t, ship_t = (f"{feed}.{m}" for m in MODES)

    def with_ship(**fields: Any) -> bytes:
        return json.dumps({**ship, **fields}).encode()

    def with_deep_field(depth: int) -> bytes:
        return _splice_field(ship_b, b'"x":' + _deep(depth, b"[", b"]"))

    def at_all_times(moment: Any) -> bytes:
        times = ("observed_at", "occurred_at") + (("received_at",) if "received_at" in ship else ())
        return with_ship(**dict.fromkeys(times, moment))

    def huge_cotraveller(size: int) -> bytes:
        doc = copy.deepcopy(pax)
        doc.setdefault("booking", {})["co_travellers"] = ["A" * size]
        return orjson.dumps(doc)

    lat = b'"lat":' + json.dumps(ship["position"]["lat"]).encode()
    return {
        "empty": (ship_t, b""),
        "null": (ship_t, b"null"),
        "whitespace": (ship_t, b" \n\t "),
        "nul_bytes": (ship_t, b"\x00" * 64),
        "deep_lists_5000": (ship_t, _deep(5000, b"[", b"]")),
        "deep_objects_5000": (ship_t, _deep(5000, b'{"a":', b"}")),
        "deep_value_in_event_5000": (ship_t, with_deep_field(5000)),
        "deep_value_in_event_900": (ship_t, with_deep_field(900)),
        "deep_value_in_name_900": (ship_t, with_ship(name=json.loads(_deep(900, b"[", b"]")))),
        "nan_literal": (ship_t, ship_b.replace(lat, b'"lat":NaN', 1)),
        "infinity_literal": (ship_t, ship_b.replace(lat, b'"lat":Infinity', 1)),
        "minus_infinity_literal": (ship_t, ship_b.replace(lat, b'"lat":-Infinity', 1)),
        "float_overflow": (ship_t, ship_b.replace(lat, b'"lat":1e400', 1)),
        "float_underflow": (ship_t, ship_b.replace(lat, b'"lat":1e-400', 1)),
        "big_int": (ship_t, with_ship(ship_type=10**40)),
        "huge_string_2mb": (ship_t, with_ship(name="A" * 2_000_000)),
        "huge_string_300kb": (ship_t, with_ship(name="B" * 300_000)),
        "huge_cotraveller_450kb": (pax_t, huge_cotraveller(450_000)),
        "huge_cotraveller_3kb": (pax_t, huge_cotraveller(3_000)),
        "many_goods": (freight_t, orjson.dumps({**freight, "goods": freight["goods"] * 1000})),
        "bom": (pax_t, b"\xef\xbb\xbf" + pax_b),
        "utf16": (pax_t, pax_b.decode().encode("utf-16")),
        "latin1": (pax_t, pax_b.replace(b'"source":"', b'"source":"M\xfcller', 1)),
        "lone_surrogate": (pax_t, pax_b.replace(b'"source_id":"', b'"source_id":"\\ud800', 1)),
        "duplicate_mode": (pax_t, _splice_field(pax_b, b'"mode":"freight"')),
        "trailing_garbage": (pax_t, pax_b + b"}"),
        "two_objects": (pax_t, pax_b + b"\n" + pax_b),
        "array_of_event": (pax_t, b"[" + pax_b + b"]"),
        "mode_on_wrong_feed": (freight_t, pax_b),
        "no_topic": (None, pax_b),
        "empty_ids": (ship_t, with_ship(event_id="", source="", source_id="")),
        "far_future_datetime": (ship_t, at_all_times("9999-12-31T23:59:59.999999-23:59")),
        "far_past_datetime": (ship_t, at_all_times("0001-01-01T00:00:00+23:59")),
        "epoch_number_datetime": (ship_t, at_all_times(-62_135_596_800)),
        "unicode_digit_mmsi": (ship_t, with_ship(mmsi=ARABIC_INDIC_MMSI)),
        "control_chars": (ship_t, with_ship(name="\u0000\u202e\ufeff\U0010ffff")),
    }


@lru_cache(maxsize=1)
def hostile_raw() -> dict[str, tuple[str | None, bytes]]:
    """Named nasty messages for ``raw.*``, built from valid raw documents."""
    return _hostile(raw_pool(), "raw")


@lru_cache(maxsize=1)
def hostile_events() -> dict[str, tuple[str | None, bytes]]:
    """Named nasty messages for ``events.<mode>``, built from valid normalised events."""
    return _hostile(event_pool(), "events")


#: Valid datetimes at the ends of what Python can hold, and a microsecond apart.
EXTREME_TIMES = [
    "0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59.999999-23:59",
    "2026-06-01T06:00:00Z", "2026-06-01T06:00:00.000001Z", "2026-06-01T07:00:00+01:00",
]


def _offset_datetimes() -> st.SearchStrategy[str]:
    offsets = st.integers(-86_399, 86_399).map(lambda s: timezone(timedelta(seconds=s)))
    return st.datetimes(timezones=offsets).map(lambda d: d.isoformat())


#: Strings shaped like the values the schemas expect, so mutations get past the first check.
LOOKALIKES = st.one_of(
    st.sampled_from([
        "", "passenger", "freight", "vessel", "PASSENGER", "position", "voyage", "sea",
        "2026-06-01T06:00:00", "2026-02-30T00:00:00Z", "9999-12-31T23:59:59-23:59",
        "0001-01-01T00:00:00+23:59", "1970-01-01", "GB", "GBR", "IR", "IRN", "LHR", "IKA",
        "GBFXT", "123456789", "1234567", ARABIC_INDIC_MMSI,
        "\x00", "NaN", "Infinity", "X" * 300, "\ud800", "\udc00x", "\ud800\udc00",
    ]),
    _offset_datetimes(),
    st.from_regex(r"\A\d{4,10}\Z"),
    st.from_regex(r"\A[A-Z]{2,5}\Z"),
)

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(),
    LOOKALIKES,
)

JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12) | st.deferred(lambda: st.sampled_from(known_keys())),
                      children, max_size=4),
    max_leaves=10,
)


def _dumps(doc: Any, ascii_only: bool) -> bytes:
    # The standard library, not orjson: it writes big ints, Infinity and lone surrogates
    # (as escapes, or as the invalid UTF-8 "surrogatepass" makes), all of which orjson refuses.
    return json.dumps(doc, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


@st.composite
def mutated_docs(draw: st.DrawFn, pool: Pool) -> tuple[str, Any]:
    """A valid document from the pool with one to three structural mutations."""
    topic, original = draw(st.sampled_from(pool))
    doc: Any = copy.deepcopy(original)
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["replace", "replace", "delete", "add", "mode"]))
        if op == "mode":
            if isinstance(doc, dict):
                doc["mode"] = draw(st.sampled_from(MODES) | JSON_VALUES)
            continue
        path = draw(st.sampled_from(json_paths(doc)))
        if op == "add":
            target = _at(doc, path)
            if isinstance(target, dict):
                key = draw(st.sampled_from(known_keys()) | st.text(max_size=20))
                target[key] = draw(JSON_VALUES)
            elif isinstance(target, list):
                target.insert(draw(st.integers(0, len(target))), draw(JSON_VALUES))
            elif path:
                _at(doc, path[:-1])[path[-1]] = [target, draw(JSON_VALUES)]
            continue
        if not path:
            if op == "replace":
                doc = draw(JSON_VALUES)
            continue
        parent = _at(doc, path[:-1])
        if op == "replace":
            parent[path[-1]] = draw(JSON_VALUES)
        else:
            del parent[path[-1]]
    return topic, doc


@st.composite
def byte_mutations(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` truncated, with a byte flipped, or with bytes inserted, deleted or repeated."""
    op = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "repeat"]))
    i = draw(st.integers(0, len(data)))
    if op == "truncate":
        return data[:i]
    if op == "flip":
        if not data:
            return data
        i = min(i, len(data) - 1)
        return data[:i] + bytes([data[i] ^ draw(st.integers(1, 255))]) + data[i + 1:]
    if op == "insert":
        return data[:i] + draw(st.binary(min_size=1, max_size=8)) + data[i:]
    j = draw(st.integers(i, min(len(data), i + 64)))
    if op == "delete":
        return data[:i] + data[j:]
    return data[:j] + data[i:j] * draw(st.integers(2, 50)) + data[j:]


@st.composite
def inputs(draw: st.DrawFn, pool: Pool,
           hostile: dict[str, tuple[Any, bytes]]) -> tuple[str | None, bytes]:
    """One message value and the topic it came from; mostly mutated valid events."""
    kind = draw(st.sampled_from(
        ["binary", "text", "json", "mutated", "mutated", "mutated", "mutated", "bytes", "bytes",
         "valid", "hostile", "ais"]
    ))
    if kind == "binary":
        return None, draw(st.binary())
    if kind == "ais":
        lines = draw(st.lists(st.sampled_from(ais_pool()), min_size=1, max_size=6))
        value = b"\n".join(lines)
        if draw(st.booleans()):
            value = draw(byte_mutations(value))
        return draw(st.sampled_from(["raw.vessel", None])), value
    if kind == "text":
        return None, draw(st.text()).encode("utf-8")
    if kind == "json":
        return None, _dumps(draw(JSON_VALUES), draw(st.booleans()))
    if kind == "hostile":
        return hostile[draw(st.sampled_from(sorted(hostile)))]
    if kind == "mutated":
        topic, doc = draw(mutated_docs(pool))
        return topic, _dumps(doc, draw(st.booleans()))
    topic, doc = draw(st.sampled_from(pool))
    value = orjson.dumps(doc)
    if kind == "bytes":
        value = draw(byte_mutations(value))
    return topic, value


@st.composite
def raw_batches(draw: st.DrawFn, max_size: int = 6) -> list[RawMessage]:
    """A batch of ``raw.*`` messages; each message's offset is its index in the batch."""
    values = draw(st.lists(inputs(raw_pool(), hostile_raw()), min_size=1, max_size=max_size))
    batch = []
    for i, (topic, value) in enumerate(values):
        topic = draw(st.sampled_from([topic] * 6 + [
            None, "", "raw.passenger", "raw.freight", "raw.vessel", "t-1.raw.vessel", "raw.unknown",
        ]))
        batch.append(RawMessage(
            value=value,
            key=draw(st.none() | st.binary(max_size=16)),
            topic=topic,
            partition=draw(st.sampled_from([None, 0, 3])),
            offset=i,
            timestamp_ms=draw(st.sampled_from([BROKER_MS] * 6 + [None, 0, -5, 1, 10**15])),
        ))
    return batch


@st.composite
def event_batches(draw: st.DrawFn, max_size: int = 6) -> list[RawMessage]:
    """A batch as read from ``events.<mode>``; offsets are indices, event ids are distinct."""
    values = draw(st.lists(inputs(event_pool(), hostile_events()), min_size=1, max_size=max_size))
    ids = [i for i in (_event_id_of(v) for _, v in values) if i is not None]
    assume(len(ids) == len(set(ids)))
    return [
        RawMessage(value, None, topic or "events.passenger", draw(st.sampled_from([None, 0, 1])), i,
                   BROKER_MS)
        for i, (topic, value) in enumerate(values)
    ]


# --- what every dead letter must satisfy ------------------------------------------------

#: A JSON string literal, and the colon after it when it is a key.
_STRING_LITERAL = re.compile(rb'"((?:[^"\\]|\\.)*)"(\s*:)?', re.DOTALL)


def _parse(value: bytes) -> Any:
    """The message as JSON, read as leniently as the engine's parsers read it; None if not."""
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        return None


def _input_strings(value: bytes) -> list[str]:
    """Every string value (not key) in a message: what a detail must never repeat."""
    doc = _parse(value)
    if doc is not None:
        return [node for node in _walk(doc) if isinstance(node, str)]
    # Not JSON: take whatever looks like a string value in it.
    return [
        m.group(1).decode("utf-8", "replace")
        for m in _STRING_LITERAL.finditer(value)
        if m.group(2) is None
    ]


def _leaked_run(detail: str, values: Sequence[str]) -> str | None:
    """A run of LEAK_RUN characters that is in both ``detail`` and one of ``values``."""
    windows = {detail[i:i + LEAK_RUN] for i in range(len(detail) - LEAK_RUN + 1)}
    for value in values:
        if len(value) < LEAK_RUN:
            continue
        for window in windows:
            if window in value:
                return window
    return None


def _string_field(value: bytes, name: str) -> str | None:
    doc = _parse(value)
    found = doc.get(name) if isinstance(doc, dict) else None
    return found if isinstance(found, str) else None


def _event_id_of(value: bytes) -> str | None:
    return _string_field(value, "event_id")


def _source_id_of(value: bytes) -> str | None:
    return _string_field(value, "source_id")


def assert_sound_dead_letter(dl: DeadLetter, raw: RawMessage, stage: str) -> None:
    """A dead letter names its stage and reason, keeps the original, and leaks no values."""
    assert dl.stage == stage
    assert re.fullmatch(r"[a-z][a-z0-9_]*", dl.reason), dl.reason
    assert dl.payload_sha256 == hashlib.sha256(raw.value).hexdigest()
    assert dl.payload_size == len(raw.value)
    assert base64.b64decode(dl.payload_b64) == raw.value[:PAYLOAD_LIMIT]
    assert dl.payload_truncated == (len(raw.value) > PAYLOAD_LIMIT)
    leaked = _leaked_run(dl.detail, _input_strings(raw.value))
    assert leaked is None, f"{dl.reason} detail {dl.detail!r} repeats input text {leaked!r}"


def assert_each_once(raws: Sequence[RawMessage], dead: Sequence[DeadLetter],
                     outputs_per_input: Sequence[int], stage: str) -> None:
    """Each input (identified by offset) has exactly one output or exactly one dead letter."""
    by_offset = Counter(d.source_offset for d in dead)
    assert set(by_offset) <= {r.offset for r in raws}
    for raw, produced in zip(raws, outputs_per_input, strict=True):
        dead_count = by_offset[raw.offset]
        assert (produced, dead_count) in ((1, 0), (0, 1)), (
            f"input {raw.offset} ({raw.value[:80]!r}...) gave {produced} outputs and "
            f"{dead_count} dead letters"
        )
    by_raw = {r.offset: r for r in raws}
    for d in dead:
        assert_sound_dead_letter(d, by_raw[d.source_offset], stage)


# --- normalise --------------------------------------------------------------------------


def _ais_offsets(raws: Sequence[RawMessage], max_bytes: int) -> set[int | None]:
    """The messages normalise reads as AIS sentences rather than as one JSON event."""
    return {r.offset for r in raws if 0 < len(r.value) <= max_bytes and looks_like_nmea(r.value)
            and mode_of_topic(r.topic) in ("vessel", None)}


def check_normalise_batch(raws: list[RawMessage], max_bytes: int) -> None:
    """normalise_batch: each message once, as an event (with its source) or a dead letter."""
    result = normalise_batch(raws, max_bytes)
    assert len(result.events) == len(result.sources)
    # AIS messages may hold several sentence groups: each gives an event or a dead letter
    # carrying the group's own bytes. Every other message gives exactly one of either.
    ais = _ais_offsets(raws, max_bytes)
    for raw in (r for r in raws if r.offset in ais):
        groups = [s.value for s in result.sources if s.offset == raw.offset]
        for d in (d for d in result.deadletters if d.source_offset == raw.offset):
            group = base64.b64decode(d.payload_b64)
            assert not d.payload_truncated
            assert_sound_dead_letter(d, replace(raw, value=group), "normalise")
            groups.append(group)
        lines = sorted(line for g in groups for line in g.split(b"\n"))
        assert lines == sorted(line for line in raw.value.splitlines() if line.strip()), raw.value[:200]
    rest = [r for r in raws if r.offset not in ais]
    produced = Counter(r.offset for r in result.sources)
    assert_each_once(rest, [d for d in result.deadletters if d.source_offset not in ais],
                     [produced[r.offset] for r in rest], "normalise")
    for event, raw in zip(result.events, result.sources, strict=True):
        assert len(raw.value) <= max_bytes
        assert event.mode in MODES


@FUZZ
@given(raws=raw_batches(), max_bytes=st.sampled_from([1_000_000] * 8 + [1, 64, 1024]))
def test_normalise_batch_accounts_for_every_message(raws: list[RawMessage], max_bytes: int) -> None:
    """normalise_batch never raises and turns each raw message into one event or one dead letter."""
    check_normalise_batch(raws, max_bytes)


@pytest.mark.parametrize("name", sorted(hostile_raw()))
def test_normalise_batch_survives_hostile_literals(name: str) -> None:
    """Each named hostile message, deep, NaN or huge, gives an event or a dead letter."""
    topic, value = hostile_raw()[name]
    check_normalise_batch([RawMessage(value, b"k", topic, 0, 0, BROKER_MS)], 1_000_000)


def check_normalise_hop(hop: NormaliseHop, raws: list[RawMessage]) -> None:
    """NormaliseHop: each message once; encoded events within the limit and readable downstream."""
    out = hop.run(raws)
    limit = hop.settings.worker.max_event_bytes
    assert len(out.events) == len(out.encoded)
    # JSON events are matched to their input by source id, which the fuzz test keeps
    # unique; AIS messages (several reports each) are accounted for line by line.
    ais = _ais_offsets(raws, hop.settings.worker.max_message_bytes)
    check_normalise_batch([r for r in raws if r.offset in ais], hop.settings.worker.max_message_bytes)
    rest = [r for r in raws if r.offset not in ais]
    made = Counter(ev.source_id for ev in out.events)
    produced = [made[s] if s is not None else 0 for s in (_source_id_of(r.value) for r in rest)]
    dead = [d for d in out.deadletters if d.source_offset not in ais]
    assert sum(produced) + len(dead) == len(rest)
    assert_each_once(rest, dead, produced, "normalise")
    for ev, value in zip(out.events, out.encoded, strict=True):
        assert len(value) <= limit
        assert value == ev.model_dump_json().encode("utf-8")
    # What normalise writes to events.<mode>, the decide hop must read back unchanged.
    read = parse_events([RawMessage(v, None, f"events.{ev.mode}") for ev, v in
                         zip(out.events, out.encoded, strict=True)])
    assert (read.events, read.deadletters) == (out.events, [])
    # event_too_large exactly for messages that are valid events with JSON over the limit.
    too_large = {d.source_offset for d in out.deadletters if d.reason == "event_too_large"}
    for raw in raws:
        alone = normalise_batch([raw], hop.settings.worker.max_message_bytes)
        oversized = any(len(e.model_dump_json().encode()) > limit for e in alone.events)
        assert (raw.offset in too_large) == oversized, raw.offset
    hop.records(out)


@FUZZ
@given(raws=raw_batches())
def test_normalise_hop_accounts_for_every_message(raws: list[RawMessage]) -> None:
    """NormaliseHop never raises and gives each message one encoded event or one dead letter."""
    source_ids = [s for s in (_source_id_of(r.value) for r in raws) if s is not None]
    assume(len(source_ids) == len(set(source_ids)))
    check_normalise_hop(NormaliseHop(SMALL_LIMIT_SETTINGS), raws)


@st.composite
def padded_passengers(draw: st.DrawFn) -> RawMessage:
    """A valid passenger event padded with co-travellers, around the small event limit."""
    doc = copy.deepcopy(draw(st.sampled_from([d for t, d in raw_pool() if t == "raw.passenger"])))
    names = draw(st.lists(st.text(min_size=1, max_size=40), max_size=80))
    doc.setdefault("booking", {
        "record_locator": "ABC123", "booked_at": "2026-05-01T10:00:00Z",
    })["co_travellers"] = names
    return RawMessage(orjson.dumps(doc), b"k", "raw.passenger", 0, 0, BROKER_MS)


@FUZZ_SMALL
@given(raw=padded_passengers())
def test_normalise_hop_refuses_events_over_the_limit(raw: RawMessage) -> None:
    """A valid event whose JSON exceeds max_event_bytes becomes one event_too_large dead letter."""
    check_normalise_hop(NormaliseHop(SMALL_LIMIT_SETTINGS), [raw])
    out = NormaliseHop(SMALL_LIMIT_SETTINGS).run([raw])
    size = len(normalise_batch([raw]).events[0].model_dump_json().encode())
    if size > SMALL_EVENT_LIMIT:
        [dl] = out.deadletters
        assert (dl.reason, out.events) == ("event_too_large", [])
    else:
        assert (len(out.events), out.deadletters) == (1, [])


@pytest.mark.parametrize("name", sorted(hostile_raw()))
def test_normalise_hop_survives_hostile_literals(name: str) -> None:
    """Each named hostile message gives one event or one dead letter at both event limits."""
    topic, value = hostile_raw()[name]
    for hop_settings in (Settings(), SMALL_LIMIT_SETTINGS):
        raws = [RawMessage(value, b"k", topic, 0, 0, BROKER_MS)]
        check_normalise_hop(NormaliseHop(hop_settings), raws)


def test_normalise_hop_refuses_a_huge_but_valid_event() -> None:
    """A 450 kB co-traveller name is valid, but its event is too large for the default limit."""
    topic, value = hostile_raw()["huge_cotraveller_450kb"]
    out = NormaliseHop(Settings()).run([RawMessage(value, b"k", topic, 0, 0, BROKER_MS)])
    assert out.events == []
    [dl] = out.deadletters
    assert dl.reason == "event_too_large"
    assert dl.payload_truncated and dl.payload_size == len(value)


# --- enrich and decide ------------------------------------------------------------------


def check_parse_events(raws: list[RawMessage]) -> None:
    """parse_events: each message once, as an event or an enrich dead letter."""
    parsed = parse_events(raws)
    events, dead = parsed.events, parsed.deadletters
    made = Counter(ev.event_id for ev in events)
    assert len(events) + len(dead) == len(raws)
    assert [r.offset for r in parsed.sources] == [
        r.offset for r in raws if r.offset not in {d.source_offset for d in dead}
    ]
    produced = [made[i] if i is not None else 0 for i in (_event_id_of(r.value) for r in raws)]
    assert_each_once(raws, dead, produced, "enrich")


@FUZZ
@given(raws=event_batches())
def test_parse_events_accounts_for_every_message(raws: list[RawMessage]) -> None:
    """parse_events never raises and reads each message as one event or one dead letter."""
    check_parse_events(raws)


def check_decide(hop: DecideHop, raws: list[RawMessage]) -> None:
    """DecideHop: each message once, as a score (with its enriched event) or a dead letter."""
    out = hop.run(raws)
    assert len(out.enriched) == len(out.scores)
    assert len(out.scores) + len(out.deadletters) == len(raws)
    scored = Counter(s.event_id for s in out.scores)
    produced = [scored[i] if i is not None else 0 for i in (_event_id_of(r.value) for r in raws)]
    assert_each_once(raws, out.deadletters, produced, "enrich")
    assert [e.event.event_id for e in out.enriched] == [s.event_id for s in out.scores]
    assert {a.event_id for a in out.alerts} <= set(scored)
    states: dict[str, Any] = {hop.bookings.changelog_topic: JoinState, hop.tracks.changelog_topic: TrackState,
                              hop.open_alerts.changelog_topic: OpenAlert}
    for record in out.changelog:
        if record.value is not None and record.topic in states:
            states[record.topic].model_validate_json(record.value)
    hop.records(out)


@FUZZ
@given(raws=event_batches())
def test_decide_hop_accounts_for_every_message(raws: list[RawMessage]) -> None:
    """DecideHop never raises and gives each message one score or one enrich dead letter."""
    check_decide(fresh_decide_hop(), raws)


@st.composite
def one_vessel_batches(draw: st.DrawFn) -> list[list[RawMessage]]:
    """Mutated reports of one vessel, split into consecutive batches that share track state."""
    ships = [d for t, d in event_pool() if t == "events.vessel"]
    picked = draw(st.lists(st.sampled_from(range(len(ships))), min_size=2, max_size=8, unique=True))
    values = []
    for index in picked:
        doc = copy.deepcopy(ships[index])
        doc["mmsi"] = "235000001"
        # Valid but extreme times and places, where track arithmetic could go wrong.
        if draw(st.booleans()):
            doc["observed_at"] = draw(st.sampled_from(EXTREME_TIMES) | _offset_datetimes())
        if draw(st.booleans()):
            doc["position"] = draw(st.none() | st.fixed_dictionaries({
                "lat": st.sampled_from([-90, 90, 0, 5e-324]) | st.floats(-90, 90),
                "lon": st.sampled_from([-180, 180, -0.0]) | st.floats(-180, 180),
            }))
        if draw(st.booleans()):
            _, doc = draw(mutated_docs((("events.vessel", doc),)))
        values.append(_dumps(doc, True))
    ids = [i for i in map(_event_id_of, values) if i is not None]
    assume(len(ids) == len(set(ids)))
    raws = [
        RawMessage(v, b"mmsi:235000001", "events.vessel", 1, i, BROKER_MS)
        for i, v in enumerate(values)
    ]
    cut = draw(st.integers(0, len(raws)))
    return [raws[:cut], raws[cut:]]


@FUZZ_SMALL
@given(batches=one_vessel_batches())
def test_decide_hop_keeps_accounting_across_track_state(batches: list[list[RawMessage]]) -> None:
    """Mutated reports of one vessel over two batches each give one score or one dead letter."""
    hop = fresh_decide_hop()
    for raws in batches:
        check_decide(hop, raws)


def test_decide_hop_scores_a_replayed_report_each_time() -> None:
    """A vessel report twice in a batch and again in the next gives three scores, no dead letter."""
    ship = next(doc for t, doc in event_pool() if t == "events.vessel" and doc.get("position"))
    value = orjson.dumps(ship)
    hop = fresh_decide_hop()
    first = hop.run([RawMessage(value, None, "events.vessel", 0, i, BROKER_MS) for i in range(2)])
    again = hop.run([RawMessage(value, None, "events.vessel", 0, 2, BROKER_MS)])
    assert [s.event_id for s in first.scores + again.scores] == [ship["event_id"]] * 3
    assert first.deadletters == again.deadletters == []
    assert first.scores[0] == first.scores[1] == again.scores[0]


@pytest.mark.parametrize("name", sorted(hostile_events()))
def test_decide_hop_survives_hostile_literals(name: str) -> None:
    """Each named hostile message on events.<mode> gives one score or one dead letter."""
    topic, value = hostile_events()[name]
    raws = [RawMessage(value, None, topic, 0, 0, BROKER_MS)]
    check_parse_events(raws)
    check_decide(fresh_decide_hop(), raws)


# --- dead letters -----------------------------------------------------------------------


@st.composite
def payloads(draw: st.DrawFn) -> bytes:
    """Bytes of any size up to twice the payload limit, cheap to draw."""
    head, tail = draw(st.binary(max_size=32)), draw(st.binary(max_size=32))
    fill = draw(st.sampled_from([0, 1, PAYLOAD_LIMIT - 1, PAYLOAD_LIMIT, PAYLOAD_LIMIT + 1])
                | st.integers(0, 2 * PAYLOAD_LIMIT))
    return head + bytes([draw(st.integers(0, 255))]) * fill + tail


@FUZZ
@given(
    value=payloads(),
    key=st.none() | st.binary(max_size=64),
    topic=st.none() | st.text(max_size=40),
    partition=st.none() | st.integers(0, 1023),
    offset=st.none() | st.integers(0, 2**63 - 1),
    stage=st.sampled_from(["normalise", "enrich", "score", "alert", "feedback"]),
    reason=st.from_regex(r"\A[a-z_]{1,30}\Z"),
    detail=st.text(max_size=1500),
)
def test_dead_letter_keeps_the_original_bytes(
    value: bytes, key: bytes | None, topic: str | None, partition: int | None,
    offset: int | None, stage: Any, reason: str, detail: str,
) -> None:
    """A dead letter's payload is the original or its first PAYLOAD_LIMIT bytes, hashed whole."""
    raw = RawMessage(value, key, topic, partition, offset, BROKER_MS)
    dl = dead_letter(raw, stage, reason, detail)
    kept = base64.b64decode(dl.payload_b64, validate=True)
    if len(value) > PAYLOAD_LIMIT:
        assert dl.payload_truncated and kept == value[:PAYLOAD_LIMIT]
    else:
        assert not dl.payload_truncated and kept == value
    assert dl.payload_sha256 == hashlib.sha256(value).hexdigest()
    assert dl.payload_size == len(value)
    assert (dl.stage, dl.reason, dl.detail) == (stage, reason, detail[:1000])
    assert (dl.source_topic, dl.source_partition, dl.source_offset) == (topic, partition, offset)
    if key is None:
        assert dl.source_key_b64 is None
    else:
        assert dl.source_key_b64 is not None and base64.b64decode(dl.source_key_b64) == key
    assert DeadLetter.model_validate_json(dl.model_dump_json()) == dl


def test_decide_hop_refuses_an_event_on_another_modes_topic() -> None:
    """A passenger event read from events.freight is a dead letter (mode_mismatch), not a score."""
    from tests.fixtures.events import passenger_doc, raw_message

    norm = NormaliseHop(Settings()).run([raw_message(passenger_doc(), topic="raw.passenger")])
    hop = DecideHop(Settings())
    out = hop.run([RawMessage(value=norm.encoded[0], topic="events.freight", partition=0)])
    assert out.scores == [] and [d.reason for d in out.deadletters] == ["mode_mismatch"]
