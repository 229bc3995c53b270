"""Hostile input: 10,000 bad messages among 10,000 good ones cost nothing but dead letters."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import random
import time
from pathlib import Path

import orjson
import pytest

from engine.simulate import TrafficGenerator
from tests.chaos.harness import Cluster, OutputWatch, drain, produce
from tests.chaos.hostile import KINDS, hostile_messages
from tests.conftest import fresh_settings

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(300)]


def test_ten_thousand_hostile_messages(kafka_bootstrap: str, tmp_path: Path) -> None:
    """Exactly 10,000 scores and 10,000 dead letters (reason, partition, offset, hash each),
    no worker crash, in under a minute."""
    settings = fresh_settings(kafka_bootstrap)
    bad = hostile_messages(10_000)
    good = list(TrafficGenerator(seed=13, malformed_share=0.0).messages(10_000))
    mixed = bad + good
    random.Random(1).shuffle(mixed)
    bad_hashes = {hashlib.sha256(m.value or b"").hexdigest() for m in bad}
    bad_lines = {line.strip() for m in bad if m.value for line in m.value.splitlines()}
    cluster = Cluster(settings, tmp_path)

    async def scenario() -> tuple[OutputWatch, float]:
        watch = OutputWatch()
        follower = asyncio.create_task(watch.follow(settings))
        cluster.add()
        started = time.monotonic()
        try:
            await produce(settings, mixed)
            await drain(watch, 10_000, cluster, timeout_s=120)
            while len(watch.deadletters) < 10_000 and time.monotonic() - started < 120:
                await asyncio.sleep(0.2)
            elapsed = time.monotonic() - started
            await asyncio.sleep(2.0)
        finally:
            follower.cancel()
            await asyncio.gather(follower, return_exceptions=True)
        return watch, elapsed

    watch, elapsed = asyncio.run(scenario())
    codes = cluster.stop_all()
    assert codes == {1: 0}
    assert len(watch.scores) == 10_000
    assert sum(watch.scores.values()) == 10_000, "exactly one score record per good event"
    # Every bad message is parked, and nothing else is: one dead letter per message,
    # except that a message read as an AIS burst (binary noise that happens to start
    # with "!" on raw.vessel) gives one per line, each with that line's bytes.
    reasons: set[str] = set()
    sources: set[tuple[str, int, int]] = set()
    for raw in watch.deadletters:
        letter = orjson.loads(raw)
        assert letter["reason"] and letter["stage"] == "normalise"
        assert letter["source_partition"] is not None and letter["source_offset"] is not None
        sources.add((letter["source_topic"], letter["source_partition"], letter["source_offset"]))
        if letter["payload_sha256"] not in bad_hashes:
            assert letter["reason"].startswith("ais_"), letter["reason"]
            assert base64.b64decode(letter["payload_b64"]) in bad_lines
        assert len(raw) < 1_000_000
        reasons.add(letter["reason"])
    assert len(sources) == 10_000
    assert {"invalid_json", "empty", "not_an_object", "invalid_schema", "too_large",
            "event_too_large"} <= reasons, reasons
    assert len(KINDS) >= 14
    assert cluster.errors() == []
    assert elapsed < 60, f"took {elapsed:.1f} s"
