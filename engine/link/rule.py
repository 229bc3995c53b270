"""Link rules and network rules, one file each under rules/cross/.

Link rules are patterns over the uses of one identifier; network rules read the
network features of one event (engine/link/features.py).

A link rule sees every recent use of one identifier (a phone, an email, a card, an
address) and the use that just arrived, and may report a network: a score, a plain
detail (no personal data) and the events it ties together. It runs in the link hop,
where all uses of an identifier meet (engine/link/hop.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from engine.errors import ConfigError
from engine.score.loader import load_rules
from schemas.link import IdentifierKind, LinkMember, NetworkFeatures

C = TypeVar("C", bound=BaseModel)


@dataclass(frozen=True)
class Network:
    """What a link rule found: how strong, in words, the events involved, and which one
    the alert is raised on (the traveller to look at)."""

    score: float
    detail: str
    events: tuple[str, ...]
    subject: LinkMember
    #: Tells this network from another of the same rule on the same identifier (e.g. a route).
    scope: str = ""


LinkCheck = Callable[[IdentifierKind, Sequence[LinkMember], Any], Network | None]


@dataclass(frozen=True)
class LinkRuleSpec(Generic[C]):
    """A registered link rule: id, version, title, the identifier kinds it reads, its config."""

    id: str
    version: str
    title: str
    kinds: frozenset[str]
    config: type[C]
    check: LinkCheck


LINK_RULES: dict[str, LinkRuleSpec[Any]] = {}


def link_rule(
    id: str, version: str, kinds: set[str], config: type[C]
) -> Callable[[LinkCheck], LinkCheck]:
    """Register a link rule; its docstring's first line is its title."""
    def register(check: LinkCheck) -> LinkCheck:
        title = (check.__doc__ or id).strip().splitlines()[0]
        LINK_RULES[id] = LinkRuleSpec(id, version, title, frozenset(kinds), config, check)
        return check
    return register


#: What a network rule found on an event's features: a score and a plain detail.
NetworkCheck = Callable[[NetworkFeatures, Any], "tuple[float, str] | None"]


@dataclass(frozen=True)
class NetworkRuleSpec(Generic[C]):
    """A registered network rule: it reads one event's network features
    (engine/link/features.py) and may score the event for where it stands in the graph."""

    id: str
    version: str
    title: str
    config: type[C]
    check: NetworkCheck


NETWORK_RULES: dict[str, NetworkRuleSpec[Any]] = {}


def network_rule(id: str, version: str, config: type[C]) -> Callable[[NetworkCheck], NetworkCheck]:
    """Register a network rule; its docstring's first line is its title."""
    def register(check: NetworkCheck) -> NetworkCheck:
        title = (check.__doc__ or id).strip().splitlines()[0]
        NETWORK_RULES[id] = NetworkRuleSpec(id, version, title, config, check)
        return check
    return register


def configured(rules: dict[str, dict[str, Any]], rule_id: str, config: type[C]) -> C | None:
    """A link or network rule's config, defaults with settings.rules' overrides; None when it
    is off. These rules are live or off: shadow needs a record of what they would have
    found. An unknown key is refused, as for every rule (a typo would change nothing)."""
    overrides = dict(rules.get(rule_id, {}))
    status = overrides.pop("status", "live")
    if status == "off":
        return None
    if status != "live":
        raise ConfigError(f"rule {rule_id}: a link or network rule is live or off, not {status!r}")
    unknown = sorted(set(overrides) - set(config.model_fields))
    if unknown:
        raise ConfigError(f"rule {rule_id}: unknown config key(s) {', '.join(unknown)}")
    try:
        return config(**overrides)
    except ValueError as exc:
        raise ConfigError(f"rule {rule_id}: bad config: {exc}") from None


S = TypeVar("S", LinkRuleSpec[Any], NetworkRuleSpec[Any])


def active(registry: Mapping[str, S], rules: dict[str, dict[str, Any]]) -> list[tuple[S, BaseModel]]:
    """The registered rules that are on, sorted by id, each with its config."""
    load_rules()  # imports rules/, which registers these rules
    built = ((spec, configured(rules, spec.id, spec.config)) for _, spec in sorted(registry.items()))
    return [(spec, config) for spec, config in built if config is not None]
