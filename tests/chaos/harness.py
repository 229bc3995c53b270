"""What every reliability test needs: workers to kill, traffic at a rate, and the replay oracle."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer

from engine.bench.run import produce
from engine.broker import assign_all
from engine.flow.hops import tracks_changelog
from engine.messages import RawMessage
from engine.pipeline import Pipeline, PipelineResult
from engine.settings import Settings
from engine.simulate import TrafficMessage
from engine.supervise import OutputWatch, WorkerProcess, error_lines, start_worker, stop_worker


def replay(settings: Settings, messages: Sequence[TrafficMessage]) -> tuple[PipelineResult, dict[str, bytes]]:
    """What the engine must produce: replay's result and its final vessel-track state."""
    pipeline = Pipeline(settings)
    result = pipeline.run(RawMessage(value=m.value, key=m.key, topic=m.topic_base) for m in messages)
    store = pipeline.decide.tracks
    tracks = {k: store.encode(v) for part in store.partitions.values() for k, v in part.items()}
    return result, tracks


@dataclass
class Cluster:
    """Worker processes of one engine (one app id), started, killed and stopped on demand."""

    settings: Settings
    run_dir: Path
    workers: dict[int, WorkerProcess] = field(default_factory=dict)
    planned_exits: int = 0
    next_index: int = 1

    def add(self) -> WorkerProcess:
        """Start one more worker."""
        w = start_worker(self.settings, self.next_index, self.run_dir)
        self.workers[w.index] = w
        self.next_index += 1
        return w

    def kill(self, index: int) -> None:
        """SIGKILL a worker: no goodbye, no commit, no flush."""
        w = self.workers.pop(index)
        w.stopping = True
        w.process.send_signal(signal.SIGKILL)
        w.process.wait(10)
        self.planned_exits += 1

    def remove(self, index: int) -> int:
        """Stop a worker the polite way; return its exit code."""
        w = self.workers.pop(index)
        self.planned_exits += 1
        return stop_worker(w)

    def unplanned_exits(self) -> list[int]:
        """Workers that died without being told to."""
        return [i for i, w in self.workers.items() if not w.alive()]

    def stop_all(self) -> dict[int, int]:
        """Stop every remaining worker; their exit codes."""
        codes = {i: stop_worker(w) for i, w in self.workers.items()}
        self.workers.clear()
        return codes

    def errors(self) -> list[str]:
        """Error-level log events of every worker that ever ran."""
        found: list[str] = []
        for log in sorted(self.run_dir.glob("worker-*.log")):
            found += error_lines(log)
        return found


async def drain(
    watch: OutputWatch, expected_scores: int, cluster: Cluster, timeout_s: float, expected_alerts: int = 0
) -> None:
    """Until every expected event is scored and every expected alert is in (network alerts
    come from the link hop, after the scores), or time is up."""
    deadline = time.monotonic() + timeout_s
    while ((len(watch.scores) < expected_scores or len(watch.alerts) < expected_alerts)
           and time.monotonic() < deadline):
        assert not cluster.unplanned_exits(), f"a worker died: {cluster.unplanned_exits()}"
        await asyncio.sleep(0.5)
    await asyncio.sleep(3.0)  # late duplicates or strays would arrive now


async def changelog_state(settings: Settings) -> dict[str, bytes]:
    """The last value per key of the vessel-track changelog: the engine's final state."""
    name = tracks_changelog(settings)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka.bootstrap_servers,
                                enable_auto_commit=False)
    await consumer.start()
    try:
        await assign_all(consumer, [name])
        tps = list(consumer.assignment())
        ends = await consumer.end_offsets(tps)
        state: dict[str, bytes] = {}
        idle = 0
        while idle < 3:
            batch = await consumer.getmany(timeout_ms=300, max_records=10_000)
            idle = 0 if batch else idle + 1
            for records in batch.values():
                for r in records:
                    state[(r.key or b"").decode()] = r.value or b""
            if not batch and all([await consumer.position(tp) >= ends[tp] for tp in tps]):
                break
        return state
    finally:
        await consumer.stop()


async def under_traffic(
    cluster: Cluster,
    messages: Sequence[TrafficMessage],
    rate: float,
    expected_scores: int,
    disrupt: Callable[[Cluster], Awaitable[None]],
    expected_alerts: int = 0,
) -> OutputWatch:
    """Produce at ``rate`` while ``disrupt`` does its worst to the cluster; then drain."""
    watch = OutputWatch()
    follower = asyncio.create_task(watch.follow(cluster.settings))
    traffic = asyncio.create_task(produce(cluster.settings, messages, rate=rate))
    try:
        await disrupt(cluster)
        await traffic
        await drain(watch, expected_scores, cluster, timeout_s=180, expected_alerts=expected_alerts)
    finally:
        traffic.cancel()
        follower.cancel()
        await asyncio.gather(traffic, follower, return_exceptions=True)
    return watch


