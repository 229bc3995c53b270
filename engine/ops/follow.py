"""From Kafka into the ops centre's store: alerts (with their cases), links, and traffic
counts for fairness oversight.

What is read and where reading got to are written in one transaction, with the offsets
in the store (``feed_offsets``), so a restart resumes exactly: no alert is lost, none is
stored twice, and no traveller is counted twice. A record that does not parse is
counted and skipped here: the engine's own stages dead-letter bad input upstream, and
the ops centre must not stop on one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.logs import get_logger
from engine.metrics import OPS_ALERT_DELAY, OPS_ALERTS_STORED
from engine.ops.store import (
    AlertRow,
    CaseRow,
    FeedOffsetRow,
    LinkRow,
    Store,
    TrafficRow,
    note_case,
    utcnow,
)
from engine.oversight.fairness import UNKNOWN, groups_of
from engine.settings import Settings
from schemas import Alert, FreightEvent, Link, PassengerEvent

log = get_logger(__name__)

#: The topics the store follows, by their base name.
FOLLOWED = ("alerts", "links", "events.passenger")


def port_of(alert: Alert) -> str | None:
    """Where the alert's subject arrives: the flight's airport, the goods' place of entry,
    the ship's reported destination."""
    event = alert.event
    if isinstance(event, PassengerEvent):
        return event.flight.arrival_airport
    if isinstance(event, FreightEvent):
        return event.expected_arrival.place
    if event is not None and event.destination:
        return event.destination.strip()[:10] or None
    return None


def alert_row(alert: Alert, raw: dict[str, Any]) -> AlertRow:
    """The store's row of an alert: the fields the feed filters and sorts on, the groups
    fairness oversight counts, and the whole record."""
    groups = groups_of(alert.event) if isinstance(alert.event, PassengerEvent) else {}
    groups = {k: v for k, v in groups.items() if v != UNKNOWN}  # unknown is stored as none
    return AlertRow(
        alert_id=alert.alert_id,
        case_id=alert.case_id or alert.alert_id,
        event_id=alert.event_id,
        mode=alert.mode,
        severity=alert.severity,
        score=alert.score,
        priority=alert.priority,
        typology=alert.typology.typology_id if alert.typology else None,
        port=port_of(alert),
        raised_at=alert.raised_at,
        arrives_at=alert.arrives_at,
        status="new",
        rules=sorted({f.rule_id for f in alert.findings}),
        models=sorted(m.model_id for m in alert.model_scores if m.role == "champion" and m.score >= 0.5),
        nationality=groups.get("nationality"),
        sex=groups.get("sex"),
        age_band=groups.get("age_band"),
        body=raw,
    )


@dataclass
class Taken:
    """What one batch put in the store."""

    alerts: list[int] = field(default_factory=list)  # seqs of new alerts
    links: int = 0
    travellers: int = 0
    unreadable: int = 0


def store_batch(session: Session, settings: Settings, records: Sequence[ConsumerRecord[Any, Any]]) -> Taken:
    """Write one batch of records and the offsets after them, in the caller's transaction.
    Records before the stored offset of their partition were taken already and are skipped,
    so a batch given twice changes nothing the second time."""
    names = {settings.topics.name(base): base for base in FOLLOWED}
    done = {(o.topic, o.partition): o.next_offset for o in session.scalars(select(FeedOffsetRow))}
    taken = Taken()
    traffic: dict[tuple[date, str, str, str], int] = {}
    new_alerts: list[tuple[Alert, AlertRow]] = []
    ends: dict[tuple[str, int], int] = {}
    for r in records:
        if r.offset < done.get((r.topic, r.partition), 0):
            continue
        ends[(r.topic, r.partition)] = max(ends.get((r.topic, r.partition), 0), r.offset + 1)
        base = names.get(r.topic)
        try:
            raw = orjson.loads(r.value or b"")
            if base == "alerts":
                alert = Alert.model_validate(raw)
                if session.scalar(select(AlertRow.seq).where(AlertRow.alert_id == alert.alert_id)) is None:
                    new_alerts.append((alert, alert_row(alert, raw)))
            elif base == "links" and raw.get("type") is None:  # notes share the topic
                taken.links += _store_link(session, Link.model_validate(raw))
            elif base == "events.passenger":
                event = PassengerEvent.model_validate(raw)
                day = event.flight.scheduled_arrival.astimezone(UTC).date()
                for dimension, group in groups_of(event).items():
                    k = (day, "passenger", dimension, group)
                    traffic[k] = traffic.get(k, 0) + 1
                taken.travellers += 1
        except (orjson.JSONDecodeError, ValidationError, TypeError, AttributeError):
            taken.unreadable += 1
    seen: set[str] = set()
    for alert, row in new_alerts:
        if alert.alert_id in seen:
            continue
        seen.add(alert.alert_id)
        _open_case(session, alert, row)
        session.add(row)
        session.flush()
        taken.alerts.append(row.seq)
        OPS_ALERTS_STORED.labels(mode=row.mode, severity=row.severity).inc()
        OPS_ALERT_DELAY.observe(max(0.0, (utcnow() - alert.raised_at).total_seconds()))
    for (day, mode, dimension, group), n in traffic.items():
        row_t = session.get(TrafficRow, (day, mode, dimension, group))
        if row_t is None:
            session.add(TrafficRow(day=day, mode=mode, dimension=dimension, group=group, count=n))
        else:
            row_t.count += n
    for (topic, partition), end in ends.items():
        offset = session.get(FeedOffsetRow, (topic, partition))
        if offset is None:
            session.add(FeedOffsetRow(topic=topic, partition=partition, next_offset=end))
        else:
            offset.next_offset = max(offset.next_offset, end)
    return taken


