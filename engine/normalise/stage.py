"""The normalise stage: a batch of raw messages in, events and dead letters out.

A message on ``raw.vessel`` (or from a file) that starts like an NMEA sentence is
read as AIS (engine/normalise/ais.py), and may hold several reports; anything
else is read as one JSON event (engine/normalise/json_events.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from engine.errors import InvalidMessage
from engine.messages import EventBatch, RawMessage, dead_letter
from engine.normalise.ais import looks_like_nmea, parse_ais
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
            mode = mode_of_topic(raw.topic)
            if mode in ("vessel", None) and looks_like_nmea(raw.value):
                _take_ais(raw, result)
                continue
            result.events.append(parse_json_event(raw, mode))
            result.sources.append(raw)
        except InvalidMessage as exc:
            result.deadletters.append(dead_letter(raw, "normalise", exc.reason, exc.detail))
        except Exception as exc:  # a parser bug must not stop the worker
            result.deadletters.append(
                dead_letter(raw, "normalise", "parser_error", type(exc).__name__)
            )
    return result


def _take_ais(raw: RawMessage, result: EventBatch) -> None:
    """AIS sentences: an event or a dead letter per sentence group, each with the group's bytes."""
    ais = parse_ais(raw)
    for event, group in ais.events:
        result.events.append(event)
        result.sources.append(replace(raw, value=group))
    for group, reason, detail in ais.refused:
        result.deadletters.append(dead_letter(replace(raw, value=group), "normalise", reason, detail))
