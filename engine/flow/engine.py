"""HotPath: the producer, the batch loops (normalise, decide, link, network, feedback),
their state stores, and the followers of one worker: watchlists and yield models for
the decide hop, alerts for the feedback hop's learner."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from functools import partial

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from engine.broker import assign_all, ensure_topics, metadata_ready
from engine.enrich.screening import WatchlistSource
from engine.errors import ConfigError
from engine.feedback.hop import YIELD_KEY, FeedbackHop, read_latest
from engine.feedback.learner import Learner
from engine.flow.hops import (
    DecideHop,
    NormaliseHop,
    anomaly_store,
    booking_store,
    open_alert_mode,
    open_alert_store,
    state_changelogs,
    track_store,
)
from engine.flow.loop import BatchLoop, OutRecord
from engine.flow.reload import ConfigWatch
from engine.link.features import NetworkHop, network_store
from engine.link.hop import LinkHop, link_store
from engine.logs import get_logger
from engine.metrics import BROKER_UP, LOOP_FAILURES
from engine.normalise.stage import mode_of_topic
from engine.score.bank import ModelBank, unseal
from engine.settings import MODES, SINGLE_PARTITION, Settings

log = get_logger(__name__)

#: A batch read from a followed topic: (key, value) pairs.
Records = list[tuple[bytes | None, bytes | None]]


def _of_mode(mode: str, key: str) -> bool:
    return open_alert_mode(key) == mode


async def ensure_app_topics(settings: Settings) -> list[str]:
    """Create what a worker of this app needs and is missing: every topic and the
    changelogs of its state, with the configured partitions. Returns the names created."""
    single = {settings.topics.name(b) for b in SINGLE_PARTITION}
    bootstrap, rf = settings.kafka.bootstrap_servers, settings.topics.replication_factor
    created = await ensure_topics(bootstrap, sorted(single), 1, rf)
    return created + await ensure_topics(
        bootstrap,
        [n for n in [*settings.topics.all_names(), *state_changelogs(settings)] if n not in single],
        settings.topics.partitions, rf,
    )


class HotPath:
    """Everything a worker runs on the hot path; start() and stop() bracket its life."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        name = settings.topics.name
        self.vessel_topic = name("events.vessel")
        self.passenger_topic = name("events.passenger")
        self.links_topic = name("links")
        self.producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka.bootstrap_servers,
            client_id=f"{settings.worker.app_id}-producer",
            linger_ms=settings.worker.linger_ms,
            max_batch_size=512 * 1024,
            max_request_size=4_000_000,
            acks="all",
        )
        self.tracks = track_store(settings)
        self.bookings = booking_store(settings)
        self.watchlists = WatchlistSource(settings.screening.watchlists, settings.screening.threshold)
        if not self.watchlists.empty:
            log.info("watchlist.loaded", entities=len(self.watchlists.screener),
                     versions=self.watchlists.describe())
        self.links = link_store(settings)
        self.graphs = network_store(settings)
        self.anomaly = anomaly_store(settings)
        self.open_alerts = open_alert_store(settings)
        self.decide = DecideHop(settings, self.tracks, self.bookings, self.watchlists, self.anomaly,
                                self.open_alerts)
        self.link = LinkHop(settings, self.links)
        self.network = NetworkHop(settings, self.graphs)
        self.config = ConfigWatch(settings)
        self.feedback: FeedbackHop | None = None
        if settings.models.enabled and "feedback" in settings.worker.hops:
            self.feedback = FeedbackHop(settings, Learner(ModelBank(settings.models)))
        group = settings.worker.app_id
        loops = [
            BatchLoop(
                "normalise", settings, [name(f"raw.{m}") for m in MODES],
                f"{group}-normalise", NormaliseHop(settings), self.producer,
            ),
            BatchLoop(
                "decide", settings, [name(f"events.{m}") for m in MODES],
                f"{group}-decide", self.decide, self.producer,
                on_assigned=self._restore, on_revoked=self._drop,
            ),
            BatchLoop(
                "link", settings, [self.links_topic], f"{group}-link", self.link,
                self.producer, on_assigned=self._restore_links, on_revoked=self._drop_links,
                batch_size=settings.worker.link_batch_size,
            ),
            BatchLoop(
                "network", settings, [name("network")], f"{group}-network", self.network,
                self.producer, on_assigned=self._restore_graphs, on_revoked=self._drop_graphs,
                batch_size=settings.worker.link_batch_size,
            ),
        ]
        if self.feedback is not None:
            loops.append(BatchLoop(
                "feedback", settings, [name("outcomes")], f"{group}-feedback", self.feedback, self.producer,
                on_assigned=self._restore_learner,
            ))
        self.loops = [loop for loop in loops if loop.name in settings.worker.hops]
        self.stopping = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []

    def _modes(self, tps: list[TopicPartition]) -> list[tuple[int, str]]:
        out = []
        for tp in tps:
            mode = mode_of_topic(tp.topic.removeprefix(self.settings.topics.prefix), "events")
            if mode is not None:
                out.append((tp.partition, mode))
        return out

    async def _restore(self, assigned: list[TopicPartition], owned: Callable[[], bool]) -> None:
        await self.tracks.restore([tp.partition for tp in assigned if tp.topic == self.vessel_topic], owned)
        await self.bookings.restore(
            [tp.partition for tp in assigned if tp.topic == self.passenger_topic], owned
        )
        # These two keep every mode's state of a partition number in one changelog
        # partition, and a worker may hold that number for one mode and gain it for
        # another: read it again, since another worker may have written it since.
        keys = self._modes(assigned)
        numbers = sorted({p for p, _ in keys})
        for store in (self.anomaly, self.open_alerts):
            store.drop(numbers)
            await store.restore(numbers, owned)
        if owned():
            self.decide.models_restored(keys)

    async def _restore_learner(self, assigned: list[TopicPartition], owned: Callable[[], bool]) -> None:
        """The learner carries on from the newest state on ``models``."""
        assert self.feedback is not None
        saved = await read_latest(self.settings.kafka.bootstrap_servers, self.settings.topics.name("models"),
                                  YIELD_KEY)
        if saved is not None and owned():
            try:
                self.feedback.learner.load(saved)
                log.info("feedback.restored", learned=len(self.feedback.learner.learned))
            except ConfigError as exc:
                log.error("feedback.restore_refused", detail=str(exc))

    async def _produce_now(self, records: list[OutRecord], within_s: float = 5.0) -> None:
        """Produce records outside a batch and wait for them, for at most ``within_s``
        (TimeoutError after): a broker that is gone must not hold a stop or a rebalance."""
        async def send() -> None:
            for r in records:
                await self.producer.send_and_wait(r.topic, r.value, key=r.key, partition=r.partition,
                                                  headers=list(r.headers) or None)

        await asyncio.wait_for(send(), within_s)

    async def _restore_links(self, assigned: list[TopicPartition], owned: Callable[[], bool]) -> None:
        await self.links.restore([tp.partition for tp in assigned], owned)

    async def _drop_links(self, revoked: list[TopicPartition]) -> None:
        self.links.drop([tp.partition for tp in revoked])

    async def _restore_graphs(self, assigned: list[TopicPartition], owned: Callable[[], bool]) -> None:
        await self.graphs.restore([tp.partition for tp in assigned], owned)

    async def _drop_graphs(self, revoked: list[TopicPartition]) -> None:
        self.graphs.drop([tp.partition for tp in revoked])

    async def _drop(self, revoked: list[TopicPartition]) -> None:
        self.tracks.drop([tp.partition for tp in revoked if tp.topic == self.vessel_topic])
        self.bookings.drop([tp.partition for tp in revoked if tp.topic == self.passenger_topic])
        # Nothing is produced here, inside the rebalance: a revoked partition's anomaly
        # models go back to their last checkpoint (some learning lost, no data), and the
        # rebalance is not held up by large records.
        keys = self._modes(revoked)
        self.decide.models_forgotten(keys)
        # A mode's open alerts go with its partition (their expiry must not delete what
        # the new owner writes); the other modes' of that number stay.
        for number, mode in keys:
            self.open_alerts.drop_keys(number, partial(_of_mode, mode))

    async def start(self) -> None:
        """Start the producer, then each loop as a task, and the broker watch."""
        await self.producer.start()
        self.tasks = [asyncio.create_task(self._guard(loop)) for loop in self.loops]
        self.tasks.append(asyncio.create_task(self._watch_broker()))
        if self.config.path is not None:
            self.tasks.append(asyncio.create_task(self._watch_config()))
        if "decide" in self.settings.worker.hops:  # the only hop that screens and scores
            self.tasks.append(asyncio.create_task(self._follow("watchlists", self._take_watchlists, 50_000)))
            if self.decide.scorer.models is not None:
                self.tasks.append(asyncio.create_task(self._follow("models", self._take_models)))
        if self.feedback is not None and "feedback" in self.settings.worker.hops:
            self.tasks.append(asyncio.create_task(self._follow("alerts", self._take_alerts)))

    async def _take_models(self, records: Records) -> None:
        """The newest yield models from ``models``: the decide hop scores with them from its next batch."""
        newest = [v for k, v in records if k == YIELD_KEY and v is not None]
        if newest and self.decide.scorer.models is not None:
            try:
                self.decide.scorer.models.apply(unseal(newest[-1], self.settings.models)["bank"])
            except ConfigError as exc:
                log.error("models.refused", detail=str(exc))

    async def _take_alerts(self, records: Records) -> None:
        """Alerts for the learner; when one completes a waiting outcome, its state goes out."""
        assert self.feedback is not None
        if self.feedback.alerts([v for _, v in records if v is not None]):
            await self._produce_now([self.feedback.state_record()])

    async def _follow(self, base: str, take: Callable[[Records], Awaitable[None]], most: int = 5_000) -> None:
        """Read a topic from its start, and keep reading, handing each batch (of at most
        ``most`` records) to ``take``. Every worker reads all of it: no consumer group."""
        topic = self.settings.topics.name(base)
        while not self.stopping.is_set():
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self.settings.kafka.bootstrap_servers,
                enable_auto_commit=False, auto_offset_reset="earliest", fetch_max_wait_ms=200,
                max_partition_fetch_bytes=8 * 1024 * 1024,
            )
            try:
                await consumer.start()
                await assign_all(consumer, [topic])
                while not self.stopping.is_set():
                    batch = await consumer.getmany(timeout_ms=500, max_records=most)
                    records = [(r.key, r.value) for rs in batch.values() for r in rs]
                    if records:
                        await take(records)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the broker went away: try again shortly
                log.warning("follow.failed", topic=base, error=type(exc).__name__)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), 2.0)
            finally:
                with contextlib.suppress(Exception):
                    await consumer.stop()

    async def _take_watchlists(self, records: Records) -> None:
        """Watchlist entries: each change builds a new screener (in a thread, so batches go
        on meanwhile) that the decide hop takes from its next batch."""
        loop = asyncio.get_running_loop()
        changed: bool = await loop.run_in_executor(None, self.watchlists.apply, records)
        if changed:
            log.info("watchlist.updated", entities=len(self.watchlists.screener),
                     versions=self.watchlists.describe())

    async def _watch_config(self, every_s: float = 2.0) -> None:
        """Take a changed settings file's rules, typologies and scoring (engine/flow/reload.py)."""
        while not self.stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), every_s)
            hops = (self.decide, self.link, self.network)
            try:
                fresh, fixed = self.config.check()
                if fresh is None:
                    continue
                try:
                    for hop in hops:
                        hop.reconfigure(fresh)
                except ConfigError:
                    for hop in hops:  # all or nothing: back to what ran
                        hop.reconfigure(self.config.current)
                    raise
                self.config.taken(fresh)
                log.warning("config.reloaded", path=str(self.config.path), needs_restart=",".join(fixed))
            except ConfigError as exc:
                log.error("config.refused", detail=str(exc)[:500])

    async def _watch_broker(self, every_s: float = 2.0) -> None:
        # The Kafka clients retry quietly while the cluster is away; this makes an
        # outage and the recovery visible: a gauge and one log event per change.
        up = True
        BROKER_UP.set(1)
        while not self.stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), every_s)
            if self.stopping.is_set():
                break
            now_up = await metadata_ready(self.settings.kafka.bootstrap_servers, timeout_s=every_s)
            BROKER_UP.set(1 if now_up else 0)
            if now_up != up:
                if now_up:
                    log.warning("broker.reachable", bootstrap=self.settings.kafka.bootstrap_servers)
                    # A broker that lost its topics (the embedded one keeps nothing)
                    # gets them back with the right partition counts before a
                    # producer's request auto-creates them with the broker's default.
                    with contextlib.suppress(Exception):
                        await ensure_app_topics(self.settings)
                else:
                    log.error("broker.unreachable", bootstrap=self.settings.kafka.bootstrap_servers)
                up = now_up

    async def _guard(self, loop: BatchLoop) -> None:
        # A loop that fails (broker gone, say) is restarted after a pause, so the
        # worker rides out a broker restart instead of dying with it. A broker
        # that came back empty (the embedded one keeps nothing) gets its topics back.
        failures = 0
        while not self.stopping.is_set():
            try:
                if failures:
                    await ensure_app_topics(self.settings)
                await loop.run(self.stopping)
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # reported, counted, then retried
                failures += 1
                LOOP_FAILURES.labels(loop=loop.name, error=type(exc).__name__).inc()
                log.error("loop.failed", loop=loop.name, error=type(exc).__name__,
                          detail=str(exc)[:200], attempt=failures)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), min(10.0, 1.0 * failures))

    async def stop(self) -> None:
        """Let each loop finish its batch and commit, then stop the producer."""
        self.stopping.set()
        if self.tasks:
            _, pending = await asyncio.wait(self.tasks, timeout=8)
            for t in pending:
                t.cancel()
            await asyncio.gather(*self.tasks, return_exceptions=True)
        models = self.decide.scorer.models
        if models is not None and models.anomaly:  # a clean stop keeps every bit learned
            with contextlib.suppress(Exception):
                await self._produce_now(self.decide.models_released(sorted(models.anomaly)))
        await self.producer.stop()
