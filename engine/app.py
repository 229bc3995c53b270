"""The Faust app: thin agents around the stage functions, one agent per hop.

Each agent takes a batch of raw Kafka messages (Faust never deserialises our
values, so a bad one cannot crash it), calls the same stage function that
``replay`` calls, sends the results, waits until the broker has them, and only
then lets Faust acknowledge the batch. That is at-least-once delivery; ids are
deterministic and state updates idempotent, so a redelivered batch changes nothing
downstream but duplicates that carry the same ids.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime
from typing import Any

import faust
from faust.types import EventT

from engine.alert import build_alerts
from engine.enrich import ReferenceData, enrich_batch, parse_events
from engine.keys import entity_key
from engine.logs import get_logger
from engine.messages import RawMessage, dead_letter, describe_validation_error
from engine.metrics import ALERTS, DEADLETTERS, SCORE_LATENCY, STAGE_DURATION, STAGE_EVENTS_IN, STAGE_EVENTS_OUT
from engine.normalise import normalise_batch
from engine.score.stage import Scorer
from engine.score.track import TrackState
from engine.settings import MODES, Settings
from schemas import Alert, DeadLetter, EnrichedEvent, Record, Score

log = get_logger(__name__)


def faust_broker_url(bootstrap: str) -> str:
    """``h1:9092,h2:9092`` -> Faust's ``kafka://h1:9092;kafka://h2:9092``."""
    return ";".join(f"kafka://{h.strip()}" for h in bootstrap.split(",") if h.strip())


def raw_message(event: EventT[Any]) -> RawMessage:
    """The stage-level view of a Faust event: bytes plus where they came from."""
    msg = event.message
    value = msg.value if isinstance(msg.value, bytes) else bytes(msg.value or b"")
    key = msg.key if isinstance(msg.key, bytes) or msg.key is None else bytes(msg.key)
    return RawMessage(
        value=value,
        key=key,
        topic=msg.topic,
        partition=msg.partition,
        offset=msg.offset,
        timestamp_ms=int(msg.timestamp * 1000) if msg.timestamp else None,
    )


class Outbox:
    """Sends a batch's output and waits for the broker to have all of it."""

    def __init__(self, app: faust.App, settings: Settings) -> None:
        self.app = app
        self.topics = settings.topics
        self.pending: list[Awaitable[Any]] = []

    async def put(self, base: str, key: str, record: Record) -> None:
        """Queue one record for ``base`` topic (prefix applied), keyed by ``key``."""
        fut = await self.app.producer.send(
            self.topics.name(base), key.encode("utf-8"), record.model_dump_json().encode("utf-8"),
            None, None, None,
        )
        self.pending.append(fut)

    async def dead(self, letters: Sequence[DeadLetter]) -> None:
        """Queue dead letters, keyed by their source key hash, and count them."""
        for d in letters:
            DEADLETTERS.labels(stage=d.stage, reason=d.reason).inc()
            await self.put("deadletter", d.payload_sha256, d)

    async def flush(self) -> None:
        """Wait until every queued record is acknowledged by the broker."""
        pending, self.pending = self.pending, []
        if pending:
            await asyncio.gather(*pending)


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


