"""The audit log: every access to personal data, in an append-only, tamper-evident chain.

What a record holds (schemas.AuditRecord) is never personal data. ``actor`` is a user
id (not the user's name, never a traveller's), ``record_ids`` are alert and case ids,
``purpose`` is the reason a user gave for looking and ``recipient`` the unit or agency
data was disclosed to. So the log can be read, copied and checked by people who may
not see the data itself. The operations centre must ask users for a reason, not for
data, and must not put names or document numbers in these fields.

How tampering shows:

- each record's ``hash`` is sha256 over the previous record's hash and a canonical JSON
  of the record's own fields, so editing a record breaks its hash;
- each record names the previous one's hash (``prev_hash``) and its position (``seq``),
  so deleting, inserting or reordering records breaks the chain;
- every ``checkpoint_every`` records, and whenever ``checkpoint_now`` is called (on
  shutdown and periodically), a checkpoint signs "the chain had C records and the last
  one's hash was H" with an HMAC key (settings ``ops.audit_key``) that the database does
  not hold. Someone who can write the database but lacks the key cannot edit a record
  and re-hash everything after it, nor cut the newest records off, without a signed
  checkpoint disagreeing;
- a copy of each record goes to the ``audit`` topic, a second place to compare with
  (``gatehound audit verify --topic``). The topic must keep its records for as long as
  the database does (``retention.ms=-1``), or its copy only covers the retention window.

Limits, in plain words: records written after the newest checkpoint can be cut off
without a signed trace (the chain's head row and the topic copy still show it; a
shorter ``checkpoint_every`` narrows the window), and someone who deletes checkpoints
along with records is only caught by the topic copy and by the ``audit.checkpoint`` log
events each checkpoint writes.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, NamedTuple

from pydantic import ValidationError
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.logs import get_logger
from engine.metrics import AUDIT_CHAIN_CHECKED, AUDIT_CHAIN_OK, AUDIT_RECORDS
from engine.ops.store import AuditCheckpointRow, AuditHeadRow, AuditRow, Store, utcnow
from engine.settings import Settings
from schemas.audit import AuditRecord

log = get_logger(__name__)

#: The ``prev_hash`` of the first record.
GENESIS = "0" * 64

#: The fields a record's hash covers: all but ``hash`` and ``prev_hash`` (which is hashed
#: in front of them) and ``schema_version``, the envelope's version, which the store does
#: not keep and which would change every old record's hash when the contract moves on. A
#: field added to AuditRecord later must be hashed only when it differs from its default,
#: or records written before it existed stop verifying.
HASHED_FIELDS: tuple[str, ...] = (
    "seq", "at", "actor", "role", "action", "allowed", "record_ids", "purpose", "recipient",
)


class AuditAction(StrEnum):
    """The actions the operations centre records. A refusal is recorded under the action
    that was tried, with ``allowed=False`` (a refused reveal is ``reveal``, refused)."""

    #: Personal data unmasked on a case the user is assigned to; record_ids = [alert_id,
    #: case_id]; purpose required.
    REVEAL = "reveal"
    #: Personal data unmasked by a supervisor or auditor not assigned to the case.
    REVEAL_UNASSIGNED = "reveal_unassigned"
    #: A search over alerts or cases; record_ids = the ids returned.
    SEARCH = "search"
    #: Data leaving the centre (a download, a disclosure); recipient required.
    EXPORT = "export"
    #: An intervention's outcome recorded; record_ids = [alert_id, case_id].
    OUTCOME = "outcome"
    LOGIN = "login"
    #: A failed login; actor is the user id when the name is known, else "unknown".
    LOGIN_FAILED = "login_failed"


# ---------------------------------------------------------------------------------------
# Hashing and signing


_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


def _field(record: AuditRecord | Mapping[str, Any], name: str) -> Any:
    return record.get(name) if isinstance(record, Mapping) else getattr(record, name, None)


def canonical_json(record: AuditRecord | Mapping[str, Any]) -> str:
    """The text a record's hash covers: its HASHED_FIELDS as JSON with sorted keys, no
    spaces, times in UTC to the microsecond, so every copy of a record hashes alike."""
    body: dict[str, Any] = {}
    for name in HASHED_FIELDS:
        value = _field(record, name)
        if isinstance(value, datetime):
            value = value.astimezone(UTC).strftime(_TIME) if value.tzinfo else value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        body[name] = value
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def record_hash(prev_hash: str, record: AuditRecord | Mapping[str, Any]) -> str:
    """sha256 (hex) over ``prev_hash``, a newline and the record's canonical JSON."""
    return hashlib.sha256(f"{prev_hash}\n{canonical_json(record)}".encode()).hexdigest()


