"""Replay raw feed files through the in-process pipeline: no broker, the workers' stages."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from engine.feedback.outcomes import OutcomeSource
from engine.ingest.files import NOT_TRAFFIC, file_format, read_file
from engine.ingest.files import UnknownFormat as UnknownFormat
from engine.messages import RawMessage
from engine.pipeline import Pipeline, PipelineResult
from engine.settings import Settings


def read_messages(
    files: Iterable[Path], fmt: str | None = None, skipped: list[Path] | None = None
) -> Iterator[RawMessage]:
    """The messages of every file, in file order, as ``gatehound ingest`` would publish them.

    A file of a format that cannot be told (and no ``fmt``) is read one message per
    line with no topic, so each bad line becomes a dead letter; a simulator's truth or
    watchlist file is not traffic, and is left out (and listed in ``skipped``).
    """
    for path in files:
        try:
            found = fmt or file_format(path)
        except UnknownFormat:
            found = None
        if found in NOT_TRAFFIC:
            if skipped is not None:
                skipped.append(path)
            continue
        if found is None:
            with path.open("rb") as fh:
                for line in fh:
                    value = line.rstrip(b"\r\n")
                    if value:
                        yield RawMessage(value=value)
            continue
        for message in read_file(path, found):
            yield message.raw()


def watchlist_files(files: Iterable[Path]) -> list[Path]:
    """The files among these that hold watchlists (FollowTheMoney entities)."""
    out = []
    for path in files:
        try:
            if file_format(path) == "watchlist":
                out.append(path)
        except UnknownFormat:
            continue
    return out


def replay_files(
    files: Iterable[Path],
    settings: Settings,
    fmt: str | None = None,
    skipped: list[Path] | None = None,
    keep_links: bool = False,
    outcomes: OutcomeSource | None = None,
) -> PipelineResult:
    """Every stage over every message of the files, in file order; with ``outcomes``,
    in the order the events happened, learning from the outcomes as they come due.
    Watchlist files among them are screened against, on top of the configured lists."""
    files = list(files)
    lists = watchlist_files(files) if fmt is None else []
    if lists:
        screening = settings.screening.model_copy(
            update={"watchlists": [*settings.screening.watchlists, *map(str, lists)]}
        )
        settings = settings.model_copy(update={"screening": screening})
    pipeline = Pipeline(settings, keep_links, outcomes)
    messages = read_messages(files, fmt, skipped)
    if outcomes is not None:
        return pipeline.run_in_time_order(messages, batch_size=settings.worker.batch_size)
    return pipeline.run(messages, batch_size=settings.worker.batch_size)
