"""Alembic's entry point: runs the migrations on the connection or URL the caller gave
(engine.ops.store.migrate)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from engine.ops.store import Base, make_engine

config = context.config


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


given = config.attributes.get("connection")
if given is not None:
    run(given)
else:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no store URL: call engine.ops.store.migrate(url)")
    engine = make_engine(url)
    with engine.begin() as connection:
        run(connection)
    engine.dispose()
