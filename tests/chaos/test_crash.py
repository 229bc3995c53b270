"""Crash: workers killed with SIGKILL mid-stream lose nothing and duplicate no alert."""

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

EVENTS = 50_000
RATE = 1_000
KILLS = 5
KILL_EVERY_S = 8.0


def test_kill_minus_nine_five_times(kafka_bootstrap: str, tmp_path: Path) -> None:
    """2 workers, 50,000 events at 1,000/s, one worker SIGKILLed every ~8 s five times and
    restarted: every event scored, exactly replay's alerts, exactly replay's track state."""
    settings = fresh_settings(kafka_bootstrap, session_timeout_ms=3000)
    messages = list(TrafficGenerator(seed=11, malformed_share=0.01).messages(EVENTS))
    expected, expected_tracks = replay(settings, messages)
    assert any(f.rule_id.startswith("vessel_") for a in expected.alerts for f in a.findings)
    cluster = Cluster(settings, tmp_path)

    async def kill_and_restart(cluster: Cluster) -> None:
        for n in range(KILLS):
            await asyncio.sleep(KILL_EVERY_S)
            cluster.kill(sorted(cluster.workers)[n % 2])
            await asyncio.sleep(0.5)
            cluster.add()
            assert not cluster.unplanned_exits()

    cluster.add()
    cluster.add()
    watch = asyncio.run(under_traffic(cluster, messages, RATE, len(expected.scores), kill_and_restart,
                                     len({a.alert_id for a in expected.alerts})))
    assert cluster.planned_exits == KILLS
    assert_survived(cluster, watch, expected, expected_tracks)
