"""Replay raw message files through the in-process pipeline."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from engine.messages import RawMessage
from engine.pipeline import Pipeline, PipelineResult
from engine.settings import Settings


def read_messages(files: Iterable[Path]) -> Iterator[RawMessage]:
    """One raw message per non-empty line, bytes as written (line ending removed)."""
    for path in files:
        with path.open("rb") as fh:
            for line in fh:
                value = line.rstrip(b"\r\n")
                if value:
                    yield RawMessage(value=value)


def replay_files(files: Iterable[Path], settings: Settings) -> PipelineResult:
    """Every stage over every message of the files, in file order."""
    return Pipeline(settings).run(read_messages(files), batch_size=settings.worker.batch_size)
