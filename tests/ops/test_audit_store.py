"""The audit log in the store, on SQLite and PostgreSQL: appends chain and checkpoint,
concurrent appends stay one chain, and hand-made changes are pinpointed, also by the CLI."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import typer
from sqlalchemy import select, text
from typer.testing import CliRunner

from engine.metrics import AUDIT_CHAIN_OK, AUDIT_RECORDS
from engine.ops.store import AuditCheckpointRow, AuditRow, Store
from engine.oversight.audit import GENESIS, AuditAction, AuditLog, record_hash, verify_store
from engine.oversight.cli import audit_app
from schemas.audit import AuditRecord

KEY = b"store-test-key"
T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A migrated, empty store on each database."""
    s = Store(store_url)
    yield s
    s.close()


def fill(log: AuditLog, n: int) -> list[AuditRecord]:
    """n synthetic reveals, one a minute."""
    return [
        log.append(
            f"u-{i % 3}",
            "officer",
            AuditAction.REVEAL,
            [f"alert-{i}", f"case-{i}"],
            purpose="checking the booking",
            at=T0 + timedelta(minutes=i),
        )
        for i in range(n)
    ]


def test_appends_make_a_chain_with_signed_checkpoints(store: Store) -> None:
    """Each append links to the one before, checkpoints come every N records, and each record is published."""
    published: list[AuditRecord] = []
    log = AuditLog(store, KEY, checkpoint_every=5, publish=published.append)
    written = fill(log, 12)
    assert [r.seq for r in written] == list(range(12)) and published == written
    assert written[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(written, written[1:], strict=False))
    assert all(record_hash(r.prev_hash, r) == r.hash for r in written)
    with store.session() as s:
        assert list(s.scalars(select(AuditCheckpointRow.count))) == [5, 10]
    report = verify_store(store, KEY)
    assert report.ok and report.records == 12
    assert AUDIT_CHAIN_OK.labels(store=store.engine.dialect.name)._value.get() == 1
    assert report.last_checkpoint is not None and report.last_checkpoint.count == 10


def test_a_refusal_is_recorded_under_the_action_tried(store: Store) -> None:
    """A refused reveal is stored and counted with allowed=False, and reads back the same."""
    before = AUDIT_RECORDS.labels(action="reveal", allowed="false")._value.get()
    record = AuditLog(store, KEY).append("u-1", "officer", "reveal", ["alert-1", "case-1"], allowed=False)
    assert AUDIT_RECORDS.labels(action="reveal", allowed="false")._value.get() == before + 1
    with store.session() as s:
        row = s.get(AuditRow, record.seq)
        assert row is not None and row.allowed is False and row.hash == record.hash
    assert verify_store(store, KEY).ok


def test_checkpoint_now_signs_the_head_once(store: Store) -> None:
    """checkpoint_now signs nothing on an empty chain, then the current head, and not twice."""
    log = AuditLog(store, KEY, checkpoint_every=100)
    assert log.checkpoint_now() is None
    written = fill(log, 3)
    first = log.checkpoint_now()
    assert first is not None and (first.count, first.hash) == (3, written[-1].hash)
    assert log.checkpoint_now() == first


def test_concurrent_appends_stay_one_unbroken_chain(store: Store) -> None:
    """Appends from several threads at once give seqs 0..N-1, each once, in one verified chain."""
    log = AuditLog(store, KEY, checkpoint_every=7)
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for i in range(15):
                log.append(f"u-{worker}", "officer", "search", [f"alert-{worker}-{i}"])
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with store.session() as s:
        seqs = list(s.scalars(select(AuditRow.seq).order_by(AuditRow.seq)))
        counts = list(s.scalars(select(AuditCheckpointRow.count).order_by(AuditCheckpointRow.count)))
    assert seqs == list(range(60)) and counts == [7, 14, 21, 28, 35, 42, 49, 56]
    assert verify_store(store, KEY).ok


