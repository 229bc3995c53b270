"""The same engine on Apache Kafka, via testcontainers, where a Docker engine answers."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.broker import ensure_topics
from engine.settings import Settings

pytestmark = pytest.mark.integration


def _docker_answers() -> str | None:
    try:
        import docker  # type: ignore[import-untyped]

        docker.from_env().ping()
        return None
    except ImportError:
        return "the docker package is not installed (it comes with testcontainers)"
    except Exception as exc:  # any failure means no engine to use
        return f"no Docker engine answers here ({type(exc).__name__})"


@pytest.fixture(scope="module")
def apache_kafka() -> Iterator[str]:
    """bootstrap of an Apache Kafka container, or skip saying why there is none."""
    reason = _docker_answers()
    if reason:
        pytest.skip(reason)
    from testcontainers.kafka import KafkaContainer  # type: ignore[import-untyped]

    with KafkaContainer("apache/kafka:3.8.0").with_kraft() as kafka:
        yield kafka.get_bootstrap_server()


def test_pipeline_on_apache_kafka(apache_kafka: str, tmp_path: Path) -> None:
    """1,000 messages through a worker on Apache Kafka match replay, as on the embedded broker."""
    from tests.integration.test_pipeline_on_broker import (
        test_thousand_events_give_replays_alerts_and_fifty_dead_letters as same_test,
    )

    tag = uuid.uuid4().hex[:8]
    settings = Settings(
        kafka={"bootstrap_servers": apache_kafka},
        topics={"prefix": f"t{tag}.", "partitions": 4},
        worker={"app_id": f"gatehound-test-{tag}", "metrics_port": 0},
    )
    asyncio.run(ensure_topics(apache_kafka, settings.topics.all_names(), 4))
    same_test(settings, tmp_path)
