"""Broker fixtures: the embedded broker by default, any cluster via GATEHOUND_TEST_BOOTSTRAP."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator

import pytest

from engine.broker import EmbeddedBroker
from engine.flow.engine import ensure_app_topics
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
    return fresh_settings(kafka_bootstrap)


def fresh_settings(bootstrap: str, **worker: object) -> Settings:
    """Settings on their own topics (created) and consumer group, so tests never share state."""
    tag = uuid.uuid4().hex[:8]
    overrides: dict[str, object] = {
        "kafka": {"bootstrap_servers": bootstrap},
        "topics": {"prefix": f"t{tag}.", "partitions": 4},
        "worker": {"app_id": f"gatehound-test-{tag}", "metrics_port": 0, **worker},
    }
    settings = Settings(**overrides)  # type: ignore[arg-type]
    asyncio.run(ensure_app_topics(settings))
    return settings


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server for the whole session (Debian's binaries, on 127.0.0.1)."""
    from tests.postgres import postgres_server

    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An empty store database for one test: a SQLite file, then a PostgreSQL database."""
    name = f"t{uuid.uuid4().hex[:10]}"
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('store')}/{name}.db"
    from tests.postgres import fresh_database

    return fresh_database(request.getfixturevalue("postgres_url"), name)
