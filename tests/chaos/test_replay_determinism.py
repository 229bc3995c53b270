"""Deterministic replay: the same input read again by a fresh app gives the same decisions."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest

from engine.settings import Settings
from engine.simulate import TrafficGenerator
from tests.chaos.harness import Cluster, OutputWatch, drain, produce
from tests.conftest import fresh_settings

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(300)]


async def run_app(settings: Settings, run_dir: Path, expected: int) -> OutputWatch:
    """One app (its own consumer group) over the raw topics from offset 0; its outputs only."""
    cluster = Cluster(settings, run_dir)
    watch = OutputWatch()
    follower = asyncio.create_task(watch.follow(settings, from_end=True))
    await watch.ready.wait()
    cluster.add()
    try:
        await drain(watch, expected, cluster, timeout_s=120)
    finally:
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)
        assert cluster.stop_all() == {1: 0}
    return watch


def test_fresh_app_from_offset_zero_decides_identically(kafka_bootstrap: str, tmp_path: Path) -> None:
    """Run A, then a fresh app B over the same topics from offset 0: identical alert ids and
    byte-identical score records."""
    first = fresh_settings(kafka_bootstrap)
    messages = list(TrafficGenerator(seed=14, malformed_share=0.02).messages(5_000))
    valid = sum(m.valid for m in messages)
    asyncio.run(produce(first, messages))

    a = asyncio.run(run_app(first, tmp_path / "a", valid))
    fresh_app = first.worker.model_copy(update={"app_id": first.worker.app_id + "-b"})
    second = first.model_copy(update={"worker": fresh_app})
    b = asyncio.run(run_app(second, tmp_path / "b", valid))

    assert len(a.scores) == valid
    assert set(a.alerts) == set(b.alerts) and a.alerts
    assert a.score_values == b.score_values
    vessel_alerts = [v for v in a.alerts.values() if orjson.loads(v)["mode"] == "vessel"]
    assert vessel_alerts, "stateful rules must be part of what is compared"