def test_a_row_updated_by_hand_is_pinpointed(store: Store) -> None:
    """An UPDATE in raw SQL on one row is reported as that record edited, and the chain metric drops to 0."""
    fill(AuditLog(store, KEY, checkpoint_every=5), 12)
    with store.session() as s:
        s.execute(text("UPDATE audit SET purpose = 'nothing to see' WHERE seq = 4"))
    report = verify_store(store, KEY)
    assert report.lines() == ["record 4 was edited"]
    assert AUDIT_CHAIN_OK.labels(store=store.engine.dialect.name)._value.get() == 0


def test_rows_deleted_after_a_checkpoint_are_reported_as_truncation(store: Store) -> None:
    """Deleting the newest rows after they were checkpointed is reported against that checkpoint."""
    log = AuditLog(store, KEY, checkpoint_every=5)
    fill(log, 12)
    log.checkpoint_now()
    with store.session() as s:
        s.execute(text("DELETE FROM audit WHERE seq >= 9"))
    lines = verify_store(store, KEY).lines()
    assert len(lines) == 1 and lines[0].startswith("truncated: the checkpoint of ")
    assert lines[0].endswith("vouches for 12 records, only 9 remain")


def test_two_rows_swapped_by_hand_are_named(store: Store) -> None:
    """Swapping everything but seq between two rows is reported as those two records out of order."""
    fill(AuditLog(store, KEY, checkpoint_every=5), 12)
    cols = (
        "at",
        "actor",
        "role",
        "action",
        "allowed",
        "record_ids",
        "purpose",
        "recipient",
        "prev_hash",
        "hash",
    )
    with store.session() as s:
        rows = {r.seq: {c: getattr(r, c) for c in cols} for r in s.scalars(select(AuditRow))}
        for a, b in ((2, 6), (6, 2)):
            row = s.get(AuditRow, a)
            for c in cols:
                setattr(row, c, rows[b][c])
    assert verify_store(store, KEY).lines() == ["records 2 and 6 are out of order"]


def cli() -> typer.Typer:
    """`gatehound audit` as engine/cli.py mounts it."""
    app = typer.Typer()
    app.add_typer(audit_app, name="audit")
    return app


def test_the_cli_says_whole_then_names_the_edited_record(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`audit verify` exits 0 with a summary on a whole chain, and 1 naming the record once one is edited."""
    monkeypatch.setenv("GATEHOUND_OPS__AUDIT_KEY", KEY.decode())
    fill(AuditLog(store, KEY, checkpoint_every=5), 12)
    runner = CliRunner()
    ok = runner.invoke(cli(), ["audit", "verify", "--database", store.url])
    assert ok.exit_code == 0, ok.output
    assert "audit chain whole: 12 records" in ok.output and "vouches for 10" in ok.output
    with store.session() as s:
        s.execute(text("UPDATE audit SET actor = 'u-99' WHERE seq = 7"))
    bad = runner.invoke(cli(), ["audit", "verify", "--database", store.url])
    assert bad.exit_code == 1 and bad.output.splitlines() == ["record 7 was edited"]
    as_json = runner.invoke(cli(), ["audit", "verify", "--database", store.url, "--json"])
    body = json.loads(as_json.output)
    assert as_json.exit_code == 1 and body["ok"] is False
    assert body["findings"] == [{"kind": "edited", "seq": 7, "last": None, "text": "record 7 was edited"}]


def test_the_cli_with_the_wrong_key_reports_forged_checkpoints(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checking with a key other than the signing one reports the checkpoints as forged (exit 1)."""
    monkeypatch.setenv("GATEHOUND_OPS__AUDIT_KEY", "not-the-key")
    fill(AuditLog(store, KEY, checkpoint_every=5), 5)
    result = CliRunner().invoke(cli(), ["audit", "verify", "--database", store.url])
    assert result.exit_code == 1 and "checkpoint 5 is forged" in result.output


def test_the_cli_exits_2_without_a_store(tmp_path: object) -> None:
    """Pointed at a store that does not exist, `audit verify` says so and exits 2."""
    result = CliRunner().invoke(cli(), ["audit", "verify", "--database", f"sqlite:///{tmp_path}/none.db"])
    assert result.exit_code == 2 and "no store at" in result.output
