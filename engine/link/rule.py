"""Link rules: patterns over the uses of one identifier, one file each under rules/cross/.

A link rule sees every recent use of one identifier (a phone, an email, a card, an
address) and the use that just arrived, and may report a network: a score, a plain
detail (no personal data) and the events it ties together. It runs in the link hop,
where all uses of an identifier meet (engine/link/hop.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from schemas.link import IdentifierKind, LinkMember

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