def sign_checkpoint(key: bytes, count: int, head_hash: str) -> str:
    """HMAC-SHA256 (hex) of "the chain had ``count`` records, the last with ``head_hash``"."""
    message = f"gatehound-audit-checkpoint\n{count}\n{head_hash}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement: the chain had ``count`` records, the last with hash ``hash``."""

    count: int
    hash: str
    signature: str
    at: datetime | None = None

    def label(self) -> str:
        """How a finding names the checkpoint: 'of 2026-06-01 12:00:00 UTC', or '#200'."""
        return f"of {self.at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC" if self.at else f"#{self.count}"


# ---------------------------------------------------------------------------------------
# Verifying


@dataclass(frozen=True)
class Finding:
    """One problem with the chain. ``seq`` is the first record concerned (for a checkpoint,
    the last record it vouches for), ``last`` the last one when it is a range."""

    kind: str  # edited, missing, inserted, out_of_order, rehashed, truncated, forged, differs
    seq: int
    text: str
    last: int | None = None


@dataclass(frozen=True)
class VerifyReport:
    """What verifying a chain found; ``ok`` when nothing."""

    records: int
    checkpoints: int
    last_checkpoint: Checkpoint | None
    findings: tuple[Finding, ...] = ()
    extra: tuple[Finding, ...] = field(default=())  # comparisons with another copy

    @property
    def ok(self) -> bool:
        """True when the chain is whole."""
        return not self.findings and not self.extra

    def summary(self) -> str:
        """One line for a whole chain."""
        cp = self.last_checkpoint
        signed = f"the last checkpoint, {cp.label()}, vouches for {cp.count}" if cp else "no checkpoint yet"
        return f"audit chain whole: {self.records} records; {signed}"

    def lines(self) -> list[str]:
        """Each problem on its own line, first problem first."""
        return [f.text for f in (*self.findings, *self.extra)]

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        cp = self.last_checkpoint
        return {
            "ok": self.ok,
            "records": self.records,
            "checkpoints": self.checkpoints,
            "last_checkpoint": None if cp is None else {
                "count": cp.count, "hash": cp.hash, "at": cp.at.isoformat() if cp.at else None},
            "findings": [
                {"kind": f.kind, "seq": f.seq, "last": f.last, "text": f.text}
                for f in (*self.findings, *self.extra)
            ],
        }


def _span(first: int, last: int) -> str:
    return f"record {first}" if first == last else f"records {first} to {last}"


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


