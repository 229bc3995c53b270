"""What each feed format costs to normalise, in process: µs of CPU per event.

The broker runs of the benchmark use normalised JSON events, so their figures are the
engine's cost with parsing at its cheapest. This measures the parsers of the real
formats on the simulator's traffic, one batch per format, on this process's CPU
clock, so the pipeline figures can be read for a feed of any mix.
"""

from __future__ import annotations

import time
from collections import defaultdict

from engine.messages import RawMessage
from engine.normalise import normalise_batch
from engine.simulate import TrafficGenerator
from engine.simulate.feeds import FeedSimulator


def feed_costs(events: int = 20_000, seed: int = 1, repeats: int = 3) -> dict[str, float]:
    """CPU µs per event of normalise_batch, per format (best of ``repeats``)."""
    batches: dict[str, list[RawMessage]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    for m in FeedSimulator(seed=seed, malformed_share=0.0).messages(events):
        if m.format == "watchlist":
            continue
        batches[m.format].append(RawMessage(value=m.value, topic=m.topic_base, timestamp_ms=1))
        counts[m.format] += m.events
    for j in TrafficGenerator(seed=seed, malformed_share=0.0).messages(events // 2):
        batches["json"].append(RawMessage(value=j.value, topic=j.topic_base, timestamp_ms=1))
        counts["json"] += 1
    costs = {}
    for fmt, raws in sorted(batches.items()):
        best = float("inf")
        for _ in range(repeats):
            started = time.process_time()
            result = normalise_batch(raws)
            best = min(best, time.process_time() - started)
        assert len(result.events) == counts[fmt], fmt
        costs[fmt] = round(best / counts[fmt] * 1e6, 1)
    return costs
