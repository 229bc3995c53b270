"""`gatehound bench` measures what it promises and writes every key the README names."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from engine.bench.run import BenchPlan, markdown, run
from engine.broker import EmbeddedBroker

pytestmark = pytest.mark.integration

KEYS = {"pipeline_eps_1w", "pipeline_eps_2w", "baseline_eps_1w", "ratio_vs_baseline",
        "p99_ms_at_2000", "rss_mb_1w", "machine", "stage_us_per_event", "met"}


def test_a_small_bench_writes_the_report(tmp_path: Path) -> None:
    """A tiny plan runs end to end: positive throughputs (the split layout's too), latency
    percentiles, stage costs, the machine, and a Markdown page."""
    plan = BenchPlan(throughput_events=3_000, latency_rates=(2000,), latency_seconds=2.0,
                     baseline_workers=(1,), feed_events=2_000, screening_sizes=(1_000,))
    with EmbeddedBroker() as broker:
        report = asyncio.run(run(plan, tmp_path, broker))
    assert set(report) >= KEYS
    assert report["pipeline_eps_1w"] > 0 and report["baseline_eps_1w"] > 0
    assert report["pipeline_latency_ms"]["2000"]["n"] == 4_000
    assert report["p99_ms_at_2000"] > 0
    assert report["rss_mb_1w"] > 10
    assert {"normalise", "parse", "enrich", "score", "serialise"} <= set(report["stage_us_per_event"])
    assert report["machine"]["cores"] >= 1
    assert set(report["feed_normalise_us_per_event"]) == {"paxlst", "pnrgov", "ais", "declaration", "json"}
    assert all(us > 0 for us in report["feed_normalise_us_per_event"].values())
    assert [r["entities"] for r in report["screening"]["sizes"]] == [1_000]
    json.dumps(report)
    page = markdown(report)
    assert "events/s, 1 worker" in page and "p99" in page
    assert report["pipeline_eps_split"] > 0 and report["pipeline_latency_split_ms"]["2000"]["n"] == 4_000
    assert "2 workers split" in page