class _Chain:
    """The chain as the records' own links say it runs, against the order they are in.

    Every record points at its predecessor by ``prev_hash``. Following those links from
    the genesis hash rebuilds the chain in its true order, giving each record its place
    (``place``: the seq it has by the links, whatever its ``seq`` field says). Where links
    end (a deleted record), the chain resumes at the next record that points at nothing
    present. A record that links into a place already taken, or into nothing at a place
    already covered, was inserted. Then the places of the records are compared with the
    order they are stored in to find records out of order.
    """

    def __init__(
        self, records: Sequence[AuditRecord], trusted: Iterable[str] = (), limit: int | None = None
    ) -> None:
        self.records = records
        self.trusted = set(trusted)  # hashes a valid checkpoint signed
        self.limit = limit  # the last place the chain's head row says there is
        n = len(records)
        self.stored = [str(r.hash) for r in records]
        self.prev = [str(r.prev_hash) for r in records]
        self.computed = [record_hash(self.prev[i], records[i]) for i in range(n)]
        self.intact = [self.computed[i] == self.stored[i] for i in range(n)]
        self.place: dict[int, int] = {}  # list position -> place in the chain
        self.main: list[int] = []  # positions on the chain, in chain order
        self.inserted: list[int] = []
        self.displaced: set[int] = set()  # chain records stored where another belongs
        self.findings: list[Finding] = []

    def _parents(self) -> tuple[dict[int, list[int]], list[int]]:
        """Children of each position (-1: the genesis hash), and the positions linked to
        nothing present."""
        by_hash: dict[str, list[int]] = {}
        for i, h in enumerate(self.stored):
            by_hash.setdefault(h, []).append(i)
        for i, h in enumerate(self.computed):
            if not self.intact[i]:  # its hash field was edited: successors name the real one
                by_hash.setdefault(h, []).append(i)
        children: dict[int, list[int]] = {}
        orphans: list[int] = []
        for i, p in enumerate(self.prev):
            if p == GENESIS:
                children.setdefault(-1, []).append(i)
                continue
            candidates = [k for k in by_hash.get(p, ()) if k != i]
            if not candidates:
                orphans.append(i)
                continue
            before = [k for k in candidates if k < i]
            children.setdefault(before[0] if before else candidates[0], []).append(i)
        return children, orphans

    def _fragments(self) -> list[tuple[int, list[int]]]:
        """Runs of records linked one to the next, each with the place its first record
        claims (the run from the genesis hash starts at 0); a fork (two records naming the
        same predecessor) continues with the likelier one and starts a new run with the other."""
        children, orphans = self._parents()
        fragments: list[tuple[int, list[int]]] = []
        seen: set[int] = set()
        starts = deque([-1, *orphans])
        while starts:
            root = starts.popleft()
            run: list[int] = [] if root == -1 else [root]
            if root != -1:
                seen.add(root)
            node = root
            while True:
                kids = [k for k in children.get(node, ()) if k not in seen]
                if not kids:
                    break
                expected = _as_int(self.records[node].seq) + 1 if node != -1 else 0
                # The likelier record: whole and numbered next, signed by a checkpoint, followed
                # by more; else the one stored later (a forger puts theirs next to its target).
                kids.sort(key=lambda k: (
                    not (self.intact[k] and _as_int(self.records[k].seq) == expected),
                    self.stored[k] not in self.trusted,
                    not any(c not in seen for c in children.get(k, ())),
                    -k,
                ))
                node = kids[0]
                seen.add(node)
                run.append(node)
                starts.extend(kids[1:])
            if run:
                fragments.append((0 if root == -1 else _as_int(self.records[root].seq), run))
        # Records on a cycle of forged links are reached from nowhere: each its own run.
        fragments.extend((_as_int(r.seq), [i]) for i, r in enumerate(self.records) if i not in seen)
        return fragments

    def analyse(self) -> None:
        """Fill ``place``, ``main``, ``inserted`` and the findings."""
        runs = sorted(self._fragments(), key=lambda r: (r[0], r[1][0]))
        end = -1
        for start, run in runs:
            root = run[0]
            if start <= end or (self.limit is not None and start > self.limit):
                self.inserted.extend(run)  # in a place already taken, or past the chain's end
                continue
            if start > end + 1:
                self.findings.append(Finding("missing", end + 1, f"{_span(end + 1, start - 1)} "
                                             f"{'is' if start - 1 == end + 1 else 'are'} missing", start - 1))
            elif self.intact[root] and self.prev[root] != GENESIS:
                # In its place and whole, yet not chained to the record before: that one
                # was replaced by a forged record with a hash of its own.
                self.findings.append(
                    Finding("edited", end, f"record {end} was replaced: record {start} does not chain to it")
                    if end >= 0 else Finding("edited", 0, "record 0 does not start from the genesis hash"))
            for offset, pos in enumerate(run):
                self.place[pos] = start + offset
            self.main.extend(run)
            end = start + len(run) - 1
        self._out_of_order()
        self._edits()
        self._insertions()

    def _out_of_order(self) -> None:
        """Records whose place differs from the order they are stored in."""
        order = sorted(self.main)  # chain records in stored order
        places = [self.place[p] for p in order]
        ranked = sorted(places)
        self.displaced = {order[t] for t, v in enumerate(places) if v != ranked[t]}
        if not self.displaced:
            return
        moved = _moved(places, ranked)
        index = {v: t for t, v in enumerate(places)}
        reported: set[int] = set()
        for t in sorted(moved, key=lambda t: places[t]):
            v, w = places[t], ranked[t]
            if v in reported:
                continue
            if ranked[index[w]] == v:
                a, b = sorted((v, w))
                reported |= {a, b}
                self.findings.append(Finding("out_of_order", a, f"records {a} and {b} are out of order", b))
            else:
                reported.add(v)
                where = f"after record {places[t - 1]}" if t else "first"
                self.findings.append(
                    Finding("out_of_order", v, f"record {v} is out of order: it is stored {where}"))

    def _edits(self) -> None:
        for pos in self.main:
            if self.intact[pos]:
                continue
            place = self.place[pos]
            record = self.records[pos]
            moved_whole = record_hash(self.prev[pos], {**_fields(record), "seq": place}) == self.stored[pos]
            if moved_whole and pos in self.displaced:
                continue  # a whole record in another's row: reported as out of order
            self.findings.append(Finding("edited", place, f"record {place} was edited"))

    def _insertions(self) -> None:
        inserted = set(self.inserted)
        i, n = 0, len(self.records)
        while i < n:
            if i not in inserted:
                i += 1
                continue
            j = i
            while j + 1 < n and j + 1 in inserted:
                j += 1
            before = next((self.place[k] for k in range(i - 1, -1, -1) if k in self.place), None)
            after = "before the first record" if before is None else f"after record {before}"
            count = "a record was" if i == j else f"{j - i + 1} records were"
            self.findings.append(
                Finding("inserted", -1 if before is None else before, f"{count} inserted {after}"))
            i = j + 1

    def reported(self, place: int) -> bool:
        """True when a finding about the chain itself already names this place."""
        return any(f.seq <= place <= (f.last if f.last is not None else f.seq) for f in self.findings)


