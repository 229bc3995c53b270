"""Reading the ``links`` topic whole, for ``gatehound network``."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaConnectionError
from pydantic import ValidationError

from engine.broker import assign_all
from engine.errors import BrokerError
from engine.settings import Settings
from schemas.link import Link


async def read_links(settings: Settings, idle_polls: int = 3) -> list[Link]:
    """Every Link on the topic, from the start to its end (records that do not parse are
    skipped: the link hop dead-letters them)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka.bootstrap_servers, enable_auto_commit=False)
    try:
        await consumer.start()
    except KafkaConnectionError:
        await consumer.stop()
        raise BrokerError(f"cannot reach Kafka at {settings.kafka.bootstrap_servers}") from None
    links: list[Link] = []
    try:
        name = settings.topics.name("links")
        await assign_all(consumer, [name])
        if not consumer.assignment():
            raise BrokerError(f"topic {name} does not exist on {settings.kafka.bootstrap_servers}")
        idle = 0
        while idle < idle_polls:
            batch = await consumer.getmany(timeout_ms=300, max_records=50_000)
            idle = 0 if batch else idle + 1
            for records in batch.values():
                for r in records:
                    try:
                        links.append(Link.model_validate_json(r.value or b""))
                    except ValidationError:
                        continue
    finally:
        await consumer.stop()
    return links
