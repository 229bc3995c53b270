"""Running one worker against a broker in a test, until its outputs account for the input."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from engine.settings import Settings
from engine.supervise import OutputWatch, error_lines, start_worker, stop_worker


@dataclass
class EngineRun:
    """What one worker run left behind: its outputs, its metrics and its log."""

    watch: OutputWatch
    metrics: dict[tuple[str, frozenset[tuple[str, str]]], float]
    log_lines: list[bytes]

    def metric_sum(self, name: str, **labels: str) -> float:
        """Sum of a metric's samples whose labels include ``labels``."""
        want = set(labels.items())
        return sum(v for (n, ls), v in self.metrics.items() if n == name and want <= ls)


def scrape(port: int) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """A worker's /metrics, parsed by the Prometheus client's own parser."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def run_engine(
    settings: Settings, send: Callable[[], Awaitable[None]], run_dir: Path, expect: int, workers: int = 1,
    settled: Callable[[OutputWatch], bool] | None = None, hops: list[list[str]] | None = None,
) -> EngineRun:
    """Start workers, send the input, and watch outputs until ``expect`` are accounted for
    (scores and dead letters) and ``settled`` says the rest has arrived too; then wait a
    little for any extra, and stop the workers. Metrics and log lines are the first worker's.
    ``hops``, one list per worker, says which hops each runs (default: all)."""
    started = [
        start_worker(settings, i + 1, run_dir,
                     {"GATEHOUND_WORKER__HOPS": json.dumps(hops[i])} if hops else None)
        for i in range(workers)
    ]
    watch = OutputWatch()
    metrics = {}
    follower = asyncio.create_task(watch.follow(settings))
    try:
        await send()
        deadline = time.monotonic() + 120
        def done() -> bool:
            return watch.accounted >= expect and (settled is None or settled(watch))

        while not done() and time.monotonic() < deadline and all(w.alive() for w in started):
            await asyncio.sleep(0.2)
        await asyncio.sleep(2.0)  # anything extra (a duplicate, a stray) would show up now
        metrics = scrape(started[0].metrics_port)
    finally:
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)
        codes = [stop_worker(w) for w in started]
    for w, code in zip(started, codes, strict=True):
        assert code == 0, f"worker exited with {code}; log: {w.log_path}"
        assert error_lines(w.log_path) == []
    return EngineRun(watch, metrics, started[0].log_path.read_bytes().splitlines())
