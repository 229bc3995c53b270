"""Follow a topic from the console."""

from __future__ import annotations

from typing import TextIO

from aiokafka import AIOKafkaConsumer, TopicPartition

from engine.errors import BrokerError
from engine.settings import Settings


async def tail_topic(
    settings: Settings, base: str, from_beginning: bool, limit: int | None, out: TextIO
) -> int:
    """Print each value of a topic as a line; return how many were printed."""
    name = settings.topics.name(base)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka.bootstrap_servers, enable_auto_commit=False
    )
    await consumer.start()
    try:
        parts = consumer.partitions_for_topic(name)
        if parts is None:
            await consumer.topics()
            parts = consumer.partitions_for_topic(name)
        if not parts:
            raise BrokerError(f"topic {name} does not exist on {settings.kafka.bootstrap_servers}")
        tps = [TopicPartition(name, p) for p in sorted(parts)]
        consumer.assign(tps)
        if from_beginning:
            await consumer.seek_to_beginning(*tps)
        else:
            await consumer.seek_to_end(*tps)
        printed = 0
        while limit is None or printed < limit:
            batch = await consumer.getmany(timeout_ms=500)
            for messages in batch.values():
                for m in messages:
                    out.write((m.value or b"").decode("utf-8", "replace") + "\n")
                    printed += 1
            out.flush()
        return printed
    finally:
        await consumer.stop()
