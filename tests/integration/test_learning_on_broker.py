"""Outcomes teach a worker's models on a real broker, and a restart keeps what they learned."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from engine.broker import assign_all
from engine.evaluate import read_jsonl
from engine.feedback.hop import YIELD_KEY, read_latest
from engine.flow.hops import anomaly_changelog
from engine.ingest.files import read_file
from engine.ingest.publish import publish
from engine.score.bank import unseal
from engine.settings import Settings
from engine.simulate.feeds import FILES, FeedSimulator, write_simulation
from engine.simulate.outcomes import simulate_outcomes
from engine.supervise import OutputWatch, error_lines, start_worker, stop_worker
from schemas import Alert, Score

pytestmark = pytest.mark.integration


async def _until(check: Callable[[], bool], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.2)


def _learned(state: bytes | None, settings: Settings) -> int:
    return 0 if state is None else len(unseal(state, settings.models)["learned"])


def _count(version: str) -> int:
    return int(version.rpartition("+")[2])


async def _checkpoints(settings: Settings) -> dict[tuple[int, str], int]:
    """Per (partition, mode): how many events the checkpointed anomaly model learned."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka.bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        topic = anomaly_changelog(settings)
        await assign_all(consumer, [topic])
        ends = await consumer.end_offsets(list(consumer.assignment()))
        latest: dict[tuple[int, str], bytes] = {}
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                for r in records:
                    if r.key and r.value:
                        latest[(tp.partition, r.key.decode().removeprefix("anomaly:"))] = r.value
    finally:
        await consumer.stop()
    out = {}
    for key, value in latest.items():
        state = unseal(value, settings.models)
        for models in state["anomaly"].values():
            out[key] = max(learned for _, learned, _ in models)
    return out


def test_outcomes_teach_the_models_and_a_restart_keeps_them(
    engine_settings: Settings, tmp_path: Path
) -> None:
    """Traffic, then outcomes for its alerts: the feedback hop learns each examined one
    and publishes the yield models; a clean stop checkpoints the anomaly models; a new
    worker scores the next traffic with both, carrying on where the first stopped."""
    settings = engine_settings
    runs = []
    for seed in (21, 22):
        out = tmp_path / f"sim{seed}"
        write_simulation(out, FeedSimulator(seed=seed, cases_per_10k=60), count=1200)
        runs.append(([out / name for name in FILES.values()], read_jsonl(out / "truth.jsonl", "truth")))

    async def scenario() -> tuple[int, list[Alert], list[Alert], dict[tuple[int, str], int], list[Score]]:
        watch = OutputWatch()
        follower = asyncio.create_task(watch.follow(settings))
        try:
            first = start_worker(settings, 1, tmp_path)
            files, truth = runs[0]
            await publish(settings, (m for f in files for m in read_file(f)))
            await _until(lambda: len(watch.scores) > 1000 and len(watch.alerts) > 20)
            await asyncio.sleep(3)  # the last of the first traffic
            before = [Alert.model_validate_json(v) for v in watch.alerts.values()]
            outcomes = simulate_outcomes(before, truth, seed=1)
            producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers)
            await producer.start()
            try:
                for o in outcomes:
                    await producer.send(settings.topics.name("outcomes"), o.model_dump_json().encode(),
                                        key=o.alert_id.encode())
                await producer.flush()
            finally:
                await producer.stop()
            teachable = {a.alert_id for a in before if a.features}
            examined = sum(o.result != "not_examined" for o in outcomes if o.alert_id in teachable)
            models_topic = settings.topics.name("models")
            learned = 0
            deadline = time.monotonic() + 60
            while learned < examined and time.monotonic() < deadline:
                state = await read_latest(settings.kafka.bootstrap_servers, models_topic, YIELD_KEY)
                learned = _learned(state, settings)
                await asyncio.sleep(0.5)
            assert learned == examined > 0
            assert stop_worker(first) == 0 and error_lines(first.log_path) == []
            checkpoints = await _checkpoints(settings)
            assert {mode for _, mode in checkpoints} == {"passenger", "freight", "vessel"}, (
                "a clean stop checkpoints the anomaly models")

            second = start_worker(settings, 2, tmp_path)
            known, first_scores = set(watch.alerts), dict(watch.score_values)
            files, _ = runs[1]
            scored_before = len(watch.scores)
            await publish(settings, (m for f in files for m in read_file(f)))
            await _until(lambda: len(watch.scores) > scored_before + 1000
                         and len(watch.alerts) > len(known) + 20)
            await asyncio.sleep(3)
            after = [Alert.model_validate_json(v) for k, v in watch.alerts.items() if k not in known]
            assert stop_worker(second) == 0 and error_lines(second.log_path) == []
            scores = [Score.model_validate_json(v) for v in watch.score_values.values()]
            fresh = [s for s in scores if s.event_id not in first_scores]
            return learned, before, after, checkpoints, fresh
        finally:
            follower.cancel()
            await asyncio.gather(follower, return_exceptions=True)

    learned, before, after, checkpoints, second_scores = asyncio.run(scenario())
    champion = [m for a in after for m in a.model_scores if m.model_id == "yield_logistic"]
    assert champion and all(_count(m.model_version) == learned for m in champion)
    assert any(a.yield_estimate is not None for a in after), "trusted after enough outcomes"
    assert all(a.yield_estimate is None for a in before), "nothing learned yet in the first traffic"
    # The anomaly models went on from their checkpoints: every score of the second
    # traffic met a model that had learned at least what the least taught partition of
    # its mode had when the first worker stopped (fresh models would start at 0).
    least = {mode: min(n for (_, m), n in checkpoints.items() if m == mode) for _, mode in checkpoints}
    assert min(least.values()) > 0
    seen = [(s.mode, _count(m.model_version)) for s in second_scores for m in s.model_scores
            if m.kind == "anomaly"]
    assert {mode for mode, _ in seen} == set(least)
    assert all(n >= least[mode] for mode, n in seen), (least, sorted(seen)[:5])