def explain_vessel(watch: OutputWatch, expected: PipelineResult, event_id: str) -> str:
    """One vessel's reports around an event: replay's findings against the engine's."""
    want = {s.event_id: s for s in expected.scores}
    key = want[event_id].key
    seq = [s for s in expected.scores if s.key == key]
    i = next(n for n, s in enumerate(seq) if s.event_id == event_id)
    lines = []
    for s in seq[max(0, i - 3): i + 4]:
        got = orjson.loads(watch.score_values[s.event_id]) if s.event_id in watch.score_values else {}
        lines.append(
            f"{s.event_id[-8:]} at {s.occurred_at:%d %H:%M:%S} replay={[f.rule_id for f in s.findings]} "
            f"engine={[f['rule_id'] for f in got.get('findings', [])]} seen={watch.scores.get(s.event_id)}"
        )
    return "\n".join(lines)


def assert_matches_replay(watch: OutputWatch, expected: PipelineResult) -> None:
    """Every event scored at least once; alerts, de-duplicated by id, exactly replay's."""
    want_events = {s.event_id for s in expected.scores}
    missing = want_events - set(watch.scores)
    assert not missing, f"{len(missing)} events never scored"
    assert set(watch.scores) == want_events, "scores for events that replay did not score"
    got = {k: orjson.loads(v) for k, v in watch.alerts.items()}
    want = {a.alert_id: a for a in expected.alerts}
    lost, extra = set(want) - set(got), set(got) - set(want)
    by_event = {a.event_id: a for a in expected.alerts}
    detail = [
        (got[k]["event_id"], [f["rule_id"] for f in got[k]["findings"]],
         [f["detail"] for f in got[k]["findings"]],
         "replay: " + (by_event[e].explanation if (e := got[k]["event_id"]) in by_event else "no alert"))
        for k in sorted(extra)[:5]
    ] + [(want[k].event_id, "lost", want[k].explanation) for k in sorted(lost)[:5]]
    if lost or extra:
        ids = [orjson.loads(watch.alerts[k])["event_id"] for k in sorted(extra)[:2]]
        ids += [want[k].event_id for k in sorted(lost)[:2]]
        story = "\n\n".join(explain_vessel(watch, expected, e) for e in ids)
        raise AssertionError(f"{len(lost)} alerts lost, {len(extra)} extra: {detail}\n{story}")
    for alert_id, a in want.items():
        assert [f["rule_id"] for f in got[alert_id]["findings"]] == [f.rule_id for f in a.findings]
        assert got[alert_id]["score"] == a.score
        if a.key.startswith("link:"):
            # A network alert is raised once, when the network is first complete; which of
            # its events completed it (and so which one it names) depends on arrival order.
            assert got[alert_id]["event_id"] in want_events
        else:
            assert got[alert_id]["event_id"] == a.event_id


def assert_same_state(engine_state: dict[str, bytes], replay_state: dict[str, bytes]) -> None:
    """The engine's final vessel-track state equals replay's, key by key."""
    assert set(engine_state) == set(replay_state)
    differ = [k for k in replay_state if orjson.loads(engine_state[k]) != orjson.loads(replay_state[k])]
    if differ:
        got, want = orjson.loads(engine_state[differ[0]]), orjson.loads(replay_state[differ[0]])
        fixes = [f["event_id"] for f in got["fixes"]] == [f["event_id"] for f in want["fixes"]]
        judged = {
            k: (v, want["judged"].get(k)) for k, v in got["judged"].items() if want["judged"].get(k) != v
        }
        raise AssertionError(
            f"{len(differ)} vessel tracks differ from replay, e.g. {differ[:3]}; same fixes: {fixes}; "
            f"judged differently: {str(judged)[:1500]}"
        )


def assert_survived(
    cluster: Cluster, watch: OutputWatch, expected: PipelineResult, expected_tracks: dict[str, bytes]
) -> None:
    """After a scenario: clean exits, replay's alerts, replay's state, dead letters written."""
    codes = cluster.stop_all()
    assert all(code == 0 for code in codes.values()), codes
    assert_matches_replay(watch, expected)
    assert_same_state(asyncio.run(changelog_state(cluster.settings)), expected_tracks)
    assert len(watch.deadletters) >= len(expected.deadletters) > 0


__all__ = ["Cluster", "OutputWatch", "assert_matches_replay", "assert_same_state",
           "assert_survived", "changelog_state", "drain", "produce", "replay", "under_traffic"]
