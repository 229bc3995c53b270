"""Run worker processes and watch what they write: used by `up`, the tests and the benchmark."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer

from engine.broker import assign_all, free_port, spawn
from engine.settings import Settings


@dataclass
class WorkerProcess:
    """One `gatehound worker` child process."""

    index: int
    process: subprocess.Popen[bytes]
    log_path: Path
    metrics_port: int
    stopping: bool = False

    def alive(self) -> bool:
        """True while the process runs."""
        return self.process.poll() is None


WORKER_MODULE = "engine.cli"


def start_worker(
    settings: Settings,
    index: int,
    run_dir: Path,
    extra_env: dict[str, str] | None = None,
    module_args: tuple[str, ...] = (WORKER_MODULE, "worker"),
) -> WorkerProcess:
    """Start `gatehound worker` (or another ``python -m`` worker) as a child.

    It logs to ``run_dir/worker-<index>.log`` and serves metrics on a free port.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = run_dir / f"worker-{index}.log"
    env = {
        **os.environ,
        "GATEHOUND_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        "GATEHOUND_TOPICS__PREFIX": settings.topics.prefix,
        "GATEHOUND_TOPICS__PARTITIONS": str(settings.topics.partitions),
        "GATEHOUND_WORKER__METRICS_PORT": str(port),
        "GATEHOUND_WORKER__DATA_DIR": str(run_dir / f"worker-{index}"),
        "GATEHOUND_WORKER__APP_ID": settings.worker.app_id,
        # The group timeouts the caller chose (tests shorten them), not the default.
        "GATEHOUND_WORKER__SESSION_TIMEOUT_MS": str(settings.worker.session_timeout_ms),
        **(extra_env or {}),
    }
    with log_path.open("ab") as fh:
        proc = spawn([sys.executable, "-m", *module_args], fh, env)
    return WorkerProcess(index, proc, log_path, port)


def stop_worker(worker: WorkerProcess, timeout_s: float = 30.0) -> int:
    """SIGTERM a worker, SIGKILL it if it does not stop in time; return its exit code."""
    worker.stopping = True
    proc = worker.process
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode if proc.returncode is not None else -1


def peak_rss_bytes(pid: int) -> int:
    """Peak resident set size of a running process (VmHWM), 0 when it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a running process has used, 0.0 when it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def error_lines(path: Path) -> list[str]:
    """The events a worker's JSON log recorded at error or critical level."""
    found: list[str] = []
    if not path.exists():
        return found
    for line in path.read_bytes().splitlines():
        if not line.startswith(b"{"):
            continue
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if entry.get("level") in ("error", "critical"):
            found.append(str(entry.get("event", ""))[:200])
    return found


@dataclass
class OutputWatch:
    """What the engine has written to scores, alerts, deadletter and features, read from the start."""

    scores: dict[str, int] = field(default_factory=dict)  # event id -> times seen
    score_values: dict[str, bytes] = field(default_factory=dict)  # event id -> first record
    alerts: dict[str, bytes] = field(default_factory=dict)  # alert id -> first value
    alert_messages: int = 0
    deadletters: list[bytes] = field(default_factory=list)
    features: dict[str, bytes] = field(default_factory=dict)  # event id -> latest network features
    on_new_alert: Callable[[bytes], None] | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def accounted(self) -> int:
        """Distinct events scored plus dead letters: what every input message ends as."""
        return len(self.scores) + len(self.deadletters)

    async def follow(
        self, settings: Settings, stop: asyncio.Event | None = None, from_end: bool = False
    ) -> None:
        """Read the four topics until cancelled (or ``stop`` is set), from the start or the end."""
        names = {settings.topics.name(b): b for b in ("scores", "alerts", "deadletter", "features")}
        consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka.bootstrap_servers, enable_auto_commit=False
        )
        await consumer.start()
        try:
            await assign_all(consumer, names, from_end)
            self.ready.set()
            while stop is None or not stop.is_set():
                batch = await consumer.getmany(timeout_ms=200)
                for tp, messages in batch.items():
                    for m in messages:
                        self._take(names[tp.topic], m.key or b"", m.value or b"")
        finally:
            await consumer.stop()

    def _take(self, kind: str, key: bytes, value: bytes) -> None:
        k = key.decode("utf-8", "replace")
        if kind == "scores":
            self.scores[k] = self.scores.get(k, 0) + 1
            self.score_values.setdefault(k, value)
        elif kind == "deadletter":
            self.deadletters.append(value)
        elif kind == "features":
            self.features[k] = value
        else:
            self.alert_messages += 1
            if k not in self.alerts:
                self.alerts[k] = value
                if self.on_new_alert is not None:
                    self.on_new_alert(value)
