"""Every registered rule meets the rule contract; the loader refuses rules that do not."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from engine.errors import ConfigError
from engine.score.loader import load_rules
from engine.score.rule import (
    PROTECTED_NAMES,
    REGISTRY,
    Hit,
    NoConfig,
    RuleSpec,
    make_spec,
    protected_names_read,
    rule,
)
from schemas import CONTRACTS, EnrichedEvent
from schemas.export import protected_paths
from tests.fixtures.events import fixture_events

RULES = load_rules()
MODES = {"passenger", "freight", "vessel"}


def fixtures_for(spec: RuleSpec) -> dict[str, EnrichedEvent]:
    return {name: e for name, e in fixture_events().items() if e.event.mode in spec.modes}


def spec_of(func: Any, **kwargs: Any) -> RuleSpec:
    options: dict[str, Any] = {
        "id": "test_rule",
        "version": "1",
        "modes": {"passenger"},
        "status": "live",
        "config": NoConfig,
    }
    return make_spec(func, **{**options, **kwargs})


@pytest.fixture(params=sorted(RULES), ids=sorted(RULES))
def spec(request: pytest.FixtureRequest) -> RuleSpec:
    return RULES[request.param]


# --- the registry ------------------------------------------------------------------------------


def test_registry_has_rules_for_every_mode() -> None:
    """At least six rules are registered, and every mode has at least one."""
    assert len(RULES) >= 6
    assert set().union(*(s.modes for s in RULES.values())) == MODES


def test_fixture_set_covers_every_mode_with_and_without_track() -> None:
    """The fixtures hold events of each mode, and vessel events with and without track features."""
    events = fixture_events().values()
    assert {e.event.mode for e in events} == MODES
    vessels = [e for e in events if e.event.mode == "vessel"]
    assert any(e.track is None for e in vessels)
    assert any(e.track is not None and e.track.implied_speed_knots is not None for e in vessels)


def test_guard_knows_every_protected_field_of_the_contracts() -> None:
    """Each field marked protected in any contract is a name the rule guard refuses."""
    leaves = {
        path.rsplit(".", 1)[-1] for model in CONTRACTS.values() for path in protected_paths(model)
    }
    assert leaves
    assert leaves <= PROTECTED_NAMES


# --- per rule -----------------------------------------------------------------------------------


def test_config_builds_from_defaults(spec: RuleSpec) -> None:
    """A rule's Config builds with no overrides, and build_config gives the same."""
    assert spec.build_config() == spec.config_class()
    assert spec.build_config({"status": "shadow"}) == spec.config_class()


def test_rule_is_documented(spec: RuleSpec) -> None:
    """A rule has a docstring: a one-line title and an explanation for officers."""
    assert spec.func.__doc__ and spec.func.__doc__.strip()
    assert spec.title and "\n" not in spec.title and len(spec.title) <= 100
    assert spec.explanation and spec.explanation != spec.title


def test_rule_identity_is_well_formed(spec: RuleSpec) -> None:
    """A rule id is snake_case, its version and status are set, and its modes are known."""
    assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)+", spec.id), spec.id
    assert spec.version
    assert spec.status in ("live", "shadow", "off")
    assert spec.modes and spec.modes <= MODES


def test_rule_lives_in_its_mode_folder(spec: RuleSpec) -> None:
    """A built-in rule's module sits under rules/<mode>/ (or rules/cross/ for several modes)."""
    if not spec.module.startswith("rules."):
        pytest.skip("third-party rule from an entry point")
    folder = spec.module.split(".")[1]
    assert folder in spec.modes or folder == "cross", (spec.module, sorted(spec.modes))


def test_rule_reads_no_protected_characteristic(spec: RuleSpec) -> None:
    """The guard finds no protected field name in the rule's source."""
    assert protected_names_read(spec.func) == set()


def test_rule_has_fixtures_to_run_on(spec: RuleSpec) -> None:
    """Every rule has at least two fixture events of its modes to be run over."""
    assert len(fixtures_for(spec)) >= 2


def test_rule_does_not_mutate_its_input(spec: RuleSpec) -> None:
    """Running a rule on any fixture leaves the event exactly as it was."""
    config = spec.build_config()
    for name, event in fixtures_for(spec).items():
        before = event.model_dump()
        spec.evaluate(event, config, "live")
        assert event.model_dump() == before, name


def test_rule_findings_are_well_formed(spec: RuleSpec) -> None:
    """Every finding on every fixture has a score in [0, 1], a detail, the rule's id and version."""
    config = spec.build_config()
    for name, event in fixtures_for(spec).items():
        for finding in spec.evaluate(event, config, "shadow"):
            assert 0.0 <= finding.score <= 1.0, name
            assert finding.detail.strip(), name
            assert (finding.rule_id, finding.rule_version, finding.status) == (
                spec.id,
                spec.version,
                "shadow",
            )


