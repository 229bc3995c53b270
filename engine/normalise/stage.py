"""The normalise stage: a batch of raw messages in, events and dead letters out.

Which parser reads a message is told from its first bytes and its topic:

================================ ================ ==========================================
message starts with              on topic         read as
================================ ================ ==========================================
``UNA``/``UNB``, UNH type PAXLST raw.passenger    API manifest (engine/normalise/paxlst.py)
``UNA``/``UNB``, UNH type PNRGOV raw.passenger    PNR push (engine/normalise/pnrgov.py)
``!`` or a tag block ``\\``       raw.vessel       AIS NMEA (engine/normalise/ais.py)
a JSON object with no ``mode``   raw.freight      consignment declaration
(from a file: one with           (or none)        (engine/normalise/declaration.py)
``declaration_id``)
a JSON object with ``mode``      any raw.*        a normalised event (json_events.py)
================================ ================ ==========================================

A message read from a file has no topic and may be any of them. An EDIFACT
interchange or an AIS burst may hold many records: each gives an event or a dead
letter of its own, so one bad traveller or sentence does not cost the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from engine.errors import InvalidMessage
from engine.messages import (
    EventBatch,
    FeedResult,
    RawMessage,
    dead_letter,
    edifact_message_type,
    looks_like_edifact,
)
from engine.normalise.ais import looks_like_nmea, parse_ais
from engine.normalise.declaration import parse_declaration
from engine.normalise.json_events import parse_json_event
from engine.normalise.paxlst import parse_paxlst
from engine.normalise.pnrgov import parse_pnrgov

#: Card-number hash key of demos and tests (settings.privacy.card_hash_key in workers).
DEMO_CARD_KEY = b"gatehound-demo-card-key"


def mode_of_topic(topic: str | None, kind: str = "raw") -> str | None:
    """``raw.vessel`` (or ``events.vessel`` with kind="events", any prefix) -> ``vessel``.

    None when the topic is not of that kind or names no feed.
    """
    if topic is None:
        return None
    base = topic.rsplit(f"{kind}.", 1)
    return base[1] if len(base) == 2 and base[1] in ("passenger", "freight", "vessel") else None


def looks_like_declaration(value: bytes, mode: str | None) -> bool:
    """True for a JSON object that is not a normalised event (those always carry "mode"):
    on raw.freight, any; from a file, one that names a declaration id."""
    if value[:16].lstrip()[:1] != b"{" or b'"mode"' in value:
        return False
    return mode == "freight" or b'"declaration_id"' in value


def normalise_batch(
    messages: Sequence[RawMessage], max_bytes: int = 1_000_000, card_key: bytes = DEMO_CARD_KEY
) -> EventBatch:
    """Turn raw messages into typed events. Never raises: a bad message becomes a dead letter."""
    result = EventBatch()
    for raw in messages:
        try:
            if not raw.value:
                raise InvalidMessage("empty", "message has no bytes")
            if len(raw.value) > max_bytes:
                raise InvalidMessage("too_large", f"{len(raw.value)} bytes, limit {max_bytes}")
            mode = mode_of_topic(raw.topic)
            feed = _feed(raw, mode, card_key)
            if feed is not None:
                _take(raw, feed, result)
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


def _feed(raw: RawMessage, mode: str | None, card_key: bytes) -> FeedResult | None:
    """The result of the feed parser this message is for; None for a normalised JSON event."""
    value = raw.value
    if mode in ("passenger", None) and looks_like_edifact(value):
        kind = edifact_message_type(value)
        if kind is None:
            raise InvalidMessage("edifact_unknown_message", "no PAXLST or PNRGOV message header (UNH)")
        if kind == "paxlst":
            return parse_paxlst(raw)
        return parse_pnrgov(raw, card_key=card_key)
    if mode in ("vessel", None) and looks_like_nmea(value):
        return parse_ais(raw)
    if mode in ("freight", None) and looks_like_declaration(value, mode):
        return parse_declaration(raw)
    return None


def _take(raw: RawMessage, feed: FeedResult, result: EventBatch) -> None:
    """A feed parser's events and refusals, each with the bytes of its own part of the message."""
    for event, part in feed.events:
        result.events.append(event)
        result.sources.append(raw if part is raw.value else replace(raw, value=part))
    for part, reason, detail in feed.refused:
        result.deadletters.append(dead_letter(replace(raw, value=part), "normalise", reason, detail))
