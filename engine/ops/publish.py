"""What the ops centre sends to Kafka: recorded outcomes to ``outcomes`` (for learning),
and the audit chain, in order, to ``audit`` (its copy outside the database)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import select

from engine.logs import get_logger
from engine.metrics import OPS_OUTCOMES_PUBLISHED
from engine.ops.centre import OpsCentre
from engine.ops.store import OutcomeRow
from engine.oversight.audit import last_seq_on_topic, records_after
from schemas import AuditRecord, Outcome
from schemas.outcome import Seizure

log = get_logger(__name__)


async def publish_outcome(ops: OpsCentre, outcome: Outcome) -> None:
    """Send an outcome to the ``outcomes`` topic (key: alert id) and mark it published;
    when Kafka is away it stays unpublished and the publish loop retries it."""
    if ops.producer is None:
        return
    try:
        await asyncio.wait_for(
            ops.producer.send_and_wait(
                ops.settings.topics.name("outcomes"),
                outcome.model_dump_json().encode(),
                key=outcome.alert_id.encode(),
            ),
            timeout=5.0,
        )
    except Exception as exc:
        log.warning("ops.outcome.unpublished", error=type(exc).__name__)
        return
    OPS_OUTCOMES_PUBLISHED.labels(result=outcome.result).inc()

    def mark() -> None:
        with ops.store.session() as s:
            row = s.get(OutcomeRow, outcome.alert_id)
            if row is not None:
                row.published_at = datetime.now(UTC)

    await asyncio.to_thread(mark)


async def publish_loop(ops: OpsCentre) -> None:
    """Keep the producer up and the audit topic a copy of the store's chain: first what it
    lacks (records not sent when the app last stopped), then new records as they are
    written, in seq order; retry unpublished outcomes when idle."""
    assert ops.producer is not None and ops.audit_queue is not None
    while True:
        try:
            await ops.producer.start()
            last = await last_seq_on_topic(ops.settings)
            break
        except Exception:
            await asyncio.sleep(1.0)
    try:
        while True:
            # The store is the order: threads may queue records out of it, so a queued
            # record only says there is something new to send.
            for record in await asyncio.to_thread(records_after, ops.store, last):
                await _send_audit(ops, record)
                last = record.seq
            try:
                await asyncio.wait_for(ops.audit_queue.get(), timeout=5.0)
            except TimeoutError:
                await _republish(ops)
                continue
            while not ops.audit_queue.empty():
                ops.audit_queue.get_nowait()
    finally:
        await ops.producer.stop()


async def _send_audit(ops: OpsCentre, record: AuditRecord) -> None:
    """One audit record to the topic; retried until it is there, so the next waits."""
    assert ops.producer is not None
    while True:
        try:
            await ops.producer.send_and_wait(
                ops.settings.topics.name("audit"),
                record.model_dump_json().encode(),
                key=record.actor.encode(),
            )
            return
        except Exception as exc:
            log.warning("ops.audit.unpublished", error=type(exc).__name__, seq=record.seq)
            await asyncio.sleep(1.0)


async def _republish(ops: OpsCentre) -> None:
    def pending() -> list[Outcome]:
        with ops.store.session() as s:
            rows = s.scalars(select(OutcomeRow).where(OutcomeRow.published_at.is_(None)).limit(100))
            return [
                Outcome(
                    alert_id=r.alert_id,
                    result=r.result,  # type: ignore[arg-type]
                    recorded_at=r.recorded_at,
                    recorded_by=r.recorded_by,
                    seizures=tuple(Seizure(**x) for x in r.seizures),
                    notes=r.notes,
                )
                for r in rows
            ]

    for outcome in await asyncio.to_thread(pending):
        await publish_outcome(ops, outcome)