def _fields(record: AuditRecord) -> dict[str, Any]:
    return {name: getattr(record, name, None) for name in HASHED_FIELDS}


def _moved(values: list[int], ranked: list[int]) -> set[int]:
    """Indices of the fewest records that, taken out, leave the rest in rising order:
    the complement of a longest increasing subsequence, preferring to keep records
    already where they belong (so a swap names the two swapped, not a bystander)."""
    n = len(values)
    rank = {v: r + 1 for r, v in enumerate(ranked)}
    tree: list[tuple[int, int]] = [(0, -1)] * (n + 1)  # Fenwick tree of (score, index) maxima
    back = [-1] * n
    best: tuple[int, int] = (0, -1)
    for t, v in enumerate(values):
        r, top = rank[v] - 1, (0, -1)
        while r > 0:
            top = max(top, tree[r])
            r -= r & -r
        score = top[0] + (n + 1) + (1 if v == ranked[t] else 0)
        back[t] = top[1]
        best = max(best, (score, t))
        r = rank[v]
        while r <= n:
            tree[r] = max(tree[r], (score, t))
            r += r & -r
    kept: set[int] = set()
    t = best[1]
    while t != -1:
        kept.add(t)
        t = back[t]
    return set(range(n)) - kept


def verify(
    records: Sequence[AuditRecord],
    checkpoints: Iterable[Checkpoint | tuple[int, str, str]] = (),
    key: bytes = b"",
    head: tuple[int, str] | None = None,
) -> VerifyReport:
    """Check a chain of records, in the order they are stored, against its signed
    checkpoints (and the chain's head row when it comes from the store).

    Each problem is named once, where it is, first problem first (a ``Finding`` with the
    seq concerned): "record 7 was edited", "record 7 is missing", "a record was inserted
    after record 7", "records 7 and 9 are out of order", "records 5 to 9 were altered and
    the chain re-hashed after them" (an edit hidden by recomputing every later hash: only
    the signed checkpoints show it, to within the records between two checkpoints),
    "truncated: the checkpoint of <time> vouches for C records, only K remain",
    "checkpoint C is forged". Later records are not reported again for an earlier problem.
    """
    valid: list[Checkpoint] = []
    forged: list[Finding] = []
    for raw in checkpoints:
        cp = raw if isinstance(raw, Checkpoint) else Checkpoint(*raw)
        if hmac.compare_digest(sign_checkpoint(key, cp.count, cp.hash), str(cp.signature)):
            valid.append(cp)
        else:
            forged.append(Finding("forged", cp.count - 1, f"checkpoint {cp.count} is forged: its signature "
                                  "is not the audit key's"))
    valid.sort(key=lambda c: c.count)
    chain = _Chain(records, (cp.hash for cp in valid), None if head is None else head[0])
    chain.analyse()
    findings = chain.findings + forged
    by_place = {place: pos for pos, place in chain.place.items()}
    kept = len(chain.main)
    newest = max(by_place, default=-1)
    findings += _against_checkpoints(chain, valid, by_place, newest, kept)
    if head is not None:
        findings += _against_head(chain, head, by_place, newest, kept, findings)
    findings.sort(key=lambda f: (f.seq, f.kind))
    return VerifyReport(records=len(records), checkpoints=len(valid),
                        last_checkpoint=valid[-1] if valid else None, findings=tuple(findings))


