"""`gatehound broker` and `gatehound tail` against a real broker."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import pytest
from aiokafka import AIOKafkaProducer

from engine.broker import free_port, metadata_ready
from engine.settings import Settings

pytestmark = pytest.mark.integration


def test_broker_command_serves_topics_until_stopped() -> None:
    """`gatehound broker` answers on its port with gatehound's topics, and stops on SIGTERM."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "broker", "--port", str(port), "--partitions", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        deadline = time.monotonic() + 20
        while "embedded broker on" not in line and time.monotonic() < deadline:
            line = proc.stdout.readline().decode()
        assert f"127.0.0.1:{port}" in line
        assert asyncio.run(metadata_ready(f"127.0.0.1:{port}"))
        from aiokafka.admin import AIOKafkaAdminClient

        async def topics() -> list[str]:
            admin = AIOKafkaAdminClient(bootstrap_servers=f"127.0.0.1:{port}")
            await admin.start()
            try:
                return list(await admin.list_topics())
            finally:
                await admin.close()

        assert set(Settings().topics.all_names()) <= set(asyncio.run(topics()))
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    assert not asyncio.run(metadata_ready(f"127.0.0.1:{port}", timeout_s=1.0))


def test_tail_prints_a_topic(engine_settings: Settings) -> None:
    """`gatehound tail alerts --from-beginning --limit 3` prints the three values produced."""

    async def produce() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=engine_settings.kafka.bootstrap_servers)
        await producer.start()
        try:
            for i in range(3):
                await producer.send_and_wait(engine_settings.topics.name("alerts"), b'{"n": %d}' % i)
        finally:
            await producer.stop()

    asyncio.run(produce())
    env = {
        **os.environ,
        "GATEHOUND_KAFKA__BOOTSTRAP_SERVERS": engine_settings.kafka.bootstrap_servers,
        "GATEHOUND_TOPICS__PREFIX": engine_settings.topics.prefix,
    }
    out = subprocess.run(
        [sys.executable, "-m", "engine.cli", "tail", "alerts", "--from-beginning", "--limit", "3"],
        env=env, capture_output=True, timeout=60, check=True,
    ).stdout.decode()
    assert sorted(out.splitlines()) == ['{"n": 0}', '{"n": 1}', '{"n": 2}']


def test_tail_of_a_missing_topic_is_a_clear_error(engine_settings: Settings) -> None:
    """Tailing a topic that does not exist names it and exits non-zero."""
    env = {**os.environ, "GATEHOUND_KAFKA__BOOTSTRAP_SERVERS": engine_settings.kafka.bootstrap_servers}
    proc = subprocess.run(
        [sys.executable, "-m", "engine.cli", "tail", "no.such.topic", "--limit", "1"],
        env=env, capture_output=True, timeout=60,
    )
    assert proc.returncode == 2
    assert b"no.such.topic" in proc.stderr
