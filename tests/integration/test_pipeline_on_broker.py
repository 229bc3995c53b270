"""The whole engine on a real Kafka protocol broker gives what replay gives, and nothing else."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from engine.messages import RawMessage
from engine.pipeline import Pipeline
from engine.settings import Settings
from engine.simulate.traffic import TrafficGenerator, TrafficMessage
from engine.supervise import OutputWatch, error_lines, start_worker, stop_worker

pytestmark = pytest.mark.integration


def exact_mix(valid: int, malformed: int, seed: int) -> list[TrafficMessage]:
    """The first `valid` good and `malformed` bad messages of a seeded stream, in stream order."""
    picked: list[TrafficMessage] = []
    want = {True: valid, False: malformed}
    for m in TrafficGenerator(seed=seed, malformed_share=0.05).messages(valid * 3):
        if want[m.valid] > 0:
            want[m.valid] -= 1
            picked.append(m)
        if not any(want.values()):
            break
    return picked


async def produce(settings: Settings, messages: list[TrafficMessage]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers, linger_ms=5)
    await producer.start()
    try:
        futures = [
            await producer.send(settings.topics.name(m.topic_base), m.value, key=m.key)
            for m in messages
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def run_engine(
    settings: Settings, messages: list[TrafficMessage], run_dir: Path, expect: int
) -> OutputWatch:
    """Start a worker, produce, and watch outputs until every message is accounted for."""
    worker = start_worker(settings, 1, run_dir)
    watch = OutputWatch()
    follower = asyncio.create_task(watch.follow(settings))
    try:
        await produce(settings, messages)
        deadline = time.monotonic() + 120
        while watch.accounted < expect and time.monotonic() < deadline and worker.alive():
            await asyncio.sleep(0.2)
        await asyncio.sleep(2.0)  # anything extra (a duplicate, a stray) would show up now
    finally:
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)
        code = stop_worker(worker)
    assert code == 0, f"worker exited with {code}; log: {worker.log_path}"
    assert error_lines(worker.log_path) == []
    return watch


def test_thousand_events_give_replays_alerts_and_fifty_dead_letters(
    engine_settings: Settings, tmp_path: Path
) -> None:
    """1,000 messages (50 malformed) through a worker: replay's alerts exactly, 50 dead letters."""
    messages = exact_mix(valid=950, malformed=50, seed=7)
    assert len(messages) == 1000

    expected = Pipeline(engine_settings).run(
        RawMessage(value=m.value, key=m.key, topic=m.topic_base) for m in messages
    )
    assert len(expected.scores) == 950 and len(expected.deadletters) == 50
    assert expected.alerts, "the seeded traffic must raise some alerts for this test to mean much"

    watch = asyncio.run(run_engine(engine_settings, messages, tmp_path, expect=1000))

    assert len(watch.scores) == 950
    assert all(n == 1 for n in watch.scores.values()), "an event was scored twice"
    assert set(watch.scores) == {s.event_id for s in expected.scores}

    got = {k: orjson.loads(v) for k, v in watch.alerts.items()}
    want = {a.alert_id: a for a in expected.alerts}
    assert set(got) == set(want)
    assert watch.alert_messages == len(want), "duplicate alert messages"
    for alert_id, a in want.items():
        assert got[alert_id]["event_id"] == a.event_id
        assert got[alert_id]["score"] == a.score
        assert [f["rule_id"] for f in got[alert_id]["findings"]] == [f.rule_id for f in a.findings]

    assert len(watch.deadletters) == 50
    bad_payloads = {hashlib.sha256(m.value).hexdigest() for m in messages if not m.valid}
    for raw in watch.deadletters:
        letter = orjson.loads(raw)
        assert letter["stage"] == "normalise" and letter["reason"]
        assert letter["source_topic"].startswith(engine_settings.topics.prefix + "raw.")
        assert letter["source_offset"] is not None
        payload = base64.b64decode(letter["payload_b64"])
        assert hashlib.sha256(payload).hexdigest() == letter["payload_sha256"]
        assert letter["payload_sha256"] in bad_payloads
