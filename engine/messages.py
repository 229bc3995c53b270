"""Kafka messages as every stage receives them, and the dead letters made from them."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from pydantic import ValidationError

from engine.errors import InvalidMessage
from schemas import DeadLetter, Event
from schemas.deadletter import PAYLOAD_LIMIT, Stage

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One message as it came off a topic (or a line of a file, with no topic)."""

    value: bytes
    key: bytes | None = None
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    timestamp_ms: int | None = None

    def received_at(self) -> datetime:
        """The broker's timestamp when there is one, else now (file replay).

        Raises InvalidMessage when the timestamp is not a representable time.
        """
        if self.timestamp_ms is not None and self.timestamp_ms > 0:
            try:
                return datetime.fromtimestamp(self.timestamp_ms / 1000, tz=UTC)
            except (ValueError, OverflowError, OSError):
                raise InvalidMessage(
                    "invalid_timestamp", "the message's broker timestamp is not a valid time"
                ) from None
        return datetime.now(tz=UTC)


@dataclass
class EventBatch:
    """What a parsing stage made of a batch: events in input order, the message each
    came from, and the messages refused."""

    events: list[Event] = field(default_factory=list)
    sources: list[RawMessage] = field(default_factory=list)
    deadletters: list[DeadLetter] = field(default_factory=list)


@dataclass
class FeedResult:
    """What a feed parser made of one raw message that may hold many records (an EDIFACT
    interchange, a burst of AIS sentences): events and refusals, each with the bytes of the
    part it came from (the whole message, or one sentence group), in input order."""

    events: list[tuple[Event, bytes]] = field(default_factory=list)
    refused: list[tuple[bytes, str, str]] = field(default_factory=list)


_UNH_TYPE = re.compile(rb"UNH.{1,40}?(PAXLST|PNRGOV)", re.DOTALL)


def looks_like_edifact(value: bytes) -> bool:
    """True when a message starts like an EDIFACT interchange (UNA or UNB, after any
    byte-order mark or whitespace).

    >>> looks_like_edifact(b"\\xef\\xbb\\xbf\\r\\nUNB+UNOA:4"), looks_like_edifact(b'{"mode": 1}')
    (True, False)
    """
    return value[:16].removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")[:3] in (b"UNA", b"UNB")


def edifact_message_type(value: bytes) -> str | None:
    """``paxlst`` or ``pnrgov`` as the first message header (UNH) of an interchange
    names it; None for anything else (another EDIFACT message, or not EDIFACT)."""
    if not looks_like_edifact(value):
        return None
    found = _UNH_TYPE.search(value[:4096])
    return found.group(1).decode().lower() if found else None


def dead_letter(raw: RawMessage, stage: Stage, reason: str, detail: str) -> DeadLetter:
    """Park a message: its original bytes, where it came from, and why it was refused."""
    return DeadLetter(
        stage=stage,
        reason=reason,
        detail=detail[:1000],
        source_topic=raw.topic,
        source_partition=raw.partition,
        source_offset=raw.offset,
        source_key_b64=base64.b64encode(raw.key).decode("ascii") if raw.key is not None else None,
        payload_b64=base64.b64encode(raw.value[:PAYLOAD_LIMIT]).decode("ascii"),
        payload_truncated=len(raw.value) > PAYLOAD_LIMIT,
        payload_sha256=hashlib.sha256(raw.value).hexdigest(),
        payload_size=len(raw.value),
        dead_at=datetime.now(tz=UTC),
    )


def read_json(
    parse: Callable[[bytes], T], raw: RawMessage, stage: Stage, deadletters: list[DeadLetter]
) -> T | None:
    """``parse(raw.value)``, or None with a dead letter (``invalid_schema``) when it fails
    validation: how a stage reads a record of a topic it does not trust blindly."""
    try:
        return parse(raw.value)
    except ValidationError as exc:
        deadletters.append(dead_letter(raw, stage, "invalid_schema", describe_validation_error(exc)))
        return None


def describe_validation_error(exc: Exception, limit: int = 5) -> str:
    """Where a pydantic ValidationError failed and why, without the offending values."""
    errors = getattr(exc, "errors", None)
    if errors is None:
        return type(exc).__name__
    parts = []
    for err in errors(include_input=False, include_url=False)[:limit]:
        loc = [str(p) for p in err.get("loc", ())]
        if err.get("type") == "extra_forbidden" and loc:
            # The name of an unknown field is producer input and may itself be
            # personal data; say where, not what.
            loc[-1] = "<unknown field>"
        parts.append(f"{'.'.join(loc) or '(root)'}: {err.get('type')}")
    return "; ".join(parts)
