"""The whole engine on a real Kafka protocol broker gives what replay gives, and nothing else."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from engine.messages import RawMessage
from engine.pipeline import Pipeline
from engine.settings import Settings
from engine.simulate.traffic import TrafficGenerator, TrafficMessage
from tests.integration.worker_run import run_engine

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

    run = asyncio.run(run_engine(engine_settings, lambda: produce(engine_settings, messages), tmp_path,
                                 expect=1000))
    watch = run.watch

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

    # The worker's own account agrees: metrics per stage, dead letters by reason.
    assert run.metric_sum("gatehound_stage_events_in_total", stage="normalise") == 1000
    assert run.metric_sum("gatehound_stage_events_out_total", stage="decide") == 950
    assert run.metric_sum("gatehound_deadletters_total", stage="normalise") == 50
    assert run.metric_sum("gatehound_alerts_total") >= len(want)
    assert run.metric_sum("gatehound_stage_batch_duration_seconds_count", stage="decide") > 0
    for stage in ("normalise", "parse", "enrich", "score", "alert", "serialise"):
        assert run.metric_sum("gatehound_stage_seconds_total", stage=stage) > 0, stage
    # One log format for everything, Faust's and aiokafka's lines included.
    for line in run.log_lines:
        if line.strip():
            assert isinstance(orjson.loads(line), dict), line[:200]
