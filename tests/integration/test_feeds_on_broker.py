"""Real feed files, published with `gatehound ingest`, through a worker on a real broker:
the same scores, alerts and dead letters as `gatehound replay` gives for the same files."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from engine.replay import replay_files
from engine.settings import Settings
from engine.simulate.feeds import FILES, FeedSimulator, write_simulation
from engine.supervise import OutputWatch
from tests.integration.worker_run import run_engine

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("workers", [1, 2, "split"])
def test_ingested_feed_files_give_what_replay_gives(
    engine_settings: Settings, tmp_path: Path, workers: int | str
) -> None:
    """PAXLST, PNRGOV, AIS and declarations with broken messages among them, and the
    simulation's watchlist published to the watchlists topic first: with one worker or two,
    every event scored once, replay's alerts exactly (watchlist hits and network alerts
    included), replay's network features for every event, one dead letter per broken
    message. "split": one worker runs normalise and decide, another link and network."""
    out = tmp_path / "d"
    write_simulation(out, FeedSimulator(seed=11, malformed_share=0.03, cases_per_10k=40), count=1500)
    files = [out / "watchlist.jsonl", *(out / name for name in FILES.values())]
    expected = replay_files(files, engine_settings)
    rules = {f.rule_id for a in expected.alerts for f in a.findings}
    assert {"cross_watchlist_match", "cross_courier_network", "cross_traveller_flagged_trader"} <= rules
    assert expected.alerts and expected.deadletters
    assert {s.mode for s in expected.scores} == {"passenger", "freight", "vessel"}

    async def ingest() -> None:
        env = {**os.environ,
               "GATEHOUND_KAFKA__BOOTSTRAP_SERVERS": engine_settings.kafka.bootstrap_servers,
               "GATEHOUND_TOPICS__PREFIX": engine_settings.topics.prefix}
        printed = b""
        # The watchlist first, given a moment to reach the workers, as an operator would.
        for part in (files[:1], files[1:]):
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "engine.cli", "ingest", *map(str, part), env=env,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            )
            out, _ = await proc.communicate()
            assert proc.returncode == 0, out.decode()
            printed += out
            await asyncio.sleep(2.0)
        for topic in (b"raw.passenger", b"raw.vessel", b"raw.freight", b"watchlists"):
            assert topic in printed

    want = len(expected.scores) + len(expected.deadletters)
    features = {k: orjson.loads(f.model_dump_json()) for k, f in expected.final_features().items()}
    assert any(f["linked_events"] for f in features.values())
    assert {f["flagged_distance"] for f in features.values()} >= {0, 1}

    def settled(watch: OutputWatch) -> bool:  # the views and notes have stopped changing anything
        return {k: orjson.loads(v) for k, v in watch.features.items()} == features

    hops = [["normalise", "decide"], ["link", "network"]] if workers == "split" else None
    count = 2 if workers == "split" else int(workers)
    watch = asyncio.run(run_engine(engine_settings, ingest, tmp_path, expect=want, workers=count,
                                   settled=settled, hops=hops)).watch
    assert set(watch.scores) == {s.event_id for s in expected.scores}
    assert all(n == 1 for n in watch.scores.values()), "an event was scored twice"
    got = {k: orjson.loads(v) for k, v in watch.alerts.items()}
    assert set(got) == {a.alert_id for a in expected.alerts}
    for a in expected.alerts:
        assert [f["rule_id"] for f in got[a.alert_id]["findings"]] == [f.rule_id for f in a.findings]
    got_features = {k: orjson.loads(v) for k, v in watch.features.items()}
    assert set(got_features) == set(features)
    assert [k for k in features if got_features[k] != features[k]] == []
    reasons = sorted(orjson.loads(d)["reason"] for d in watch.deadletters)
    assert reasons == sorted(d.reason for d in expected.deadletters)


def test_simulate_live_publishes_raw_feeds_and_its_truth(engine_settings: Settings, tmp_path: Path) -> None:
    """`gatehound simulate --live --count N` sends the real formats to the raw topics at the
    given rate, then writes the truth of what it sent."""
    env = {**os.environ,
           "GATEHOUND_KAFKA__BOOTSTRAP_SERVERS": engine_settings.kafka.bootstrap_servers,
           "GATEHOUND_TOPICS__PREFIX": engine_settings.topics.prefix}
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "engine.cli", "simulate", "--live", "--count", "800", "--rate", "400",
         "--out", str(tmp_path / "truth")],
        env=env, capture_output=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout.decode()[-2000:] + proc.stderr.decode()[-2000:]
    assert time.monotonic() - started >= 1.5  # paced: about 800 events at 400/s
    printed = proc.stdout.decode()
    for topic in ("raw.passenger", "raw.freight", "raw.vessel"):
        assert f"{engine_settings.topics.prefix}{topic}:" in printed
    counts = orjson.loads(printed.strip().splitlines()[-1])
    assert counts["events"] >= 800
    assert (tmp_path / "truth" / "truth.jsonl").stat().st_size > 0
    assert (tmp_path / "truth" / "watchlist.jsonl").stat().st_size > 0
