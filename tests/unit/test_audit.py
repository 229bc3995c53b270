"""The audit chain in memory: hashing, signing, and verify naming each kind of tampering
at the record where it happened."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.oversight.audit import (
    GENESIS,
    HASHED_FIELDS,
    Checkpoint,
    compare_copies,
    record_hash,
    sign_checkpoint,
    verify,
)
from schemas.audit import AuditRecord

KEY = b"test-audit-key"
T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def build(n: int, every: int = 5, key: bytes = KEY) -> tuple[list[AuditRecord], list[Checkpoint]]:
    """A whole chain of n synthetic records with a signed checkpoint every ``every``."""
    records: list[AuditRecord] = []
    checkpoints: list[Checkpoint] = []
    prev = GENESIS
    for seq in range(n):
        draft = AuditRecord(
            seq=seq, at=T0 + timedelta(minutes=seq), actor=f"u-{seq % 3}", role="officer",
            action="reveal" if seq % 2 else "search", record_ids=(f"alert-{seq}", f"case-{seq // 2}"),
            purpose="checking a booking" if seq % 2 else None, prev_hash=prev, hash=GENESIS,
        )
        record = draft.model_copy(update={"hash": record_hash(prev, draft)})
        records.append(record)
        prev = record.hash
        if (seq + 1) % every == 0:
            checkpoints.append(Checkpoint(seq + 1, prev, sign_checkpoint(key, seq + 1, prev), record.at))
    return records, checkpoints


def rehash_from(records: list[AuditRecord], start: int) -> list[AuditRecord]:
    """The chain with every hash from ``start`` on recomputed, as a forger with write access would."""
    out = list(records[:start])
    prev = out[-1].hash if out else GENESIS
    for r in records[start:]:
        fixed = r.model_copy(update={"prev_hash": prev})
        fixed = fixed.model_copy(update={"hash": record_hash(prev, fixed)})
        out.append(fixed)
        prev = fixed.hash
    return out


def kinds(report: Any) -> list[tuple[str, int]]:
    return [(f.kind, f.seq) for f in report.findings]


def test_a_whole_chain_verifies() -> None:
    """An untouched chain with its checkpoints has no findings and names the last checkpoint."""
    records, checkpoints = build(23)
    report = verify(records, checkpoints, KEY)
    assert report.ok and report.records == 23 and report.checkpoints == 4
    assert report.last_checkpoint is not None and report.last_checkpoint.count == 20
    assert report.summary().startswith("audit chain whole: 23 records")


def test_the_hash_covers_every_field_of_the_contract() -> None:
    """Every AuditRecord field but the hashes and the envelope version is hashed: none changes unseen."""
    assert set(HASHED_FIELDS) == set(AuditRecord.model_fields) - {"hash", "prev_hash", "schema_version"}


def test_the_hash_does_not_depend_on_the_time_zone_written() -> None:
    """The same instant in another zone hashes alike: stores and topics may hand times back in UTC."""
    records, _ = build(1)
    other = records[0].model_copy(update={"at": records[0].at.astimezone(tz=None)})
    assert record_hash(GENESIS, other) == records[0].hash


def test_an_edited_record_is_named() -> None:
    """A record whose content changed without its hash is reported as edited, and nothing else is."""
    records, checkpoints = build(12)
    records[7] = records[7].model_copy(update={"purpose": "curiosity"})
    report = verify(records, checkpoints, KEY)
    assert kinds(report) == [("edited", 7)]
    assert report.lines() == ["record 7 was edited"]


def test_a_deleted_record_is_named() -> None:
    """A record taken out of the middle is reported missing by its seq."""
    records, checkpoints = build(12)
    del records[4]
    report = verify(records, checkpoints, KEY)
    assert report.lines() == ["record 4 is missing"]


def test_deleted_runs_and_a_deleted_first_record_are_named() -> None:
    """Several consecutive records, or the very first, are reported missing as one range."""
    records, _ = build(12)
    assert verify(records[:3] + records[6:]).lines() == ["records 3 to 5 are missing"]
    assert verify(records[1:]).lines() == ["record 0 is missing"]


def test_an_inserted_record_is_named() -> None:
    """A forged record chained after record 5, claiming seq 6, is reported as inserted after 5."""
    records, checkpoints = build(12)
    forged = records[6].model_copy(update={"actor": "u-9", "hash": GENESIS})
    forged = forged.model_copy(update={"hash": record_hash(forged.prev_hash, forged)})
    report = verify([*records[:6], forged, *records[6:]], checkpoints, KEY)
    assert report.lines() == ["a record was inserted after record 5"]


def test_an_inserted_record_that_links_to_nothing_is_named() -> None:
    """A record with a made-up predecessor and a seq already taken is reported as inserted where it sits."""
    records, _ = build(10)
    stray = records[3].model_copy(update={"prev_hash": "a" * 64, "actor": "u-9"})
    stray = stray.model_copy(update={"hash": record_hash(stray.prev_hash, stray)})
    report = verify([*records[:8], stray, *records[8:]])
    assert report.lines() == ["a record was inserted after record 7"]


def test_swapped_records_are_named_as_a_pair() -> None:
    """Two records stored in each other's place are reported as out of order, by their seqs."""
    records, checkpoints = build(12)
    records[3], records[8] = records[8], records[3]
    assert verify(records, checkpoints, KEY).lines() == ["records 3 and 8 are out of order"]


