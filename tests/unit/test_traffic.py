"""The demo traffic generator: deterministic, valid where it claims to be, and risky enough."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import airportsdata
import orjson
import pytest

from engine.messages import RawMessage
from engine.normalise import normalise_batch
from engine.pipeline import Pipeline
from engine.simulate import TrafficGenerator, TrafficMessage, write_jsonl
from engine.simulate.traffic import (
    HIGH_RISK_ORIGINS,
    HOME_AIRPORTS,
    HUBS,
    ORIGIN_CARRIERS,
)
from schemas.codes import imo_check_digit, iso6346_check_digit, iso6346_valid

COUNT = 2000


@pytest.fixture(scope="module")
def stream() -> list[TrafficMessage]:
    """2,000 messages from seed 1, shared by the tests that only read them."""
    return list(TrafficGenerator(seed=1).messages(COUNT))


def _raw(messages: list[TrafficMessage]) -> list[RawMessage]:
    return [RawMessage(value=m.value, key=m.key, topic=m.topic_base) for m in messages]


def test_same_seed_gives_identical_bytes() -> None:
    """Two generators with the same seed produce byte-identical streams."""
    first = list(TrafficGenerator(seed=42).messages(500))
    second = list(TrafficGenerator(seed=42).messages(500))
    assert first == second


def test_other_seed_gives_other_stream() -> None:
    """A different seed produces a different stream."""
    first = [m.value for m in TrafficGenerator(seed=1).messages(200)]
    second = [m.value for m in TrafficGenerator(seed=2).messages(200)]
    assert first != second


def test_repeated_calls_continue_the_stream() -> None:
    """Asking for 300 then 200 messages gives the same 500 as asking for 500 at once."""
    gen = TrafficGenerator(seed=5)
    pieces = list(gen.messages(300)) + list(gen.messages(200))
    assert pieces == list(TrafficGenerator(seed=5).messages(500))


def test_start_sets_the_simulated_clock() -> None:
    """Event times follow the given start, not the wall clock."""
    start = datetime(2030, 1, 1, tzinfo=UTC)
    valid = [m for m in TrafficGenerator(seed=3, start=start).messages(50) if m.valid]
    assert all(orjson.loads(m.value)["occurred_at"].startswith("2030-01-01") for m in valid)


def test_every_message_normalises_as_labelled(stream: list[TrafficMessage]) -> None:
    """Each valid message gives one event and no dead letter; each malformed one the reverse."""
    for message, raw in zip(stream, _raw(stream), strict=True):
        result = normalise_batch([raw])
        expected = (1, 0) if message.valid else (0, 1)
        assert (len(result.events), len(result.deadletters)) == expected, message.value[:200]


def test_values_are_single_nonempty_lines(stream: list[TrafficMessage]) -> None:
    """No value is empty or contains a newline or carriage return byte."""
    for message in stream:
        assert message.value
        assert b"\n" not in message.value and b"\r" not in message.value


def test_keys_are_source_ids_or_the_vessel(stream: list[TrafficMessage]) -> None:
    """AIS reports are keyed by MMSI (so a vessel keeps its order); others by unique source_id."""
    others = [m.key for m in stream if not (m.valid and m.topic_base == "raw.vessel")]
    assert len(set(others)) == len(others)
    for message in stream:
        if message.valid:
            doc = orjson.loads(message.value)
            expected = doc["mmsi"] if doc["mode"] == "vessel" else doc["source_id"]
            assert expected.encode() == message.key

def test_mix_of_modes_and_malformed_share(stream: list[TrafficMessage]) -> None:
    """About half passenger, a quarter freight, a quarter vessel, and ~5% malformed."""
    valid = [m for m in stream if m.valid]
    topics = Counter(m.topic_base for m in valid)
    assert 0.44 < topics["raw.passenger"] / len(valid) < 0.56
    assert 0.19 < topics["raw.freight"] / len(valid) < 0.31
    assert 0.19 < topics["raw.vessel"] / len(valid) < 0.31
    assert 0.03 < (len(stream) - len(valid)) / len(stream) < 0.07


def test_no_malformed_messages_when_share_is_zero() -> None:
    """With malformed_share=0 every message is valid."""
    assert all(m.valid for m in TrafficGenerator(seed=9, malformed_share=0.0).messages(300))


def test_airports_exist_in_reference_data() -> None:
    """Every airport the generator uses is a real IATA code."""
    known = airportsdata.load("IATA")
    codes = set(HOME_AIRPORTS) | set(ORIGIN_CARRIERS) | set(HUBS) | set(HIGH_RISK_ORIGINS)
    assert codes <= set(known)


def test_check_digits_agree_with_the_standards() -> None:
    """The container and IMO check digits match known real examples and the freight rule."""
    assert iso6346_check_digit("CSQU305438") == 3  # the example in ISO 6346
    assert imo_check_digit("907472") == 9  # IMO 9074729, the IMO's own example
    assert iso6346_valid("CSQU3054383")


def test_containers_mostly_valid(stream: list[TrafficMessage]) -> None:
    """Nearly all container numbers pass ISO 6346; only the planted few fail."""
    numbers = [
        (c, iso6346_valid(c))
        for m in stream
        if m.valid and m.topic_base == "raw.freight"
        for item in orjson.loads(m.value)["goods"]
        for c in item.get("containers", ())
    ]
    bad = sum(1 for _, ok in numbers if not ok)
    assert numbers and 0 < bad < 0.06 * len(numbers)


def test_vessel_reports_move_forward_in_time(stream: list[TrafficMessage]) -> None:
    """Reports of one vessel have strictly increasing observed_at."""
    last: dict[str, str] = {}
    for message in stream:
        if message.valid and message.topic_base == "raw.vessel":
            doc = orjson.loads(message.value)
            previous = last.get(doc["mmsi"])
            assert previous is None or doc["observed_at"] > previous
            last[doc["mmsi"]] = doc["observed_at"]
    assert 20 <= len(last) <= 30


def test_pipeline_raises_a_steady_trickle_of_alerts(stream: list[TrafficMessage]) -> None:
    """The full pipeline alerts on 2-30% of valid events, through at least five rules."""
    result = Pipeline().run(_raw(stream))
    valid = sum(1 for m in stream if m.valid)
    assert len(result.scores) == valid
    assert len(result.deadletters) == COUNT - valid
    assert 0.02 * valid <= len(result.alerts) <= 0.30 * valid
    rules = {f.rule_id for alert in result.alerts for f in alert.findings}
    assert len(rules) >= 5, rules


def test_write_jsonl_round_trip(tmp_path: Path, stream: list[TrafficMessage]) -> None:
    """write_jsonl writes one value per line and reading the lines back gives the values."""
    path = tmp_path / "traffic.jsonl"
    assert write_jsonl(stream, path) == len(stream)
    assert path.read_bytes().split(b"\n")[:-1] == [m.value for m in stream]


def test_write_jsonl_refuses_multi_line_values(tmp_path: Path) -> None:
    """A value containing a newline is refused rather than corrupting the file."""
    message = TrafficMessage("raw.vessel", b"k", b'{"a":\n1}', valid=False)
    with pytest.raises(ValueError):
        write_jsonl([message], tmp_path / "bad.jsonl")
