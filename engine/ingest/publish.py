"""Publishing raw messages to the ``raw.*`` topics: files (``gatehound ingest``) and the
simulator's live traffic (``gatehound simulate --live``)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError

from engine.errors import BrokerError
from engine.settings import Settings


class Outgoing(Protocol):
    """What can be published: a topic base name, a key and bytes."""

    @property
    def topic_base(self) -> str: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes: ...


async def _producer(settings: Settings) -> AIOKafkaProducer:
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka.bootstrap_servers,
        linger_ms=5,
        max_request_size=settings.worker.max_message_bytes + 4096,
    )
    try:
        await producer.start()
    except KafkaConnectionError:
        await producer.stop()
        raise BrokerError(
            f"cannot reach Kafka at {settings.kafka.bootstrap_servers}; start one with "
            "`gatehound broker` or set GATEHOUND_KAFKA__BOOTSTRAP_SERVERS"
        ) from None
    return producer


async def publish(settings: Settings, messages: Iterable[Outgoing]) -> Counter[str]:
    """Send every message to its topic as fast as the broker takes them; count per topic."""
    producer = await _producer(settings)
    sent: Counter[str] = Counter()
    try:
        pending = []
        for m in messages:
            topic = settings.topics.name(m.topic_base)
            pending.append(await producer.send(topic, m.value, key=m.key))
            sent[topic] += 1
            if len(pending) >= 1000:
                await asyncio.gather(*pending)
                pending = []
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return sent


class Counted(Outgoing, Protocol):
    """A message that says how many events it carries."""

    @property
    def events(self) -> int: ...


async def publish_paced(
    settings: Settings, messages: Iterator[Counted], rate: float, stop: asyncio.Event
) -> Counter[str]:
    """Send messages at about ``rate`` events per second until they run out or ``stop`` is set."""
    producer = await _producer(settings)
    sent: Counter[str] = Counter()
    started, events = time.monotonic(), 0
    try:
        for m in messages:
            topic = settings.topics.name(m.topic_base)
            await producer.send(topic, m.value, key=m.key)
            sent[topic] += 1
            events += max(1, m.events)
            ahead = events / rate - (time.monotonic() - started)
            if ahead > 0:
                try:
                    await asyncio.wait_for(stop.wait(), ahead)
                except TimeoutError:
                    pass
            if stop.is_set():
                break
        await producer.flush()
    finally:
        await producer.stop()
    return sent
