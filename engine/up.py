"""`gatehound up`: the whole engine on one machine, with demo traffic and live alerts."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import orjson
from aiokafka import AIOKafkaProducer

from engine.broker import EmbeddedBroker, free_port, spawn
from engine.flow.engine import ensure_app_topics
from engine.logs import get_logger
from engine.settings import KafkaSettings, Settings
from engine.simulate.feeds import FeedSimulator
from engine.supervise import OutputWatch, WorkerProcess, error_lines, start_worker, stop_worker

log = get_logger(__name__)


@dataclass(frozen=True)
class UpOptions:
    """What `gatehound up` was asked to do."""

    duration_s: float | None = 60.0
    rate: float = 100.0
    workers: int = 1
    seed: int = 1
    malformed_share: float = 0.02
    summary_json: Path | None = None
    print_alerts: bool = True
    drain_timeout_s: float = 60.0
    ops: bool = True
    ops_port: int | None = None


@dataclass
class Summary:
    """What a run did. ``errors`` counts worker crashes, error log lines and lost messages."""

    events: int = 0
    scored: int = 0
    alerts: int = 0
    deadletters: int = 0
    errors: int = 0

    def to_dict(self) -> dict[str, int]:
        """The summary as a plain dict."""
        return asdict(self)


def run_up(settings: Settings, opts: UpOptions) -> Summary:
    """Broker, topics, workers, traffic and a live view; then drain, stop, summarise."""
    run_dir = Path(settings.worker.data_dir).resolve() / "up" / time.strftime("%Y%m%d-%H%M%S")
    run_dir.mkdir(parents=True, exist_ok=True)
    broker = EmbeddedBroker(log_path=run_dir / "broker.log").start()
    workers: list[WorkerProcess] = []
    ops: WorkerProcess | None = None
    summary = Summary()
    try:
        settings = settings.model_copy(
            update={"kafka": KafkaSettings(bootstrap_servers=broker.bootstrap)}
        )
        asyncio.run(ensure_app_topics(settings))
        workers = [start_worker(settings, i + 1, run_dir) for i in range(opts.workers)]
        if opts.ops:
            ops, login = start_ops(settings, run_dir, opts.ops_port)
        _banner(broker, workers, run_dir, opts)
        if ops is not None:
            print(f"  ops centre: http://127.0.0.1:{ops.metrics_port}/ (log {ops.log_path})\n"
                  f"    first login: supervisor / {login}\n"
                  f"    more users: gatehound users add NAME --role ROLE --database {_ops_url(run_dir)}",
                  flush=True)
        summary = asyncio.run(_drive(settings, opts, workers))
    finally:
        if ops is not None:
            stop_worker(ops, timeout_s=10.0)
        for w in workers:
            code = stop_worker(w)
            if code not in (0, -signal.SIGTERM):
                log.warning("worker.exit", worker=w.index, code=code)
                summary.errors += 1
            summary.errors += len(error_lines(w.log_path))
        broker.stop()
    text = json.dumps(summary.to_dict())
    print(f"summary: {text}", flush=True)
    if opts.summary_json:
        opts.summary_json.write_text(text + "\n", encoding="utf-8")
    return summary


def _ops_url(run_dir: Path) -> str:
    return f"sqlite:///{run_dir / 'ops.db'}"


def start_ops(settings: Settings, run_dir: Path, port: int | None = None,
              extra_env: dict[str, str] | None = None) -> tuple[WorkerProcess, str]:
    """Start `gatehound ops` on the run's own SQLite store, with a supervisor account made
    for the occasion; returns the process (its port as ``metrics_port``) and the password."""
    from engine.ops.auth import add_user
    from engine.ops.store import Store

    url = _ops_url(run_dir)
    store = Store(url)
    password = secrets.token_urlsafe(12)
    try:
        add_user(store, "supervisor", "supervisor", password)
    finally:
        store.close()
    return spawn_ops(settings, url, run_dir / "ops.log", port, extra_env), password


def spawn_ops(settings: Settings, url: str, log_path: Path, port: int | None = None,
              extra_env: dict[str, str] | None = None) -> WorkerProcess:
    """`gatehound ops` as a child process on the store at ``url``, logging to ``log_path``."""
    port = port or free_port()
    env = {**os.environ, "GATEHOUND_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
           "GATEHOUND_TOPICS__PREFIX": settings.topics.prefix, "GATEHOUND_OPS__DATABASE_URL": url,
           "GATEHOUND_OPS__PORT": str(port), "GATEHOUND_OPS__HOST": "127.0.0.1", **(extra_env or {})}
    with log_path.open("ab") as fh:
        proc = spawn([sys.executable, "-m", "engine.cli", "ops"], fh, env)
    return WorkerProcess(0, proc, log_path, port)


def _banner(broker: EmbeddedBroker, workers: list[WorkerProcess], run_dir: Path, opts: UpOptions) -> None:
    lines = [
        f"gatehound up: embedded broker on {broker.bootstrap} (memory only)",
        *(
            f"  worker {w.index}: pid {w.process.pid}, metrics http://127.0.0.1:{w.metrics_port}/metrics, "
            f"log {w.log_path}"
            for w in workers
        ),
        f"  demo traffic (PAXLST, PNRGOV, AIS, declarations): {opts.rate:g} events/s, seed {opts.seed}; "
        f"{f'for {opts.duration_s:g} s' if opts.duration_s else 'until Ctrl-C'}",
        f"  follow a topic: GATEHOUND_KAFKA__BOOTSTRAP_SERVERS={broker.bootstrap} gatehound tail alerts",
    ]
    print("\n".join(lines), flush=True)


async def _drive(settings: Settings, opts: UpOptions, workers: list[WorkerProcess]) -> Summary:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    summary = Summary()
    watch = OutputWatch(on_new_alert=_print_alert if opts.print_alerts else None)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers, linger_ms=5)
    await producer.start()
    watcher = asyncio.create_task(watch.follow(settings))
    try:
        await _produce(producer, settings, opts, stop, summary, workers)
        print(f"stopping: produced {summary.events}; draining...", flush=True)
        deadline = time.monotonic() + opts.drain_timeout_s
        while watch.accounted < summary.events and time.monotonic() < deadline:
            if not all(w.alive() for w in workers):
                break
            await asyncio.sleep(0.2)
    finally:
        await producer.stop()
        await asyncio.sleep(0.5)
        watcher.cancel()
        try:
            await watcher
        except asyncio.CancelledError:
            pass
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    summary.scored = len(watch.scores)
    summary.alerts = len(watch.alerts)
    summary.deadletters = len(watch.deadletters)
    lost = summary.events - summary.scored - summary.deadletters
    if lost > 0:
        log.error("up.unaccounted", messages=lost)
        summary.errors += lost
    return summary


async def _produce(
    producer: AIOKafkaProducer,
    settings: Settings,
    opts: UpOptions,
    stop: asyncio.Event,
    summary: Summary,
    workers: list[WorkerProcess],
) -> None:
    traffic = FeedSimulator(
        seed=opts.seed, malformed_share=opts.malformed_share,
        card_key=settings.privacy.card_hash_key.get_secret_value().encode("utf-8"),
    ).messages(count=2**62)
    started = time.monotonic()
    tick = 0.1
    sent = 0  # events sent, against the rate
    while not stop.is_set():
        elapsed = time.monotonic() - started
        if opts.duration_s is not None and elapsed >= opts.duration_s:
            break
        futures = []
        while sent < opts.rate * (elapsed + tick):
            m = next(traffic)
            futures.append(await producer.send(settings.topics.name(m.topic_base), m.value, key=m.key))
            sent += m.events
            # What the workers will account for: each event, or the dead letter of a broken message.
            summary.events += m.events if m.valid else 1
        await asyncio.gather(*futures)
        for w in workers:
            if not w.alive() and not w.stopping:
                log.error("worker.died", worker=w.index, code=w.process.returncode)
                w.stopping = True
                summary.errors += 1
        try:
            await asyncio.wait_for(stop.wait(), tick)
        except TimeoutError:
            pass


def _print_alert(value: bytes) -> None:
    a = orjson.loads(value)
    print(
        f"ALERT {a['severity']:<6} {a['mode']:<9} score {a['score']:.2f} "
        f"priority {a.get('priority', 0):>5.1f}  {a['explanation'][:150]}",
        flush=True,
    )
