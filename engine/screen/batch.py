"""Screening names from a file, as ``gatehound screen --names`` does.

Input is JSON lines, one name a line::

    {"id": "t-1", "name": "Ivan Petrov", "birth_date": "1971-03-02", "nationality": "RUS",
     "document_number": "72 1234567"}

``id`` and ``name`` are required; the rest is optional. ``kind`` may say
``person`` (the default: people, and listed documents by number),
``organisation``, ``vessel`` (then ``imo`` and ``mmsi`` are read too) or
``any`` (a name against every kind of listed entry). Output is one line per
input line, in the same order::

    {"id": "t-1", "matches": [{"entity_id": "...", "list": "wanted", "list_version": "...",
                               "schema": "Person", "score": 0.93, "explanation": "..."}]}

A bad input line (not JSON, no ``id`` or ``name``, a birth date that is not a
date) is skipped and reported with its line number and what is wrong, never
with its content.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from engine.screen.screener import Match, Screener
from engine.screen.watchlist import BadLine, PartialDate, json_line

KINDS = ("person", "organisation", "vessel", "any")


@dataclass(frozen=True, slots=True)
class ScreenedLine:
    """The result for one input line."""

    id: str
    matches: tuple[Match, ...]

    def to_json(self) -> bytes:
        """The output line (without its newline)."""
        return orjson.dumps({"id": self.id, "matches": [m.as_dict() for m in self.matches]})


def _text(doc: dict[str, Any], key: str) -> str | None:
    value = doc.get(key)
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def _problem(doc: Any) -> str | None:
    if not isinstance(doc, dict):
        return "not a JSON object"
    if _text(doc, "id") is None:
        return 'no "id"'
    kind = doc.get("kind", "person")
    if kind not in KINDS:
        return f'"kind" is not one of {", ".join(KINDS)}'
    if _text(doc, "name") is None and not (
        _text(doc, "document_number") or _text(doc, "imo") or _text(doc, "mmsi")
    ):
        return 'no "name" (nor a document number, IMO or MMSI)'
    born = _text(doc, "birth_date")
    if born is not None and PartialDate.parse(born) is None:
        return '"birth_date" is not a date (YYYY-MM-DD, YYYY-MM or YYYY)'
    return None


def screen_line(screener: Screener, doc: dict[str, Any], threshold: float | None, limit: int) -> ScreenedLine:
    """Screen one parsed (and checked) input line."""
    name = _text(doc, "name")
    kind = doc.get("kind", "person")
    matches: list[Match]
    if kind == "organisation":
        matches = screener.screen_organisation(
            name, _text(doc, "country") or _text(doc, "nationality"), _text(doc, "registration_number"),
            threshold, limit,
        )
    elif kind == "vessel":
        matches = screener.screen_vessel(
            name, _text(doc, "imo"), _text(doc, "mmsi"), _text(doc, "flag"), threshold, limit
        )
    elif kind == "any" and name:
        matches = screener.screen_any(
            name, _text(doc, "birth_date"), _text(doc, "nationality"), _text(doc, "document_number"),
            threshold, limit,
        )
    else:
        matches = screener.screen_person(
            [name] if name else [], _text(doc, "birth_date"), _text(doc, "nationality"),
            _text(doc, "document_number"), threshold, limit,
        )
    return ScreenedLine(str(_text(doc, "id")), tuple(matches))


def screen_lines(
    screener: Screener, lines: Iterable[bytes], bad: list[BadLine], threshold: float | None = None,
    limit: int = 10,
) -> Iterator[ScreenedLine]:
    """Screen JSON lines; each bad line is appended to ``bad`` and skipped."""
    for number, line in enumerate(lines, start=1):
        doc = json_line(number, line, _problem, bad)
        if doc is not None:
            yield screen_line(screener, doc, threshold, limit)


def describe(matches: Iterable[Match]) -> str:
    """Matches as a few readable lines, for a terminal."""
    out = []
    for m in matches:
        out.append(f"{m.score:.2f}  {m.entity_id}  [{m.list} {m.list_version}, {m.schema}]")
        out.append(f"      {m.explanation}")
    return "\n".join(out) if out else "no match"
