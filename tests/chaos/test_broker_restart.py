"""Broker restart: workers stay up through an outage, say so, and carry on when it is back.

The embedded broker keeps nothing across a restart: topics, offsets and groups are
gone. The workers recreate the topics they need; the test checks that traffic
produced after the restart is processed by the same worker processes.
"""

from __future__ import annotations

import asyncio
import time
import urllib.request
from pathlib import Path

import orjson
import pytest

from engine.broker import EmbeddedBroker, free_port
from engine.simulate import TrafficGenerator
from tests.chaos.harness import Cluster, OutputWatch, produce
from tests.conftest import fresh_settings

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(300)]


def broker_up_metric(port: int) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        for line in resp.read().decode().splitlines():
            if line.startswith("gatehound_broker_up "):
                return float(line.split()[1])
    raise AssertionError("gatehound_broker_up not exported")


async def score_all(settings, messages, cluster: Cluster, timeout_s: float = 90) -> OutputWatch:
    """Produce and wait until every valid message has a score record."""
    watch = OutputWatch()
    follower = asyncio.create_task(watch.follow(settings))
    try:
        await produce(settings, messages)
        deadline = time.monotonic() + timeout_s
        while len(watch.scores) < len(messages) and time.monotonic() < deadline:
            assert not cluster.unplanned_exits()
            await asyncio.sleep(0.3)
    finally:
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)
    return watch


def test_workers_ride_out_a_broker_restart(tmp_path: Path) -> None:
    """Two workers keep running while the broker is down, report it, and process new
    traffic once it is back."""
    port = free_port()
    broker = EmbeddedBroker(port=port).start()
    try:
        settings = fresh_settings(broker.bootstrap, session_timeout_ms=3000)
        cluster = Cluster(settings, tmp_path)
        cluster.add()
        cluster.add()
        gen = TrafficGenerator(seed=15, malformed_share=0.0)
        before = asyncio.run(score_all(settings, list(gen.messages(1_000)), cluster))
        assert len(before.scores) == 1_000
        pids = {i: w.process.pid for i, w in cluster.workers.items()}

        broker.stop()
        time.sleep(8)
        assert not cluster.unplanned_exits(), "a worker died with the broker"
        assert [broker_up_metric(w.metrics_port) for w in cluster.workers.values()] == [0.0, 0.0]

        broker = EmbeddedBroker(port=port).start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(
            broker_up_metric(w.metrics_port) == 1.0 for w in cluster.workers.values()
        ):
            time.sleep(0.5)
        after = asyncio.run(score_all(settings, list(gen.messages(1_000)), cluster, timeout_s=150))
        assert len(after.scores) == 1_000, f"only {len(after.scores)} scored after the restart"
        assert {i: w.process.pid for i, w in cluster.workers.items()} == pids
        assert [broker_up_metric(w.metrics_port) for w in cluster.workers.values()] == [1.0, 1.0]
        events = [
            orjson.loads(line).get("event")
            for log in tmp_path.glob("worker-*.log")
            for line in log.read_bytes().splitlines()
            if line.startswith(b"{")
        ]
        assert "broker.unreachable" in events and "broker.reachable" in events
        assert cluster.stop_all() == {1: 0, 2: 0}
    finally:
        broker.stop()
