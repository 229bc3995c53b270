"""The rule extension point: a decorated function, its config, its docstring as explanation.

A rule lives in its own file under ``rules/<mode>/``::

    class Config(BaseModel):
        max_hours: float = 24

    @rule(id="passenger_late_cash_booking", version="1", modes={"passenger"}, config=Config)
    def late_cash_booking(event: EnrichedEvent, config: Config) -> Iterable[Hit]:
        \"\"\"Booked less than a day before departure and paid in cash.\"\"\"
        ...
        yield Hit(0.6, "booked 5 h before departure, paid cash", hours=5)

The first docstring line is the rule's title, the rest its explanation for officers.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from pydantic import BaseModel, ValidationError

from engine.errors import ConfigError
from schemas import EnrichedEvent, Finding
from schemas.decision import EvidenceValue, RuleStatus

_ID = re.compile(r"^[a-z][a-z0-9_]{2,63}$")
_MODES = frozenset({"passenger", "freight", "vessel"})

#: Leaf names of protected fields (see schemas.export.protected_paths). A rule that
#: reads any of them is refused at load; only the enrich stage may, for screening.
PROTECTED_NAMES = frozenset({"date_of_birth", "sex", "nationality"})


class Hit(NamedTuple):
    """What a rule yields: a score in [0, 1], a plain-words detail, and evidence fields."""

    score: float
    detail: str
    evidence: Mapping[str, EvidenceValue] = {}


class NoConfig(BaseModel):
    """Config of a rule that has no settings."""


RuleOutput = Iterable[Hit] | Hit | None
RuleFunc = Callable[[EnrichedEvent, Any], RuleOutput]


@dataclass(frozen=True)
class RuleSpec:
    """A registered rule: what it is, how to configure it, and the function itself."""

    id: str
    version: str
    status: RuleStatus
    modes: frozenset[str]
    config_class: type[BaseModel]
    func: RuleFunc
    title: str
    explanation: str
    module: str

    def build_config(self, overrides: Mapping[str, Any] | None = None) -> BaseModel:
        """The rule's Config from defaults plus overrides (env or file); errors name the rule."""
        values = {k: v for k, v in (overrides or {}).items() if k != "status"}
        # pydantic ignores unknown keys by default, which would turn a typo in an
        # env override into a silently unchanged rule.
        unknown = sorted(set(values) - set(self.config_class.model_fields))
        if unknown and self.config_class.model_config.get("extra") != "allow":
            raise ConfigError(f"rule {self.id}: unknown config key(s) {', '.join(unknown)}")
        try:
            return self.config_class(**values)
        except ValidationError as exc:
            raise ConfigError(f"rule {self.id}: bad config: {exc}") from None

    def evaluate(self, event: EnrichedEvent, config: BaseModel, status: RuleStatus) -> list[Finding]:
        """Run the rule on one event and return its findings, stamped with id and version."""
        out = self.func(event, config)
        if out is None:
            return []
        hits = [out] if isinstance(out, Hit) else list(out)
        return [
            Finding(
                rule_id=self.id,
                rule_version=self.version,
                status=status,
                score=float(h.score),
                detail=h.detail,
                evidence=dict(h.evidence),
            )
            for h in hits
        ]


#: Every rule loaded in this process, by id.
REGISTRY: dict[str, RuleSpec] = {}


def rule(
    *,
    id: str,
    version: str,
    modes: Iterable[str],
    status: RuleStatus = "live",
    config: type[BaseModel] = NoConfig,
) -> Callable[[RuleFunc], RuleFunc]:
    """Register a rule function. Refuses rules without a docstring or that read protected data."""

    def register(func: RuleFunc) -> RuleFunc:
        register_once(REGISTRY, make_spec(func, id=id, version=version, modes=modes, status=status,
                                          config=config), "rule")
        return func

    return register


class _Registered(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def module(self) -> str: ...


def register_once(registry: dict[str, Any], spec: _Registered, what: str) -> None:
    """Add a rule's or model's spec to its registry; one id in two modules is refused
    (the same module imported again just replaces its own)."""
    existing = registry.get(spec.id)
    if existing is not None and existing.module != spec.module:
        raise ConfigError(f"{what} id {spec.id} is defined twice ({existing.module}, {spec.module})")
    registry[spec.id] = spec


def make_spec(
    func: RuleFunc,
    *,
    id: str,
    version: str,
    modes: Iterable[str],
    status: RuleStatus,
    config: type[BaseModel],
) -> RuleSpec:
    """Check a rule function and describe it; raise ConfigError on anything unfit to run."""
    checked = check_component(func, "rule", id, modes)
    if status not in ("live", "shadow", "off"):
        raise ConfigError(f"{checked.where}: status must be live, shadow or off")
    try:
        config()
    except ValidationError as exc:
        raise ConfigError(f"{checked.where}: Config must build from its defaults: {exc}") from None
    return RuleSpec(
        id=id,
        version=str(version),
        status=status,
        modes=checked.modes,
        config_class=config,
        func=func,
        title=checked.title,
        explanation=checked.explanation,
        module=func.__module__,
    )


class Checked(NamedTuple):
    """What every rule or model function must have, checked: where it is, its modes,
    and the title and explanation its docstring gives."""

    where: str
    modes: frozenset[str]
    title: str
    explanation: str


def check_component(func: Callable[..., Any], what: str, id: str, modes: Iterable[str]) -> Checked:
    """The checks rules and models share: a snake_case id, known modes, a docstring for
    officers, no protected characteristic read. ConfigError naming the function otherwise."""
    where = f"{func.__module__}.{getattr(func, '__qualname__', func)}"
    if not _ID.match(id):
        raise ConfigError(f"{where}: {what} id {id!r} must be snake_case, 3-64 chars")
    mode_set = frozenset(modes)
    if not mode_set or not mode_set <= _MODES:
        raise ConfigError(f"{where}: modes must be a non-empty subset of {sorted(_MODES)}")
    doc = inspect.getdoc(func)
    if not doc or not doc.strip():
        raise ConfigError(f"{where}: a {what} needs a docstring; it is the officer's explanation")
    read = protected_names_read(func)
    if read:
        raise ConfigError(
            f"{where}: {what}s may not read protected characteristics ({', '.join(sorted(read))})"
        )
    title, _, rest = doc.partition("\n")
    return Checked(where, mode_set, title.strip(), " ".join(rest.split()) or title.strip())


def protected_names_read(func: Callable[..., Any]) -> set[str]:
    """Protected field names a function's source touches: ``x.nationality`` or ``getattr(x, "sex")``."""
    try:
        source = textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError):
        raise ConfigError(f"{func!r}: rule source is not readable, so it cannot be checked") from None
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in PROTECTED_NAMES:
            found.add(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value in PROTECTED_NAMES:
                found.add(node.value)
    return found
