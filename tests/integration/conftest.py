"""Broker fixtures: the embedded broker by default, any cluster via GATEHOUND_TEST_BOOTSTRAP."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator

import pytest

from engine.broker import EmbeddedBroker, ensure_topics
from engine.settings import Settings


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """bootstrap servers of the cluster under test: GATEHOUND_TEST_BOOTSTRAP, else embedded."""
    external = os.environ.get("GATEHOUND_TEST_BOOTSTRAP")
    if external:
        yield external
        return
    with EmbeddedBroker() as broker:
        yield broker.bootstrap


@pytest.fixture
def engine_settings(kafka_bootstrap: str) -> Settings:
    """Settings for one test: its own topic prefix and consumer group, topics created."""
    tag = uuid.uuid4().hex[:8]
    settings = Settings(
        kafka={"bootstrap_servers": kafka_bootstrap},
        topics={"prefix": f"t{tag}.", "partitions": 4},
        worker={"app_id": f"gatehound-test-{tag}", "metrics_port": 0},
    )
    asyncio.run(
        ensure_topics(kafka_bootstrap, settings.topics.all_names(), settings.topics.partitions)
    )
    return settings
