"""``gatehound audit``: check the audit log. engine/cli.py mounts ``audit_app`` as ``audit``."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer

#: Problems printed before the rest are only counted.
MAX_LINES = 50

audit_app = typer.Typer(
    help="The audit log of the operations centre: who saw or changed personal data, when and why, "
    "hash-chained and signed. `gatehound audit verify` checks it is whole.",
    no_args_is_help=True,
)


#: Paragraphs on one line each: Typer keeps a docstring's line breaks after the first paragraph.
VERIFY_HELP = "\n\n".join([
    "Check that the audit log is whole: no record edited, deleted, inserted, reordered or cut off.",
    "It reads the store's audit chain in order and checks each record's hash against its content "
    "(an edit), each record's link to the one before (a deletion, an insertion, records out of "
    "order), each signed checkpoint's signature (a forgery), and that the chain still holds the "
    "record each checkpoint vouches for, with the hash it signed (records cut off the end, or an "
    "edit hidden by re-hashing every later record). Checkpoints are checked with the key in "
    "GATEHOUND_OPS__AUDIT_KEY, the one the operations centre signs them with.",
    "With --topic it also reads the copy on the audit topic, checks it the same way and compares it "
    "with the store's record by record, so the store cannot be rewritten unseen by someone who "
    "cannot also rewrite Kafka.",
    "Exit codes: 0 the chain is whole (one line says how many records it holds and what the newest "
    "checkpoint vouches for); 1 problems found, each on its own line, first problem first; 2 the "
    "check could not be made (no store, no audit tables, Kafka unreachable).",
])


@audit_app.command("verify", help=VERIFY_HELP)
def verify_command(
    database: Annotated[
        str | None,
        typer.Option(
            "--database", envvar="GATEHOUND_OPS__DATABASE_URL", show_default="the ops centre's store",
            help="SQLAlchemy URL of the store: sqlite:///path/ops.db or postgresql+pg8000://user@host/db.",
        ),
    ] = None,
    topic: Annotated[
        bool,
        typer.Option("--topic", help="Also check the audit topic's copy and compare it with the store's."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as one JSON object.")] = False,
    bootstrap: Annotated[
        str | None,
        typer.Option("--bootstrap", envvar="GATEHOUND_KAFKA__BOOTSTRAP_SERVERS",
                     help="With --topic: Kafka bootstrap servers, host:port[,host:port]."),
    ] = None,
    prefix: Annotated[
        str | None,
        typer.Option("--topic-prefix", envvar="GATEHOUND_TOPICS__PREFIX",
                     help="With --topic: prefix of topic names."),
    ] = None,
) -> None:
    """Check that the audit log is whole (the command's help is VERIFY_HELP)."""
    from pydantic import ValidationError
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from engine.cli import fail
    from engine.errors import GatehoundError
    from engine.ops.store import Store
    from engine.oversight.audit import compare_copies, read_audit_topic, read_stored_chain, verify
    from engine.settings import Settings
    from schemas.audit import AuditRecord

    overrides: dict[str, Any] = {}
    if bootstrap:
        overrides["kafka"] = {"bootstrap_servers": bootstrap}
    if prefix is not None:
        overrides["topics"] = {"prefix": prefix}
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        fail(f"the settings are not valid: {exc}")
        return
    url = database or settings.ops.database_url
    try:
        parsed = make_url(url)
    except ArgumentError:
        fail("--database is not a database URL; e.g. sqlite:///.gatehound/ops.db")
        return
    shown = parsed.render_as_string(hide_password=True)
    if parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:"):
        if not Path(str(parsed.database)).is_file():
            fail(f"no store at {shown}: give --database, or start the operations centre first")
    key = settings.ops.audit_key.get_secret_value().encode()

    copy: list[AuditRecord] | None = None
    if topic:  # the topic first: the store may then be ahead of it, never behind
        try:
            copy = asyncio.run(read_audit_topic(settings))
        except GatehoundError as exc:
            fail(str(exc))
            return
    store = Store(url, upgrade=False)
    try:
        chain = read_stored_chain(store)
    except SQLAlchemyError as exc:
        fail(f"cannot read the audit log in {shown}: {str(exc).splitlines()[0][:300]}")
        return
    finally:
        store.close()

    report = verify(chain.records, chain.checkpoints, key, chain.head)
    if copy is not None:
        upto = max((r.seq for r in copy), default=-1) + 1
        own = verify(copy, [c for c in chain.checkpoints if c.count <= upto], key)
        extra = [replace(f, text=f"audit topic: {f.text}") for f in own.findings if f.kind != "forged"]
        report = replace(report, extra=(*extra, *compare_copies(chain.records, copy)))

    if as_json:
        typer.echo(json.dumps({**report.as_dict(), "topic_records": None if copy is None else len(copy)}))
    elif report.ok:
        agrees = f"; the audit topic's copy ({len(copy)} records) agrees" if copy is not None else ""
        typer.echo(report.summary() + agrees)
    else:
        lines = report.lines()
        for line in lines[:MAX_LINES]:
            typer.echo(line)
        if len(lines) > MAX_LINES:
            typer.echo(f"... and {len(lines) - MAX_LINES} more problems (--json lists them all)")
    raise typer.Exit(0 if report.ok else 1)