def test_rule_is_deterministic(spec: RuleSpec) -> None:
    """The same event and config give the same findings every time."""
    config = spec.build_config()
    for name, event in fixtures_for(spec).items():
        assert spec.evaluate(event, config, "live") == spec.evaluate(event, config, "live"), name


def test_rule_fires_on_some_fixture(spec: RuleSpec) -> None:
    """A live rule has a fixture it flags, so the checks above see its findings.

    A new rule may start in shadow with one file; going live needs the fixture.
    """
    config = spec.build_config()
    fires = any(spec.evaluate(e, config, "live") for e in fixtures_for(spec).values())
    if not fires and spec.status != "live":
        pytest.skip(f"{spec.id} is {spec.status}: add a fixture it fires on before it goes live")
    assert any(spec.evaluate(e, config, "live") for e in fixtures_for(spec).values()), (
        f"add a fixture to tests/fixtures/events.py that {spec.id} fires on"
    )


# --- the guard refuses unfit rules ---------------------------------------------------------------


def test_guard_refuses_a_rule_reading_nationality() -> None:
    """A rule that reads traveller.nationality is refused with a ConfigError naming the field."""

    def by_nationality(event: EnrichedEvent, config: NoConfig) -> Iterator[Hit]:
        """Flags travellers of one nationality."""
        if event.event.traveller.nationality == "XYZ":  # type: ignore[union-attr]
            yield Hit(1.0, "flagged")

    with pytest.raises(ConfigError, match="nationality"):
        spec_of(by_nationality)


def test_guard_refuses_a_rule_using_getattr_on_sex() -> None:
    """A rule that reaches a protected field through getattr is refused too."""

    def by_sex(event: EnrichedEvent, config: NoConfig) -> Iterator[Hit]:
        """Flags travellers by sex."""
        if getattr(event.event.traveller, "sex") == "F":  # type: ignore[union-attr]  # noqa: B009
            yield Hit(1.0, "flagged")

    with pytest.raises(ConfigError, match="sex"):
        spec_of(by_sex)


def test_guard_refuses_a_rule_reading_date_of_birth_from_a_dump() -> None:
    """A rule that looks up date_of_birth in a dumped dict is refused."""

    def by_age(event: EnrichedEvent, config: NoConfig) -> Iterator[Hit]:
        """Flags young travellers."""
        if event.event.model_dump()["traveller"]["date_of_birth"]:
            yield Hit(1.0, "flagged")

    with pytest.raises(ConfigError, match="date_of_birth"):
        spec_of(by_age)


def test_guard_accepts_a_rule_reading_only_unprotected_fields() -> None:
    """A rule using ordinary fields, like the document's issuing state, passes the guard."""

    def by_issuer(event: EnrichedEvent, config: NoConfig) -> Iterator[Hit]:
        """Flags documents of one issuer."""
        if event.event.document.issuing_state == "XYZ":  # type: ignore[union-attr]
            yield Hit(1.0, "issuer")

    assert spec_of(by_issuer).title == "Flags documents of one issuer."


def test_rule_without_docstring_is_refused() -> None:
    """A rule with no docstring has no explanation for officers, so it is refused."""

    def undocumented(event: EnrichedEvent, config: NoConfig) -> None:
        return None

    with pytest.raises(ConfigError, match="docstring"):
        spec_of(undocumented)


def _documented(event: EnrichedEvent, config: Any) -> None:
    """A well-behaved rule that finds nothing."""
    return None


@pytest.mark.parametrize("bad_id", ["CamelCase", "with-dash", "1starts_with_digit", "ab", "x" * 65])
def test_rule_with_bad_id_is_refused(bad_id: str) -> None:
    """Rule ids must be snake_case, 3 to 64 characters."""
    with pytest.raises(ConfigError, match="snake_case"):
        spec_of(_documented, id=bad_id)


@pytest.mark.parametrize("modes", [set(), {"rail"}, {"passenger", "cargo"}])
def test_rule_with_unknown_modes_is_refused(modes: set[str]) -> None:
    """A rule must apply to a non-empty set of known modes."""
    with pytest.raises(ConfigError, match="modes"):
        spec_of(_documented, modes=modes)


def test_rule_whose_config_needs_values_is_refused() -> None:
    """A Config that cannot build from its defaults is refused at load."""

    class NeedsThreshold(BaseModel):
        threshold: float

    with pytest.raises(ConfigError, match="defaults"):
        spec_of(_documented, config=NeedsThreshold)


def test_duplicate_rule_id_from_another_module_is_refused() -> None:
    """Registering a second rule under an existing id fails and leaves the registry as it was."""
    taken = next(iter(RULES))
    before = dict(REGISTRY)
    with pytest.raises(ConfigError, match="defined twice"):
        rule(id=taken, version="9", modes={"passenger"})(_documented)
    assert before == REGISTRY
