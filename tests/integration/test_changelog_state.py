"""State kept in a changelog topic: restore per writer, installed only while owned; loops hold
newly assigned partitions back until their state is ready."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition

from engine.broker import ensure_topics
from engine.flow.loop import BatchLoop, OutRecord
from engine.flow.state import ChangelogStore
from engine.messages import RawMessage
from engine.settings import Settings

pytestmark = pytest.mark.integration


async def _write(bootstrap: str, records: Sequence[OutRecord]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for r in records:
            await producer.send_and_wait(
                r.topic, r.value, key=r.key, partition=r.partition, headers=list(r.headers)
            )
    finally:
        await producer.stop()


def _concat(older: bytes, newer: bytes) -> bytes:
    return older + b"|" + newer


def _store(name: str, bootstrap: str, topic: str, merge: bool = False) -> ChangelogStore[bytes]:
    """A store of plain bytes; with ``merge``, saved values are joined with "|"."""
    return ChangelogStore(
        name, bootstrap, topic, encode=bytes, decode=bytes, merge=_concat if merge else None
    )


def test_restore_folds_the_last_value_of_each_writer(kafka_bootstrap: str) -> None:
    """Two stores wrote one key in turns: restore merges each one's last value, oldest first."""
    topic = f"cl-{uuid.uuid4().hex[:8]}"
    asyncio.run(ensure_topics(kafka_bootstrap, [topic], 2))
    a = _store("a", kafka_bootstrap, topic)
    b = _store("b", kafka_bootstrap, topic)
    writes = [a.put(0, "k", b"a1"), a.put(0, "k", b"a2"), b.put(0, "k", b"b1"), a.put(0, "k", b"a3"),
              b.put(0, "other", b"b-only"), a.put(1, "k", b"p1")]
    asyncio.run(_write(kafka_bootstrap, writes))

    fresh = _store("fresh", kafka_bootstrap, topic, merge=True)
    read = asyncio.run(fresh.restore([0]))
    assert read == 5
    # b's last write came before a's last, so b1 is the older of the two.
    assert fresh.get(0, "k") == b"b1|a3"
    assert fresh.get(0, "other") == b"b-only"
    assert fresh.get(1, "k") is None  # partition 1 was not asked for

    last_wins = _store("last", kafka_bootstrap, topic)
    asyncio.run(last_wins.restore([0]))
    assert last_wins.get(0, "k") == b"a3"


def test_state_read_after_losing_the_partition_is_not_installed(kafka_bootstrap: str) -> None:
    """A restore whose partitions were revoked meanwhile leaves nothing behind, so the next
    assignment reads them afresh."""
    topic = f"cl-{uuid.uuid4().hex[:8]}"
    asyncio.run(ensure_topics(kafka_bootstrap, [topic], 1))
    writer = _store("w", kafka_bootstrap, topic)
    asyncio.run(_write(kafka_bootstrap, [writer.put(0, "k", b"v")]))

    store = _store("s", kafka_bootstrap, topic)
    asyncio.run(store.restore([0], owned=lambda: False))
    assert store.partitions == {}
    asyncio.run(store.restore([0]))
    assert store.get(0, "k") == b"v"


def test_an_empty_changelog_restores_at_once(kafka_bootstrap: str) -> None:
    """Nothing written yet: restore returns without waiting for quiet fetches."""
    topic = f"cl-{uuid.uuid4().hex[:8]}"
    asyncio.run(ensure_topics(kafka_bootstrap, [topic], 2))
    store = _store("s", kafka_bootstrap, topic)
    assert asyncio.run(store.restore([0, 1])) == 0
    assert store.partitions == {0: {}, 1: {}}


def test_assigned_partitions_wait_for_their_state(engine_settings: Settings) -> None:
    """No record of a newly assigned partition is handled before on_assigned has finished,
    and on_assigned runs from the loop, told the partitions are still owned."""
    settings = engine_settings
    topic = settings.topics.name("events.vessel")
    bootstrap = settings.kafka.bootstrap_servers
    asyncio.run(_write(bootstrap, [OutRecord(topic, b"k", b"%d" % i, i % 4) for i in range(40)]))
    ready = False
    handled_early = 0
    handled: list[RawMessage] = []
    owned_when_done: list[bool] = []

    async def slow_restore(partitions: list[TopicPartition], owned: Callable[[], bool]) -> None:
        nonlocal ready
        await asyncio.sleep(1.5)
        owned_when_done.append(owned())
        ready = True

    def handler(raws: Sequence[RawMessage]) -> list[OutRecord]:
        nonlocal handled_early
        handled_early += 0 if ready else len(raws)
        handled.extend(raws)
        return []

    async def run() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
        await producer.start()
        loop = BatchLoop("t", settings, [topic], f"{settings.worker.app_id}-t", handler, producer,
                         on_assigned=slow_restore)
        stopping = asyncio.Event()
        task = asyncio.create_task(loop.run(stopping))
        try:
            for _ in range(300):
                if len(handled) >= 40:
                    break
                await asyncio.sleep(0.1)
        finally:
            stopping.set()
            await task
            await producer.stop()

    asyncio.run(run())
    assert len(handled) == 40
    assert handled_early == 0
    assert owned_when_done == [True]