def test_neighbours_swapped_and_a_record_moved_are_named() -> None:
    """Adjacent records swapped give their pair; one record moved further gives it and where it sits."""
    records, _ = build(12)
    swapped = list(records)
    swapped[5], swapped[6] = swapped[6], swapped[5]
    assert verify(swapped).lines() == ["records 5 and 6 are out of order"]
    moved = records[:2] + records[3:7] + [records[2]] + records[7:]
    assert verify(moved).lines() == ["record 2 is out of order: it is stored after record 6"]


def test_contents_swapped_between_rows_are_named_as_a_pair() -> None:
    """Rows keeping their seq but trading everything else (an UPDATE by hand) are reported out of order."""
    records, checkpoints = build(12)
    a = records[8].model_copy(update={"seq": 3})
    b = records[3].model_copy(update={"seq": 8})
    records[3], records[8] = a, b
    report = verify(records, checkpoints, KEY)
    assert report.lines() == ["records 3 and 8 are out of order"]


def test_a_cut_off_tail_is_reported_as_truncation() -> None:
    """Records deleted from the end are reported against the newest checkpoint that vouched for them."""
    records, checkpoints = build(20)
    report = verify(records[:17], checkpoints, KEY)
    assert kinds(report) == [("truncated", 17)]
    assert report.lines()[0].startswith("truncated: the checkpoint of 2026-06-01 08:19:00 UTC vouches for 20")
    assert report.lines()[0].endswith("only 17 remain")


def test_an_edit_hidden_by_rehashing_is_caught_by_the_checkpoints() -> None:
    """Editing record 7 and recomputing every later hash leaves a chain that links, but the
    checkpoint after it no longer matches: the finding names the records between checkpoints."""
    records, checkpoints = build(20)
    records[7] = records[7].model_copy(update={"purpose": "curiosity"})
    forged = rehash_from(records, 7)
    assert verify(forged).ok  # without the signed checkpoints, nothing shows
    report = verify(forged, checkpoints, KEY)
    assert kinds(report) == [("rehashed", 5)]
    finding = report.findings[0]
    assert finding.seq <= 7 <= (finding.last or -1) == 9
    assert report.lines()[0].startswith("records 5 to 9 were altered and the chain re-hashed")


def test_a_forged_checkpoint_is_named_and_not_trusted() -> None:
    """A checkpoint not signed with the key is reported, and its claim is not used."""
    records, checkpoints = build(10)
    fake = Checkpoint(15, "f" * 64, "0" * 64)
    report = verify(records, [*checkpoints, fake], KEY)
    assert report.lines() == ["checkpoint 15 is forged: its signature is not the audit key's"]
    assert verify(records, checkpoints, b"another key").lines() == [
        "checkpoint 5 is forged: its signature is not the audit key's",
        "checkpoint 10 is forged: its signature is not the audit key's",
    ]


