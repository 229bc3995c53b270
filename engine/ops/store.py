"""The operations centre's store: alerts, cases, outcomes, users, sessions, audit, links.

SQLAlchemy 2 over SQLite by default and PostgreSQL in production (the pure-Python
pg8000 driver: ``postgresql+pg8000://``). The schema is made by the Alembic migrations
in ``engine/ops/migrations``, never by ``create_all``: the tables here and the
migrations are checked against each other by a test.

Personal data lives in two places only: an alert's ``body`` (the alert with its source
event) and a link's ``holder``. Everything else here is ids, codes, times and counts,
so that pages and audit records can be built without touching it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    create_engine,
    event,
)
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import StaticPool

MIGRATIONS = Path(__file__).with_name("migrations")


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store: times are UTC and aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """The tables of the store."""


class UserRow(Base):
    """A person who logs in. ``id`` is what records and topics name; ``name`` is the login."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class SessionRow(Base):
    """A login. The cookie carries a random token; only its hash is kept."""

    __tablename__ = "sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class CaseRow(Base):
    """Alerts on one subject, from any mode: what officers act on."""

    __tablename__ = "cases"

    case_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    subject: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(20), default="new")
    assignee_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    priority: Mapped[float] = mapped_column(Float, default=0.0)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AlertRow(Base):
    """An alert as taken from the ``alerts`` topic. ``seq`` orders the live feed and is the
    event id a browser resumes from."""

    __tablename__ = "alerts"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(String(200), unique=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.case_id"), index=True)
    event_id: Mapped[str] = mapped_column(String(200), index=True)
    mode: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(20))
    score: Mapped[float] = mapped_column(Float)
    priority: Mapped[float] = mapped_column(Float, index=True)
    typology: Mapped[str | None] = mapped_column(String(100))
    port: Mapped[str | None] = mapped_column(String(10), doc="Where it arrives: IATA airport or UN/LOCODE.")
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime)
    arrives_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    stored_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    rules: Mapped[list[str]] = mapped_column(JSON, default=list, doc="Live rules that found something.")
    models: Mapped[list[str]] = mapped_column(JSON, default=list, doc="Champion models that scored >= 0.5.")
    # Protected characteristics, kept for fairness oversight only (never shown unmasked
    # without a reveal, never used to rank).
    nationality: Mapped[str | None] = mapped_column(String(3))
    sex: Mapped[str | None] = mapped_column(String(1))
    age_band: Mapped[str | None] = mapped_column(String(10))
    body: Mapped[dict[str, Any]] = mapped_column(JSON, doc="The alert record with its source event.")


class CaseEventRow(Base):
    """One step in a case's history: who did what, when. No personal data."""

    __tablename__ = "case_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.case_id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    actor_id: Mapped[str | None] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(String(500), default="")


def note_case(
    session: Session, case_id: str, action: str, detail: str = "", actor_id: str | None = None,
    at: datetime | None = None,
) -> None:
    """Add a step to a case's history (``actor_id`` None for the engine's own steps)."""
    session.add(CaseEventRow(case_id=case_id, at=at or utcnow(), actor_id=actor_id, action=action,
                             detail=detail))


class OutcomeRow(Base):
    """What an intervention on an alert found, as recorded by an officer."""

    __tablename__ = "outcomes"

    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.alert_id"), primary_key=True)
    result: Mapped[str] = mapped_column(String(20))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recorded_by: Mapped[str] = mapped_column(String(40))
    seizures: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AuditRow(Base):
    """One audit record (schemas.AuditRecord), chained to the one before by its hash."""

    __tablename__ = "audit"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(100), index=True)
    role: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(60))
    allowed: Mapped[bool] = mapped_column(Boolean, default=True)
    record_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    purpose: Mapped[str | None] = mapped_column(String(500))
    recipient: Mapped[str | None] = mapped_column(String(200))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHeadRow(Base):
    """The chain's head, one row: locked while a record is appended, so appends from
    several processes stay in one order."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpointRow(Base):
    """A signed statement: the chain had ``count`` records, the last with hash ``hash``."""

    __tablename__ = "audit_checkpoints"

    count: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    hash: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(64))


class LinkRow(Base):
    """One identifier used by one event (schemas.Link), for the network behind an alert."""

    __tablename__ = "links"
    __table_args__ = (Index("ix_links_use", "identifier", "event_id", "holder", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    identifier: Mapped[str] = mapped_column(String(100), index=True)
    event_id: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    mode: Mapped[str] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(20))
    holder: Mapped[str] = mapped_column(String(120))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TrafficRow(Base):
    """How many events of a group passed on a day: the denominator of fairness rates."""

    __tablename__ = "traffic"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    mode: Mapped[str] = mapped_column(String(20), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(20), primary_key=True)
    group: Mapped[str] = mapped_column(String(20), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class FeedOffsetRow(Base):
    """Where the store has read each topic partition to: written in the same transaction as
    what was read, so a restart neither skips nor counts twice."""

    __tablename__ = "feed_offsets"

    topic: Mapped[str] = mapped_column(String(200), primary_key=True)
    partition: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    next_offset: Mapped[int] = mapped_column(Integer)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for a store URL; a SQLite file's folder is made if missing. ``sqlite://``
    is a store in memory, gone with the process (for tests and trials)."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"check_same_thread": False})
        else:  # in memory: one connection, or each would see its own empty database
            engine = create_engine(url, connect_args={"check_same_thread": False}, poolclass=StaticPool)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def migrate(url: str | Engine, revision: str = "head") -> None:
    """Bring the store at ``url`` (or on an engine) to ``revision`` with the Alembic migrations."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if isinstance(url, str):
        config.attributes["url"] = url
        command.upgrade(config, revision)
        return
    with url.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


class Store:
    """The store at one URL: sessions to read and write it in."""

    def __init__(self, url: str, *, upgrade: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url)
        if upgrade:
            migrate(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back when it raises."""
        with self._sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        """Release the store's connections."""
        self.engine.dispose()
