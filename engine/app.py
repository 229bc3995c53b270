"""The Faust app of a worker: it hosts the hot path and owns the process's life.

Records move between topics in the hot path's batch loops (engine/flow/), not in
Faust agents: measured on this machine, Faust's per-message machinery alone costs
more CPU per event (~130 us) than all our stages together, and the Faust-agent
version of this pipeline ran at 1.8k events/s against the 10k/s target (see the
README's benchmark section). Faust runs the worker: start-up and shutdown,
signals, logging, and the services and agents added for lower-volume flows.

The hot path starts with Faust's own services, not after them: Faust starts
``@app.service`` services only once its consumer group has formed and its
tables are recovered, which kept the batch loops idle for about 6 s of the
~11 s a worker took to get its first partitions.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain

import faust
from faust.app.base import BootStrategy
from mode import Service, ServiceT

from engine.flow.engine import HotPath
from engine.settings import Settings


def faust_broker_url(bootstrap: str) -> str:
    """``h1:9092,h2:9092`` -> Faust's ``kafka://h1:9092;kafka://h2:9092``."""
    return ";".join(f"kafka://{h.strip()}" for h in bootstrap.split(",") if h.strip())


def faust_app(settings: Settings, app_id: str | None = None) -> faust.App:
    """A Faust app configured for our workers: raw bytes in and out, local-friendly timeouts."""
    w = settings.worker
    return faust.App(
        app_id or w.app_id,
        broker=faust_broker_url(settings.kafka.bootstrap_servers),
        store=w.store,
        datadir=w.data_dir,
        key_serializer="raw",
        value_serializer="raw",
        topic_partitions=settings.topics.partitions,
        topic_replication_factor=settings.topics.replication_factor,
        consumer_auto_offset_reset="earliest",
        # Local brokers answer at once; Faust's defaults assume a busy cluster and
        # make a first start take ~30 s.
        broker_session_timeout=10.0,
        broker_heartbeat_interval=1.0,
        broker_rebalance_timeout=10.0,
        broker_commit_interval=1.0,
        stream_wait_empty=False,
        web_enabled=False,
        producer_linger=0.005,
        producer_max_request_size=4_000_000,
    )


class HotPathService(Service):
    """Starts the batch loops with the app and lets them drain when it stops."""

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
        self.hot_path: HotPath | None = None

    async def on_start(self) -> None:
        self.hot_path = HotPath(self.settings)
        await self.hot_path.start()

    async def on_stop(self) -> None:
        if self.hot_path is not None:
            await self.hot_path.stop()


class _Boot(BootStrategy):
    """Faust's server start-up, with the hot path started among its services."""

    def __init__(self, app: faust.App, hot_path: HotPathService) -> None:
        super().__init__(app)
        self.hot_path = hot_path

    def server(self) -> Iterable[ServiceT]:
        return chain(super().server(), [self.hot_path])


def create_app(settings: Settings) -> faust.App:
    """The worker's Faust app, with the hot path as one of the services it starts."""
    app = faust_app(settings)
    app.boot_strategy = _Boot(app, HotPathService(settings))
    return app