def _against_checkpoints(
    chain: _Chain, valid: list[Checkpoint], by_place: dict[int, int], newest: int, kept: int
) -> list[Finding]:
    findings: list[Finding] = []
    cut = [cp for cp in valid if cp.count - 1 > newest]
    if cut:
        cp = cut[-1]
        findings.append(Finding("truncated", newest + 1, f"truncated: the checkpoint {cp.label()} vouches "
                                f"for {cp.count} records, only {kept} remain", cp.count - 1))
    vouched = -1  # the last place a checkpoint agreed with
    for cp in valid:
        last = cp.count - 1
        pos = by_place.get(last)
        if pos is None or chain.reported(last):
            continue
        if chain.stored[pos] == cp.hash:
            vouched = last
            continue
        findings.append(Finding(
            "rehashed", vouched + 1,
            f"{_span(vouched + 1, last)} {'was' if vouched + 1 == last else 'were'} altered and the "
            f"chain re-hashed after them: record {last} is not the one the checkpoint {cp.label()} signed",
            last))
        break
    return findings


def _against_head(
    chain: _Chain, head: tuple[int, str], by_place: dict[int, int], newest: int, kept: int,
    so_far: list[Finding],
) -> list[Finding]:
    """The head row is unsigned, so it only adds what the checkpoints cannot say."""
    head_seq, head_hash = head
    findings: list[Finding] = []
    if newest > head_seq:
        extra = newest - head_seq
        count = "a record was" if extra == 1 else f"{extra} records were"
        findings.append(Finding("inserted", head_seq, f"{count} inserted after record {head_seq}, "
                                "where the chain's head says it ends"))
    if any(f.kind in ("truncated", "rehashed") for f in so_far):
        return findings
    if head_seq > newest:
        findings.append(Finding("truncated", newest + 1, f"truncated: the chain's head says {head_seq + 1} "
                                f"records, only {kept} remain", head_seq))
    elif head_seq >= 0 and not chain.reported(head_seq) and head_seq in by_place:
        if chain.stored[by_place[head_seq]] != head_hash:
            findings.append(Finding(
                "rehashed", head_seq, f"record {head_seq} does not match the chain's head: "
                "records after the last checkpoint were altered and re-hashed"))
    return findings