def _open_case(session: Session, alert: Alert, row: AlertRow) -> None:
    case = session.get(CaseRow, row.case_id)
    now = utcnow()
    if case is None:
        session.add(
            CaseRow(
                case_id=row.case_id,
                subject=alert.subject,
                status="new",
                priority=row.priority,
                opened_at=now,
                updated_at=now,
            )
        )
        session.flush()
        note_case(session, row.case_id, "opened", f"{alert.mode} alert, {alert.severity}", at=now)
    else:
        case.priority = max(case.priority, row.priority)
        case.updated_at = now
        if case.status == "closed":
            case.status = "new"
        row.status = case.status
        note_case(session, row.case_id, "alert_added", f"{alert.mode} alert, {alert.severity}", at=now)


def _store_link(session: Session, link: Link) -> int:
    member = link.member
    exists = session.scalar(
        select(LinkRow.id).where(
            LinkRow.identifier == link.identifier,
            LinkRow.event_id == member.event_id,
            LinkRow.holder == member.holder,
        )
    )
    if exists is not None:
        return 0
    session.add(
        LinkRow(
            identifier=link.identifier,
            event_id=member.event_id,
            kind=link.kind,
            mode=member.mode,
            role=member.role,
            holder=member.holder,
            occurred_at=member.occurred_at,
        )
    )
    return 1


class StoreFollower:
    """Follows the topics into the store until stopped; calls ``on_alerts`` with the seqs of
    new alerts after each commit, so live feeds can push them."""

    def __init__(self, settings: Settings, store: Store, on_alerts: Callable[[list[int]], None]) -> None:
        self.settings, self.store, self.on_alerts = settings, store, on_alerts
        self.consumer: AIOKafkaConsumer | None = None
        self.stored = 0

    def _offsets(self) -> dict[tuple[str, int], int]:
        with self.store.session() as s:
            return {(o.topic, o.partition): o.next_offset for o in s.scalars(select(FeedOffsetRow))}

    def _write(self, records: list[ConsumerRecord[Any, Any]]) -> Taken:
        with self.store.session() as s:
            return store_batch(s, self.settings, records)

    async def run(self) -> None:
        """Read and store until cancelled; reconnect when the broker goes away."""
        while True:
            try:
                await self._follow()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the broker went away or a topic is missing: retry
                log.warning("ops.follow.retry", error=type(exc).__name__, detail=str(exc)[:200])
                await asyncio.sleep(1.0)

    async def _follow(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka.bootstrap_servers,
            group_id=self.settings.ops.consumer_group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        self.consumer = consumer
        try:
            await consumer.topics()
            names = [self.settings.topics.name(b) for b in FOLLOWED]
            tps = [
                TopicPartition(n, p) for n in names for p in sorted(consumer.partitions_for_topic(n) or ())
            ]
            if not tps:
                raise RuntimeError("the followed topics do not exist yet")
            consumer.assign(tps)
            known = await asyncio.to_thread(self._offsets)
            for tp in tps:
                if (tp.topic, tp.partition) in known:
                    consumer.seek(tp, known[(tp.topic, tp.partition)])
                else:
                    await consumer.seek_to_beginning(tp)
            while True:
                batch = await consumer.getmany(timeout_ms=200, max_records=2000)
                records = [r for rs in batch.values() for r in rs]
                if not records:
                    continue
                taken = await asyncio.to_thread(self._write, records)
                self.stored += len(taken.alerts)
                if taken.unreadable:
                    log.warning("ops.follow.unreadable", count=taken.unreadable)
                if taken.alerts:
                    self.on_alerts(taken.alerts)
        finally:
            self.consumer = None
            await consumer.stop()
