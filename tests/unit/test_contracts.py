"""The contracts in schemas/: exported JSON Schema, versions, protected fields, ids, strictness."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from schemas import (
    CONTRACTS,
    PROTECTED_KEY,
    SCHEMA_VERSION,
    FreightEvent,
    PassengerEvent,
    VesselEvent,
    stable_id,
)
from schemas.common import Record
from schemas.export import JSON_DIR, personal_paths, protected_paths, schema_text
from tests.fixtures.events import normalised, passenger_doc

PASSENGER_PROTECTED = {"traveller.date_of_birth", "traveller.nationality", "traveller.sex"}


def _schema_file(name: str) -> dict[str, Any]:
    return json.loads((JSON_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))


def _resolve(schema: dict[str, Any], dotted: str) -> dict[str, Any]:
    """The property a dotted path names in an exported schema, following $ref into $defs."""
    node = schema
    for part in dotted.split("."):
        prop = node["properties"][part]
        refs = [prop] + prop.get("anyOf", [])
        target = next((r["$ref"] for r in refs if "$ref" in r), None)
        node = schema["$defs"][target.rsplit("/", 1)[-1]] if target else prop
    return prop


def _nested_models(model: type[BaseModel]) -> set[type[BaseModel]]:
    """A model and every model reachable through its fields' annotations."""
    found: set[type[BaseModel]] = set()
    todo: list[Any] = [model]
    while todo:
        item = todo.pop()
        if isinstance(item, type) and issubclass(item, BaseModel):
            if item in found:
                continue
            found.add(item)
            todo.extend(f.annotation for f in item.model_fields.values())
        else:
            todo.extend(getattr(item, "__args__", ()))
            todo.extend(getattr(item, "__metadata__", ()))
    return found


@pytest.mark.parametrize("name", sorted(CONTRACTS))
def test_exported_schema_matches_model(name: str) -> None:
    """Each schemas/json/<Name>.schema.json is exactly what the model exports today."""
    path = JSON_DIR / f"{name}.schema.json"
    assert path.exists(), f"{path} is missing: run `make schemas`"
    assert path.read_text(encoding="utf-8") == schema_text(CONTRACTS[name]), (
        f"{path.name} has drifted from schemas/ models: run `make schemas` and commit the result"
    )


def test_no_stale_schema_files() -> None:
    """Every exported schema file belongs to a contract that still exists."""
    on_disk = {p.name.removesuffix(".schema.json") for p in JSON_DIR.glob("*.schema.json")}
    assert on_disk == set(CONTRACTS), "stale or missing files in schemas/json: run `make schemas`"


@pytest.mark.parametrize("name", sorted(CONTRACTS))
def test_every_contract_carries_schema_version(name: str) -> None:
    """Every contract has a schema_version defaulting to the current version, also on disk."""
    field = CONTRACTS[name].model_fields.get("schema_version")
    assert field is not None
    assert field.default == SCHEMA_VERSION
    assert "schema_version" in _schema_file(name)["properties"]


def test_passenger_protected_fields_are_exactly_the_characteristics() -> None:
    """PassengerEvent protects date of birth, nationality and sex, and nothing else."""
    assert protected_paths(PassengerEvent) == PASSENGER_PROTECTED


def test_protected_fields_are_marked_in_the_exported_file() -> None:
    """The exported PassengerEvent schema marks those three fields, and only those, x-protected."""
    schema = _schema_file("PassengerEvent")
    for path in sorted(PASSENGER_PROTECTED):
        assert _resolve(schema, path).get(PROTECTED_KEY) is True, path
    text = json.dumps(schema)
    assert text.count(f'"{PROTECTED_KEY}": true') == len(PASSENGER_PROTECTED)


@pytest.mark.parametrize("name", ["EnrichedEvent", "Alert"])
def test_protection_follows_the_event_into_records_that_carry_it(name: str) -> None:
    """An EnrichedEvent or an Alert carrying a passenger event exposes the same protected
    fields under event."""
    assert protected_paths(CONTRACTS[name]) == {f"event.{p}" for p in PASSENGER_PROTECTED}


def test_personal_data_is_marked_where_the_ops_centre_must_mask_it() -> None:
    """Names, birth date, document number and contact details of a traveller, and a
    trader's name and contacts, are marked personal; vessel reports hold none."""
    passenger = personal_paths(PassengerEvent)
    assert {"traveller.surname", "traveller.given_names", "traveller.date_of_birth", "document.number",
            "booking.phones", "booking.emails", "booking.address.line"} <= passenger
    assert "traveller.nationality" not in passenger and "flight.arrival_airport" not in passenger
    assert {"consignor.name", "consignee.phone", "notify_party.email"} <= personal_paths(FreightEvent)
    assert personal_paths(VesselEvent) == set()


@pytest.mark.parametrize("name", ["FreightEvent", "VesselEvent", "Score", "DeadLetter"])
def test_contracts_without_personal_characteristics_protect_nothing(name: str) -> None:
    """Contracts that hold no protected characteristic have no protected field."""
    assert protected_paths(CONTRACTS[name]) == set()


def test_stable_id_is_deterministic() -> None:
    """The same kind and parts give the same id on every call."""
    assert stable_id("passenger", "api", "msg-1") == stable_id("passenger", "api", "msg-1")
    assert stable_id("passenger", "api", "msg-1").startswith("passenger-")


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (("passenger", "api", "msg-1"), ("passenger", "api", "msg-2")),
        (("passenger", "api", "msg-1"), ("freight", "api", "msg-1")),
        (("alert", "ab", "c"), ("alert", "a", "bc")),
        (("alert", "a"), ("alert", "a", "")),
    ],
)
def test_stable_id_differs_for_different_parts(
    left: tuple[str, ...], right: tuple[str, ...]
) -> None:
    """Different kinds or parts, including the same text split differently, give different ids."""
    assert stable_id(*left) != stable_id(*right)


@pytest.mark.parametrize("name", sorted(CONTRACTS))
def test_contracts_and_their_parts_are_frozen_and_strict(name: str) -> None:
    """Every contract and every model nested in it is frozen and forbids unknown fields."""
    for model in _nested_models(CONTRACTS[name]):
        assert issubclass(model, Record), f"{model.__name__} does not derive from Record"
        assert model.model_config.get("frozen") is True, model.__name__
        assert model.model_config.get("extra") == "forbid", model.__name__


def test_an_event_cannot_be_changed_after_validation() -> None:
    """Assigning to a field of a validated event raises instead of changing it."""
    event = normalised(passenger_doc())
    with pytest.raises(ValidationError, match="frozen"):
        event.source = "forged"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        event.traveller.surname = "Other"  # type: ignore[misc]


def test_unknown_fields_are_refused_at_every_level() -> None:
    """An extra field at the top or inside a nested part fails validation."""
    good = normalised(passenger_doc()).model_dump(mode="json")
    PassengerEvent.model_validate(good)
    with pytest.raises(ValidationError, match="extra_forbidden|Extra inputs"):
        PassengerEvent.model_validate({**good, "risk_hint": "high"})
    with pytest.raises(ValidationError, match="extra_forbidden|Extra inputs"):
        PassengerEvent.model_validate({**good, "traveller": {**good["traveller"], "religion": "x"}})