# ---------------------------------------------------------------------------------------
# Writing


class AuditLog:
    """Appends records to the store's chain, signs checkpoints, and hands each record
    to ``publish`` (the app sends it to the ``audit`` topic, keyed by actor) after it is
    committed. Safe with appends from many threads and processes: each append holds the
    chain's head row (PostgreSQL: ``SELECT ... FOR UPDATE``; SQLite: ``BEGIN IMMEDIATE``,
    which takes the database's write lock, so use a SQLite file, not ``sqlite://``)."""

    def __init__(
        self,
        store: Store,
        key: bytes,
        checkpoint_every: int = 100,
        publish: Callable[[AuditRecord], None] | None = None,
    ) -> None:
        if checkpoint_every < 1:
            raise ValueError("checkpoint_every is at least 1")
        self.store = store
        self.key = key
        self.checkpoint_every = checkpoint_every
        self.publish = publish

    def append(
        self,
        actor: str,
        role: str,
        action: str,
        record_ids: Sequence[str] = (),
        purpose: str | None = None,
        recipient: str | None = None,
        allowed: bool = True,
        at: datetime | None = None,
    ) -> AuditRecord:
        """Write one record at the chain's end and return it.

        ``actor`` is a user id and ``record_ids`` are alert and case ids: never names or
        other personal data (see the module's docstring). A refusal is recorded with the
        action that was tried and ``allowed=False``.
        """
        fields: dict[str, Any] = {
            "at": at or utcnow(), "actor": actor, "role": role, "action": str(action),
            "allowed": allowed, "record_ids": tuple(record_ids), "purpose": purpose, "recipient": recipient,
        }
        for attempt in range(3):
            try:
                record, checkpoint = self._append(fields)
                break
            except IntegrityError:  # two first appends raced to create the head row
                if attempt == 2:
                    raise
        if checkpoint is not None:
            _witness(checkpoint)
        AUDIT_RECORDS.labels(action=record.action, allowed=str(record.allowed).lower()).inc()
        if self.publish is not None:
            try:
                self.publish(record)
            except Exception as exc:  # the store holds the record; the topic copy will lack it
                log.error("audit.publish_failed", seq=record.seq, error=type(exc).__name__)
        return record

    def _append(self, fields: dict[str, Any]) -> tuple[AuditRecord, Checkpoint | None]:
        checkpoint = None
        with self.store.session() as s:
            head = _lock_head(s)
            seq = head.seq + 1
            draft = AuditRecord(**fields, seq=seq, prev_hash=head.hash, hash=GENESIS)
            record = draft.model_copy(update={"hash": record_hash(head.hash, draft)})
            s.add(AuditRow(
                seq=seq, at=record.at, actor=record.actor, role=record.role, action=record.action,
                allowed=record.allowed, record_ids=list(record.record_ids), purpose=record.purpose,
                recipient=record.recipient, prev_hash=record.prev_hash, hash=record.hash,
            ))
            head.seq, head.hash = seq, record.hash
            if (seq + 1) % self.checkpoint_every == 0:
                checkpoint = self._checkpoint(s, seq + 1, record.hash, record.at)
        return record, checkpoint

    def checkpoint_now(self) -> Checkpoint | None:
        """Sign the chain as it stands (None while it is empty); call it on shutdown and
        every few minutes, so that little can be cut off the end unnoticed."""
        with self.store.session() as s:
            head = _lock_head(s)
            if head.seq < 0:
                return None
            count = head.seq + 1
            row = s.get(AuditCheckpointRow, count)
            if row is not None:
                return Checkpoint(row.count, row.hash, row.signature, row.at)
            checkpoint = self._checkpoint(s, count, head.hash, utcnow())
        _witness(checkpoint)
        return checkpoint

    def _checkpoint(self, s: Session, count: int, head_hash: str, at: datetime) -> Checkpoint:
        cp = Checkpoint(count, head_hash, sign_checkpoint(self.key, count, head_hash), at)
        s.add(AuditCheckpointRow(count=count, at=at, hash=head_hash, signature=cp.signature))
        return cp


