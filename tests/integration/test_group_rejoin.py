"""A batch loop whose group join does not complete in time leaves and joins again, and a
loop whose join completes in time never does."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import pytest
from aiokafka import AIOKafkaProducer

from engine.flow.loop import BatchLoop, OutRecord
from engine.messages import RawMessage
from engine.metrics import GROUP_REJOINS
from tests.conftest import fresh_settings

pytestmark = pytest.mark.integration


def _run_loop(bootstrap: str, deadline_s: float, seconds: float) -> tuple[float, list[RawMessage], float]:
    """A loop on a fresh topic with one record on it, run for ``seconds``; returns its
    rejoins, what it handled, and how long its first join took (or -1)."""
    settings = fresh_settings(bootstrap, session_timeout_ms=3000)
    topic = settings.topics.name("raw.vessel")
    handled: list[RawMessage] = []

    def handler(raws: Sequence[RawMessage]) -> list[OutRecord]:
        handled.extend(raws)
        return []

    async def run() -> float:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
        await producer.start()
        await producer.send_and_wait(topic, b"{}", key=b"k")
        loop = BatchLoop("rejoin-test", settings, [topic], f"{settings.worker.app_id}-r", handler, producer)
        loop.join_deadline_s = deadline_s
        stopping = asyncio.Event()
        started = time.monotonic()
        task = asyncio.create_task(loop.run(stopping))
        joined_after = -1.0
        try:
            while time.monotonic() - started < seconds:
                if loop.joined and joined_after < 0:
                    joined_after = time.monotonic() - started
                await asyncio.sleep(0.02)
        finally:
            stopping.set()
            await task
            await producer.stop()
        return joined_after

    before = GROUP_REJOINS.labels(loop="rejoin-test")._value.get()
    joined_after = asyncio.run(run())
    return GROUP_REJOINS.labels(loop="rejoin-test")._value.get() - before, handled, joined_after


def test_a_join_in_time_is_kept_and_a_late_one_is_made_again(kafka_bootstrap: str) -> None:
    """With ten session timeouts to join, the loop joins once and handles the record; with
    no time at all, every join is late, so it keeps leaving and joining again."""
    rejoins, handled, joined_after = _run_loop(kafka_bootstrap, deadline_s=30.0, seconds=4.0)
    assert rejoins == 0 and len(handled) == 1 and joined_after >= 0
    rejoins, handled, _ = _run_loop(kafka_bootstrap, deadline_s=-1.0, seconds=3.0)
    assert rejoins >= 2
