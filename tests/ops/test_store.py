"""The ops centre's store: the migrations make exactly the tables the code declares, on
SQLite and on PostgreSQL, and times come back as aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from engine.ops.store import Base, Store, UserRow


def test_migrations_make_the_declared_schema(store_url: str) -> None:
    """After the migrations, Alembic finds no difference between the database and the tables."""
    store = Store(store_url)
    try:
        with store.engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    finally:
        store.close()


def test_times_come_back_aware_and_in_utc(store_url: str) -> None:
    """A time written in any zone is read back as the same instant, in UTC."""
    store = Store(store_url)
    try:
        at = datetime(2026, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
        with store.session() as s:
            s.add(UserRow(id="u-1", name="officer1", role="officer", password_hash="x", created_at=at))
        with store.session() as s:
            got = s.scalars(select(UserRow.created_at)).one()
        assert got == at and got.tzinfo == UTC
    finally:
        store.close()


def test_naive_times_are_refused() -> None:
    """A naive datetime is a bug upstream: the store refuses it instead of guessing a zone."""
    store = Store("sqlite://")
    try:
        with pytest.raises(Exception, match="naive"), store.session() as s:
            s.add(
                UserRow(
                    id="u-1", name="n", role="officer", password_hash="x", created_at=datetime(2026, 1, 1)
                )
            )
    finally:
        store.close()


def test_the_follower_takes_a_batch_once_and_counts_travellers_once(store_url: str) -> None:
    """Alerts, their case and the traffic counts are written with the offsets after them: a
    batch given again (a redelivery) adds nothing, on SQLite and on PostgreSQL."""
    from sqlalchemy import func

    from engine.ops.store import AlertRow, CaseRow, TrafficRow
    from engine.settings import Settings
    from tests.ops.conftest import make_alert, take

    settings, store = Settings(), Store(store_url)
    try:
        alerts = [make_alert(1, case="case-x"), make_alert(2, case="case-x"), make_alert(3)]
        assert len(take(store, settings, alerts)) == 3
        assert take(store, settings, alerts) == []
        with store.session() as s:
            assert s.scalar(select(func.count()).select_from(AlertRow)) == 3
            assert s.scalar(select(func.count()).select_from(CaseRow)) == 2
            nationality = s.scalars(select(AlertRow.nationality)).all()
            assert nationality == ["USA", "USA", "USA"]
            assert s.scalar(select(func.count()).select_from(TrafficRow)) == 0  # alerts are not traffic
    finally:
        store.close()


def test_travellers_are_counted_by_group_for_fairness() -> None:
    """Each passenger event counts once into its day of arrival under every characteristic,
    unknown ones as 'unknown'."""
    from engine.ops.store import TrafficRow
    from engine.settings import Settings
    from tests.fixtures.events import normalised, passenger_doc
    from tests.ops.conftest import take

    settings, store = Settings(), Store("sqlite://")
    try:
        events = [normalised(passenger_doc(source_id=f"p{i}", traveller={"nationality": nat, "sex": sex}))
                  for i, (nat, sex) in enumerate([("USA", "F"), ("USA", "M"), ("GBR", None)])]
        take(store, settings, events, topic="events.passenger")
        with store.session() as s:
            counts = {(r.dimension, r.group): r.count for r in s.scalars(select(TrafficRow))}
        assert counts[("nationality", "USA")] == 2 and counts[("nationality", "GBR")] == 1
        assert counts[("sex", "unknown")] == 1 and counts[("sex", "F")] == 1
        assert sum(n for (d, _), n in counts.items() if d == "age_band") == 3
    finally:
        store.close()
