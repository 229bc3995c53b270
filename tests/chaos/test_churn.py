"""Rebalance churn: workers joining and leaving mid-stream change nothing in the result."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from engine.simulate import TrafficGenerator
from tests.chaos.harness import Cluster, assert_survived, replay, under_traffic
from tests.conftest import fresh_settings

pytestmark = [
    pytest.mark.chaos,
    pytest.mark.timeout(600),
]

EVENTS = 30_000
RATE = 1_000
CYCLES = 4


def test_add_and_remove_workers_four_times(kafka_bootstrap: str, tmp_path: Path) -> None:
    """30,000 events while workers are added and removed four times: replay's alerts and
    state exactly, every leaving worker exits cleanly, no consistency error logged."""
    settings = fresh_settings(kafka_bootstrap, session_timeout_ms=3000)
    messages = list(TrafficGenerator(seed=12, malformed_share=0.01).messages(EVENTS))
    expected, expected_tracks = replay(settings, messages)
    cluster = Cluster(settings, tmp_path)
    leave_codes: list[int] = []

    async def join_and_leave(cluster: Cluster) -> None:
        for _ in range(CYCLES):
            await asyncio.sleep(3.5)
            cluster.add()
            await asyncio.sleep(3.5)
            leave_codes.append(await asyncio.to_thread(cluster.remove, min(cluster.workers)))
            assert not cluster.unplanned_exits()

    cluster.add()
    watch = asyncio.run(under_traffic(cluster, messages, RATE, len(expected.scores), join_and_leave,
                                     len({a.alert_id for a in expected.alerts})))
    assert leave_codes == [0] * CYCLES
    assert_survived(cluster, watch, expected, expected_tracks)
    assert not [e for e in cluster.errors() if "Consistency" in e]