def _witness(cp: Checkpoint) -> None:
    """Log a committed checkpoint: a witness, outside the database, of what the chain was."""
    log.info("audit.checkpoint", count=cp.count, hash=cp.hash, signature=cp.signature)


def _begin(s: Session, write: bool) -> None:
    """Start the transaction so that it sees one state of the chain: on SQLite a write
    takes the database lock at once (BEGIN IMMEDIATE) and a read a snapshot; on PostgreSQL
    a read runs at REPEATABLE READ (a write locks the head row instead)."""
    dialect = s.get_bind().dialect.name
    if dialect == "sqlite":
        dbapi = s.connection().connection.dbapi_connection
        if not getattr(dbapi, "in_transaction", False):
            s.execute(text("BEGIN IMMEDIATE" if write else "BEGIN"))
    elif not write:
        s.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def _lock_head(s: Session) -> AuditHeadRow:
    _begin(s, write=True)
    head = s.scalars(select(AuditHeadRow).where(AuditHeadRow.id == 1).with_for_update()).one_or_none()
    if head is None:  # the first append ever: start after whatever the table holds
        last = s.scalars(select(AuditRow).order_by(AuditRow.seq.desc()).limit(1)).one_or_none()
        head = AuditHeadRow(id=1, seq=last.seq if last else -1, hash=last.hash if last else GENESIS)
        s.add(head)
        s.flush()
    return head


# ---------------------------------------------------------------------------------------
# Reading back


class StoredChain(NamedTuple):
    """The audit tables read in one snapshot."""

    records: list[AuditRecord]
    checkpoints: list[Checkpoint]
    head: tuple[int, str] | None


def read_stored_chain(store: Store) -> StoredChain:
    """Every audit record (by seq, as stored, unvalidated so a mangled row is still
    checked), every checkpoint and the head row, in one consistent read."""
    with store.session() as s:
        _begin(s, write=False)
        records = [
            AuditRecord.model_construct(
                seq=r.seq, at=r.at, actor=r.actor, role=r.role, action=r.action, allowed=r.allowed,
                record_ids=tuple(r.record_ids or ()), purpose=r.purpose, recipient=r.recipient,
                prev_hash=r.prev_hash, hash=r.hash,
            )
            for r in s.scalars(select(AuditRow).order_by(AuditRow.seq))
        ]
        checkpoints = [
            Checkpoint(c.count, c.hash, c.signature, c.at)
            for c in s.scalars(select(AuditCheckpointRow).order_by(AuditCheckpointRow.count))
        ]
        head_row = s.get(AuditHeadRow, 1)
        head = (head_row.seq, head_row.hash) if head_row is not None else None
    return StoredChain(records, checkpoints, head)


def verify_store(store: Store, key: bytes) -> VerifyReport:
    """Verify the store's chain, checkpoints and head; set the chain metrics."""
    chain = read_stored_chain(store)
    report = verify(chain.records, chain.checkpoints, key, chain.head)
    database = store.engine.dialect.name
    AUDIT_CHAIN_OK.labels(store=database).set(1 if report.ok else 0)
    AUDIT_CHAIN_CHECKED.labels(store=database).set(time.time())
    return report


