"""Normalised JSON events: the format of ``raw.*`` until the real feed parsers land.

A message is one JSON object shaped like a ``PassengerEvent``, ``FreightEvent`` or
``VesselEvent`` with ``mode`` saying which. We set ``event_id`` (deterministic,
from mode, source and source id) and ``received_at`` (the broker's timestamp)
ourselves, so a producer cannot forge them and a replay reproduces them.
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError

from engine.errors import InvalidMessage
from engine.messages import RawMessage, describe_validation_error
from schemas import Event, stable_id

_EVENT = TypeAdapter(Event)
_MODES = ("passenger", "freight", "vessel")


def parse_json_event(raw: RawMessage, expected_mode: str | None) -> Event:
    """Parse and validate one JSON event; raise InvalidMessage with a reason otherwise."""
    try:
        doc: Any = orjson.loads(raw.value)
    except orjson.JSONDecodeError as exc:
        raise InvalidMessage("invalid_json", f"not valid JSON at char {exc.pos}") from None
    if not isinstance(doc, dict):
        raise InvalidMessage("not_an_object", f"expected a JSON object, got {type(doc).__name__}")
    mode = doc.get("mode")
    if mode not in _MODES:
        raise InvalidMessage("unknown_mode", "field 'mode' must be passenger, freight or vessel")
    if expected_mode is not None and mode != expected_mode:
        raise InvalidMessage("mode_mismatch", f"a {mode} event on the {expected_mode} feed")
    source = doc.get("source")
    source_id = doc.get("source_id")
    if not isinstance(source, str) or not isinstance(source_id, str) or not source_id:
        raise InvalidMessage("invalid_schema", "source and source_id must be non-empty strings")
    doc["event_id"] = stable_id(mode, source, source_id)
    doc["received_at"] = raw.received_at().isoformat()
    try:
        return _EVENT.validate_python(doc)
    except ValidationError as exc:
        raise InvalidMessage("invalid_schema", describe_validation_error(exc)) from None
