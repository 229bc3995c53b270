"""A running worker takes a changed settings file: a rule switched off stops scoring."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import orjson
import pytest

from engine.ingest.files import read_file
from engine.ingest.publish import publish
from engine.settings import CONFIG_FILE_ENV, Settings
from engine.simulate.feeds import FILES, FeedSimulator, write_simulation
from engine.supervise import OutputWatch, error_lines, start_worker, stop_worker

pytestmark = pytest.mark.integration

CASH = "passenger_late_cash_booking"


def test_a_rule_switched_off_in_the_file_stops_without_a_restart(
    engine_settings: Settings, tmp_path: Path
) -> None:
    """First traffic scored with the rule; the file turns it off; the worker says so in
    its log and scores the next traffic without it, never having stopped."""
    config = tmp_path / "gatehound.toml"
    config.write_text(f'[rules.{CASH}]\nstatus = "live"\n')
    sims = []
    for seed in (31, 32):
        out = tmp_path / f"sim{seed}"
        write_simulation(out, FeedSimulator(seed=seed), count=600)
        sims.append([out / name for name in FILES.values()])

    async def scenario() -> tuple[set[str], dict[str, bytes], Path]:
        watch = OutputWatch()
        follower = asyncio.create_task(watch.follow(engine_settings))
        worker = start_worker(engine_settings, 1, tmp_path, {CONFIG_FILE_ENV: str(config)})
        try:
            await publish(engine_settings, (m for f in sims[0] for m in read_file(f)))
            deadline = time.monotonic() + 90
            while len(watch.scores) < 550 and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            await asyncio.sleep(2)
            first = set(watch.scores)
            config.write_text(f'[rules.{CASH}]\nstatus = "off"\n')
            deadline = time.monotonic() + 20
            while b"config.reloaded" not in worker.log_path.read_bytes() and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            await publish(engine_settings, (m for f in sims[1] for m in read_file(f)))
            deadline = time.monotonic() + 90
            while len(watch.scores) < len(first) + 550 and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            await asyncio.sleep(2)
        finally:
            follower.cancel()
            await asyncio.gather(follower, return_exceptions=True)
            assert stop_worker(worker) == 0
        assert error_lines(worker.log_path) == []
        return first, dict(watch.score_values), worker.log_path

    first, scores, log_path = asyncio.run(scenario())
    assert b"config.reloaded" in log_path.read_bytes()
    passenger = {k: orjson.loads(v) for k, v in scores.items() if orjson.loads(v)["mode"] == "passenger"}
    before = [s for k, s in passenger.items() if k in first]
    after = [s for k, s in passenger.items() if k not in first]
    assert before and after
    assert all(CASH in s["rule_versions"] for s in before)
    assert all(CASH not in s["rule_versions"] for s in after)