async def read_audit_topic(settings: Settings) -> list[AuditRecord]:
    """The copy of the chain on the ``audit`` topic, read to its end, in seq order.

    The topic is spread over partitions by actor, so seq, not offsets, gives the order.
    A record delivered twice (a producer's retry) is kept once. A message that is not
    valid is kept as far as it reads, so that verifying it names it.
    """
    from engine.broker import read_to_end

    found: dict[tuple[int, str, str], AuditRecord] = {}
    for message in await read_to_end(settings.kafka.bootstrap_servers, settings.topics.name("audit")):
        try:
            record = AuditRecord.model_validate_json(message.value or b"")
        except ValidationError:
            try:
                data = json.loads(message.value or b"")
            except ValueError:
                data = None
            if not isinstance(data, dict):
                log.warning("audit.unreadable", partition=message.partition, offset=message.offset)
                continue
            record = AuditRecord.model_construct(**data)
        found.setdefault((_as_int(record.seq), str(record.hash), canonical_json(record)), record)
    return sorted(found.values(), key=lambda r: _as_int(r.seq))


def compare_copies(stored: Sequence[AuditRecord], topic: Sequence[AuditRecord]) -> list[Finding]:
    """Where the topic's copy and the store's chain disagree, up to the topic's newest
    record (the store may already hold records not yet published). Read the topic
    first, then the store. Runs of consecutive records are named once."""
    mine = {_as_int(r.seq): r for r in stored}
    theirs = {_as_int(r.seq): r for r in topic}
    upto = max(theirs, default=-1)
    problems: list[tuple[int, str]] = []
    for seq in sorted(set(mine) | set(theirs)):
        if seq > upto:
            break
        a, b = mine.get(seq), theirs.get(seq)
        if a is None:
            problems.append((seq, "on the audit topic but not in the database"))
        elif b is None:
            problems.append((seq, "in the database but not on the audit topic"))
        elif (a.hash, a.prev_hash, canonical_json(a)) != (b.hash, b.prev_hash, canonical_json(b)):
            problems.append((seq, "different in the database and on the audit topic"))
    findings: list[Finding] = []
    i = 0
    while i < len(problems):
        j = i
        while j + 1 < len(problems) and problems[j + 1] == (problems[j][0] + 1, problems[i][1]):
            j += 1
        first, last = problems[i][0], problems[j][0]
        verb = "is" if first == last else "are"
        findings.append(Finding("differs", first, f"{_span(first, last)} {verb} {problems[i][1]}", last))
        i = j + 1
    return findings



async def last_seq_on_topic(settings: Settings) -> int:
    """The seq of the newest record on the (single-partition) ``audit`` topic; -1 when it is
    empty or its last record does not read. BrokerError when Kafka cannot be reached."""
    from aiokafka import TopicPartition

    from engine.broker import started_consumer

    consumer = await started_consumer(settings.kafka.bootstrap_servers)
    try:
        tp = TopicPartition(settings.topics.name("audit"), 0)
        consumer.assign([tp])
        end = (await consumer.end_offsets([tp]))[tp]
        if end == 0:
            return -1
        consumer.seek(tp, end - 1)
        message = await asyncio.wait_for(consumer.getone(tp), timeout=10)
        try:
            return AuditRecord.model_validate_json(message.value or b"").seq
        except ValidationError:
            return -1
    finally:
        await consumer.stop()


def records_after(store: Store, seq: int, since: datetime | None = None) -> list[AuditRecord]:
    """The store's records after ``seq`` (and written since ``since``), in order, as they
    are: not validated, so that a tampered row cannot break the pages that help find it."""
    query = select(AuditRow).where(AuditRow.seq > seq).order_by(AuditRow.seq)
    if since is not None:
        query = query.where(AuditRow.at >= since)
    with store.session() as s:
        rows = s.scalars(query)
        return [AuditRecord.model_construct(**{c: getattr(r, c) for c in _ROW_FIELDS}) for r in rows]


_ROW_FIELDS = ("seq", "at", "actor", "role", "action", "allowed", "record_ids", "purpose", "recipient",
               "prev_hash", "hash")