def test_plain_tuples_serve_as_checkpoints() -> None:
    """Checkpoints may be given as (count, hash, signature) tuples."""
    records, checkpoints = build(10)
    plain = [(c.count, c.hash, c.signature) for c in checkpoints]
    assert verify(records[:7], plain, KEY).findings[0].kind == "truncated"


def test_the_head_row_shows_records_beyond_it_and_a_tail_cut_after_the_last_checkpoint() -> None:
    """With the chain's head given, rows after it are inserted and a head beyond the rows is truncation."""
    records, checkpoints = build(12)
    assert verify(records, checkpoints, KEY, head=(11, records[11].hash)).ok
    assert kinds(verify(records, checkpoints, KEY, head=(10, records[10].hash))) == [("inserted", 10)]
    cut = verify(records[:11], checkpoints, KEY, head=(11, records[11].hash))
    assert cut.lines() == ["truncated: the chain's head says 12 records, only 11 remain"]


def test_a_row_far_past_the_head_is_inserted_not_a_gap() -> None:
    """A forged row numbered far beyond the chain's head is reported as inserted, not as a billion missing."""
    records, checkpoints = build(12)
    stray = records[5].model_copy(update={"seq": 10**12, "prev_hash": "b" * 64})
    stray = stray.model_copy(update={"hash": record_hash(stray.prev_hash, stray)})
    report = verify([*records, stray], checkpoints, KEY, head=(11, records[11].hash))
    assert report.lines() == ["a record was inserted after record 11"]


def test_a_record_stored_twice_is_reported_once() -> None:
    """An exact copy of a record after itself is one inserted record, not a cascade."""
    records, _ = build(8)
    report = verify([*records[:4], records[3], *records[4:]])
    assert report.lines() == ["a record was inserted after record 3"]


def test_copies_are_compared_record_by_record() -> None:
    """The store's chain and the topic's copy are compared up to the topic's newest record."""
    records, _ = build(10)
    topic = list(records)
    edited = records[2].model_copy(update={"actor": "u-7"})
    stored = [records[0], records[1], edited, *records[5:]]  # 3 and 4 gone from the store
    found = [f.text for f in compare_copies(stored, topic[:9])]
    assert found == [
        "record 2 is different in the database and on the audit topic",
        "records 3 to 4 are on the audit topic but not in the database",
    ]
    assert compare_copies(records, records[:6]) == []  # not yet published is not a problem


EDITS: dict[str, st.SearchStrategy[Any]] = {
    "seq": st.integers(min_value=0, max_value=10_000),
    "at": st.datetimes(timezones=st.just(UTC)),
    "actor": st.text(min_size=1, max_size=12),
    "role": st.sampled_from(["officer", "supervisor", "auditor", "admin"]),
    "action": st.sampled_from(["reveal", "search", "export", "outcome", "login"]),
    "allowed": st.booleans(),
    "record_ids": st.lists(st.text(max_size=8), max_size=3).map(tuple),
    "purpose": st.none() | st.text(max_size=20),
    "recipient": st.none() | st.text(max_size=20),
    "prev_hash": st.text("0123456789abcdef", min_size=64, max_size=64),
    "hash": st.text("0123456789abcdef", min_size=64, max_size=64),
}


@settings(max_examples=150, deadline=None)
@given(data=st.data(), n=st.integers(min_value=1, max_value=25), every=st.integers(min_value=1, max_value=7))
def test_any_single_edit_is_found_at_its_record(data: st.DataObject, n: int, every: int) -> None:
    """Changing any one field of any one record is reported as exactly one edit, at that record's seq."""
    records, checkpoints = build(n, every)
    target = data.draw(st.integers(min_value=0, max_value=n - 1), label="record")
    name = data.draw(st.sampled_from(sorted(EDITS)), label="field")
    value = data.draw(EDITS[name].filter(lambda v: v != getattr(records[target], name)), label="value")
    edited = records[target].model_copy(update={name: value})
    if name not in ("hash", "prev_hash") and record_hash(edited.prev_hash, edited) == records[target].hash:
        return  # the same instant in another form: not a change of content
    records[target] = edited
    report = verify(records, checkpoints, KEY)
    assert kinds(report) == [("edited", target)], report.lines()
