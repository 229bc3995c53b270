"""Masking personal data for display: what an officer sees until they state a purpose.

What is personal is marked in the contracts themselves (``personal()`` in
schemas/common.py, ``x-personal`` in the JSON Schema), so a field added to a
contract is masked the day it is marked, with no list to keep in step here.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from schemas import FreightEvent, PassengerEvent, Record, VesselEvent
from schemas.export import personal_paths

MASK = "•••"

_CONTRACTS: dict[str, type[Record]] = {
    "passenger": PassengerEvent, "freight": FreightEvent, "vessel": VesselEvent,
}


@cache
def event_personal_paths(mode: str) -> frozenset[str]:
    """The dotted paths of personal data in an event of a mode."""
    contract = _CONTRACTS.get(mode)
    return frozenset(personal_paths(contract)) if contract else frozenset()


def mask_paths(data: dict[str, Any], paths: frozenset[str]) -> dict[str, Any]:
    """A copy of ``data`` with the value at each dotted path replaced by the mask (an
    empty or absent value stays as it is: that there is none is not personal).

    >>> mask_paths({"a": {"b": "x", "c": 1}, "d": []}, frozenset({"a.b", "d"}))
    {'a': {'b': '•••', 'c': 1}, 'd': []}
    """
    heads: dict[str, set[str]] = {}
    for path in paths:
        head, _, rest = path.partition(".")
        heads.setdefault(head, set()).add(rest)
    out = dict(data)
    for head, rests in heads.items():
        value = out.get(head)
        if value in (None, "", [], ()):
            continue
        if "" in rests:
            out[head] = MASK
        elif isinstance(value, dict):
            out[head] = mask_paths(value, frozenset(rests))
    return out


def mask_event(event: dict[str, Any]) -> dict[str, Any]:
    """An event (as JSON) with its personal data masked, by its mode's contract."""
    return mask_paths(event, event_personal_paths(str(event.get("mode", ""))))
