"""The audit topic on a real broker: the copy published there reads back whole, and
`gatehound audit verify --topic` agrees with the store, or names where they part."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer
from aiokafka import AIOKafkaProducer
from sqlalchemy import select, text
from typer.testing import CliRunner

from engine.ops.store import AuditHeadRow, AuditRow, Store
from engine.oversight.audit import AuditLog, read_audit_topic, record_hash, verify
from engine.oversight.cli import audit_app
from engine.settings import Settings
from schemas.audit import AuditRecord
from tests.conftest import fresh_settings

pytestmark = pytest.mark.integration

KEY = "topic-test-key"
T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


async def publish(settings: Settings, records: Sequence[AuditRecord]) -> None:
    """Send records to the audit topic as the ops centre does: key = actor, value = the record's JSON."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers)
    await producer.start()
    try:
        for r in records:
            await producer.send_and_wait(settings.topics.name("audit"), r.model_dump_json().encode(),
                                         key=r.actor.encode())
    finally:
        await producer.stop()


def written(tmp_path: Path, n: int = 12) -> tuple[Store, list[AuditRecord]]:
    """A SQLite store holding a chain of n synthetic records, and the records its log handed to publish."""
    store = Store(f"sqlite:///{tmp_path}/ops.db")
    sent: list[AuditRecord] = []
    log = AuditLog(store, KEY.encode(), checkpoint_every=5, publish=sent.append)
    for i in range(n):
        log.append(f"u-{i % 4}", "officer", "reveal", [f"alert-{i}", f"case-{i}"], purpose="checking",
                   at=T0 + timedelta(minutes=i))
    return store, sent


def run_verify(settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch) -> tuple[int, list[str]]:
    """`gatehound audit verify --topic` against this store and broker: exit code and output lines."""
    monkeypatch.setenv("GATEHOUND_OPS__AUDIT_KEY", KEY)
    app = typer.Typer()
    app.add_typer(audit_app, name="audit")
    result = CliRunner().invoke(app, [
        "audit", "verify", "--topic", "--database", store.url,
        "--bootstrap", settings.kafka.bootstrap_servers, "--topic-prefix", settings.topics.prefix,
    ])
    return result.exit_code, result.output.splitlines()


def test_the_published_copy_reads_back_whole(kafka_bootstrap: str, tmp_path: Path) -> None:
    """Records published over the topic's partitions, one of them twice, read back once each, by seq."""
    settings = fresh_settings(kafka_bootstrap)
    store, sent = written(tmp_path)
    asyncio.run(publish(settings, [*sent, sent[3]]))
    copy = asyncio.run(read_audit_topic(settings))
    assert copy == sent
    assert verify(copy).ok
    store.close()


def test_verify_topic_agrees_with_the_store_then_pinpoints_a_rewrite(
    kafka_bootstrap: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI finds store and topic in agreement; after record 7 is edited and every later hash
    recomputed in the store, it names record 7 as the first that differs from the topic."""
    settings = fresh_settings(kafka_bootstrap)
    store, sent = written(tmp_path)
    asyncio.run(publish(settings, sent))
    code, lines = run_verify(settings, store, monkeypatch)
    assert code == 0 and lines[-1].endswith("the audit topic's copy (12 records) agrees"), lines

    with store.session() as s:
        prev = s.scalars(select(AuditRow.hash).where(AuditRow.seq == 6)).one()
        for row in s.scalars(select(AuditRow).where(AuditRow.seq >= 7).order_by(AuditRow.seq)):
            if row.seq == 7:
                row.purpose = "curiosity"
            fields = {c: getattr(row, c) for c in ("seq", "at", "actor", "role", "action", "allowed",
                                                   "record_ids", "purpose", "recipient")}
            row.prev_hash, row.hash = prev, record_hash(prev, fields)
            prev = row.hash
        s.execute(text("UPDATE audit_head SET hash = :h"), {"h": prev})
        assert s.scalars(select(AuditHeadRow.hash)).one() == prev
    code, lines = run_verify(settings, store, monkeypatch)
    assert code == 1
    assert lines[0].startswith("records 5 to 9 were altered and the chain re-hashed")
    assert "records 7 to 11 are different in the database and on the audit topic" in lines
    store.close()
