"""The normalise stage: a batch of raw messages in, events and dead letters out."""

from __future__ import annotations

from collections.abc import Sequence

from engine.errors import InvalidMessage
from engine.messages import EventBatch, RawMessage, dead_letter
from engine.normalise.json_events import parse_json_event


def mode_of_topic(topic: str | None, kind: str = "raw") -> str | None:
    """``raw.vessel`` (or ``events.vessel`` with kind="events", any prefix) -> ``vessel``.

    None when the topic is not of that kind or names no feed.
    """
    if topic is None:
        return None
    base = topic.rsplit(f"{kind}.", 1)
    return base[1] if len(base) == 2 and base[1] in ("passenger", "freight", "vessel") else None


def normalise_batch(messages: Sequence[RawMessage], max_bytes: int = 1_000_000) -> EventBatch:
    """Turn raw messages into typed events. Never raises: a bad message becomes a dead letter."""
    result = EventBatch()
    for raw in messages:
        try:
            if not raw.value:
                raise InvalidMessage("empty", "message has no bytes")
            if len(raw.value) > max_bytes:
                raise InvalidMessage("too_large", f"{len(raw.value)} bytes, limit {max_bytes}")
            result.events.append(parse_json_event(raw, mode_of_topic(raw.topic)))
            result.sources.append(raw)
        except InvalidMessage as exc:
            result.deadletters.append(dead_letter(raw, "normalise", exc.reason, exc.detail))
        except Exception as exc:  # a parser bug must not stop the worker
            result.deadletters.append(
                dead_letter(raw, "normalise", "parser_error", type(exc).__name__)
            )
    return result