def create_app(settings: Settings) -> faust.App:
    """Build the Faust app with the normalise, enrich and score agents."""
    w = settings.worker
    topics = settings.topics
    app = faust_app(settings)
    reference = ReferenceData(settings.reference)
    scorer = Scorer(settings)
    titles = {a.spec.id: a.spec.title for rules in scorer.by_mode.values() for a in rules}
    tracks = app.Table("vessel-tracks", default=None, partitions=topics.partitions)

    raw_topics = app.topic(*[topics.name(f"raw.{m}") for m in MODES])
    event_topics = app.topic(*[topics.name(f"events.{m}") for m in MODES])
    enriched_topic = app.topic(topics.name("events.enriched"))

    @app.agent(raw_topics, name="normalise")
    async def normalise_agent(stream: Any) -> None:
        async for events in stream.take_events(w.batch_size, within=w.batch_within_s):
            started = time.perf_counter()
            raws = [raw_message(e) for e in events]
            result = normalise_batch(raws, w.max_message_bytes)
            out = Outbox(app, settings)
            for ev in result.events:
                await out.put(f"events.{ev.mode}", entity_key(ev), ev)
                STAGE_EVENTS_OUT.labels(stage="normalise", mode=ev.mode).inc()
            await out.dead(result.deadletters)
            await out.flush()
            _count_in("normalise", raws)
            STAGE_DURATION.labels(stage="normalise").observe(time.perf_counter() - started)

    @app.agent(event_topics, name="enrich")
    async def enrich_agent(stream: Any) -> None:
        async for events in stream.take_events(w.batch_size, within=w.batch_within_s):
            started = time.perf_counter()
            raws = [raw_message(e) for e in events]
            parsed, dead = parse_events(raws)
            out = Outbox(app, settings)
            for enriched in enrich_batch(parsed, reference):
                await out.put("events.enriched", enriched.key, enriched)
                STAGE_EVENTS_OUT.labels(stage="enrich", mode=enriched.event.mode).inc()
            await out.dead(dead)
            await out.flush()
            _count_in("enrich", raws)
            STAGE_DURATION.labels(stage="enrich").observe(time.perf_counter() - started)

    @app.agent(enriched_topic, name="score")
    async def score_agent(stream: Any) -> None:
        async for events in stream.take_events(w.batch_size, within=w.batch_within_s):
            started = time.perf_counter()
            out = Outbox(app, settings)
            batch: list[EnrichedEvent] = []
            source: dict[str, EventT[Any]] = {}
            dead: list[DeadLetter] = []
            for e in events:
                raw = raw_message(e)
                try:
                    enriched = EnrichedEvent.model_validate_json(raw.value)
                except ValueError as exc:
                    dead.append(dead_letter(raw, "score", "invalid_schema", describe_validation_error(exc)))
                    continue
                batch.append(enriched)
                source[enriched.key] = e
            known = {k: _load_track(tracks.get(k)) for k in source if k.startswith("mmsi:")}
            result = scorer.score_batch(batch, {k: v for k, v in known.items() if v is not None})
            for key, state in result.track_updates.items():
                # Faust writes a table's changelog to the partition of the event being
                # processed; in a batch we name that event ourselves.
                stream._set_current_event(source[key])  # noqa: SLF001
                tracks[key] = state.model_dump_json().encode("utf-8")
            stream._set_current_event(None)  # noqa: SLF001
            alerts = build_alerts(result.scores, titles)
            await _publish_decisions(out, result.scores, alerts)
            await out.dead(dead)
            await out.flush()
            _count_in("score", batch)
            STAGE_DURATION.labels(stage="score").observe(time.perf_counter() - started)

    return app


async def _publish_decisions(out: Outbox, scores: Sequence[Score], alerts: Sequence[Alert]) -> None:
    now = datetime.now(tz=UTC)
    for s in scores:
        await out.put("scores", s.event_id, s)
        STAGE_EVENTS_OUT.labels(stage="score", mode=s.mode).inc()
        SCORE_LATENCY.labels(mode=s.mode).observe(max(0.0, (now - s.received_at).total_seconds()))
    for a in alerts:
        await out.put("alerts", a.alert_id, a)
        for f in a.findings:
            ALERTS.labels(rule=f.rule_id, severity=a.severity).inc()
        log.info("alert.emitted", alert_id=a.alert_id, event_id=a.event_id, mode=a.mode,
                 severity=a.severity, rules=",".join(f.rule_id for f in a.findings))


def _load_track(value: bytes | None) -> TrackState | None:
    if value is None:
        return None
    return TrackState.model_validate_json(value)


def _count_in(stage: str, items: Sequence[Any]) -> None:
    for item in items:
        mode = getattr(getattr(item, "event", None), "mode", None) or _mode_of(getattr(item, "topic", None))
        STAGE_EVENTS_IN.labels(stage=stage, mode=mode).inc()


def _mode_of(topic: str | None) -> str:
    if topic:
        for m in MODES:
            if topic.endswith(m):
                return m
    return "unknown"
