"""Export every contract's JSON Schema to schemas/json/, and find protected fields.

Run ``python -m schemas.export`` after changing a model; a test fails while the
files on disk and the models disagree.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from schemas import CONTRACTS
from schemas.common import PERSONAL_KEY, PROTECTED_KEY, Record

JSON_DIR = Path(__file__).parent / "json"


def schema_text(model: type[Record]) -> str:
    """The JSON Schema of a model, as the exact text we keep on disk."""
    return json.dumps(model.model_json_schema(mode="validation"), indent=2, sort_keys=True) + "\n"


def export(directory: Path = JSON_DIR) -> list[Path]:
    """Write one ``<Name>.schema.json`` per contract; return the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model in CONTRACTS.items():
        path = directory / f"{name}.schema.json"
        path.write_text(schema_text(model), encoding="utf-8")
        written.append(path)
    return written


def protected_paths(model: type[Record]) -> set[str]:
    """Dotted paths of every field marked protected in a model, nested models included.

    >>> from schemas import PassengerEvent
    >>> sorted(protected_paths(PassengerEvent))
    ['traveller.date_of_birth', 'traveller.nationality', 'traveller.sex']
    """
    return marked_paths(model, PROTECTED_KEY)


def personal_paths(model: type[Record]) -> set[str]:
    """Dotted paths of every field marked as personal data, nested models included.

    >>> from schemas import FreightEvent
    >>> sorted(p for p in personal_paths(FreightEvent) if p.startswith("consignee"))
    ['consignee.address', 'consignee.email', 'consignee.name', 'consignee.phone']
    """
    return marked_paths(model, PERSONAL_KEY)


def marked_paths(model: type[Record], key: str) -> set[str]:
    """Dotted paths of every field whose JSON Schema carries ``key``, nested models included."""
    schema = model.model_json_schema(mode="validation")
    defs: dict[str, Any] = schema.get("$defs", {})
    found: set[str] = set()

    def walk(node: dict[str, Any], prefix: str, seen: frozenset[str]) -> None:
        for name, prop in node.get("properties", {}).items():
            path = f"{prefix}{name}"
            if prop.get(key):
                found.add(path)
            for ref in _refs(prop):
                target = ref.rsplit("/", 1)[-1]
                if target not in seen:
                    walk(defs[target], f"{path}.", seen | {target})

    walk(schema, "", frozenset())
    return found


def _refs(prop: dict[str, Any]) -> list[str]:
    refs = []
    if "$ref" in prop:
        refs.append(prop["$ref"])
    for key in ("anyOf", "oneOf", "allOf"):
        for option in prop.get(key, []):
            refs.extend(_refs(option))
    if isinstance(prop.get("items"), dict):
        refs.extend(_refs(prop["items"]))
    return refs


if __name__ == "__main__":
    for written_path in export():
        print(written_path)
