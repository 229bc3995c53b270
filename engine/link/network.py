"""The neighbourhood of an entity in the link graph, with the evidence for each link.

The graph is the ``links`` topic read whole (or the links a replay of files makes):
events on one side, identifiers on the other, an edge for each use. An entity is
an identifier id (``phone-…``, ``card-…``: the hashed ids that alerts name as
``link:<id>``) or an event id. Its neighbourhood is everything within ``hops``
edges; each edge says which event used which kind of identifier, as what (a
booking, a consignee...), and when.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from schemas.link import Link


@dataclass
class Neighbourhood:
    """What lies within reach of an entity, and the uses that connect it."""

    root: str
    events: dict[str, int] = field(default_factory=dict)  # event id -> distance
    identifiers: dict[str, int] = field(default_factory=dict)  # identifier id -> distance
    edges: list[Link] = field(default_factory=list)

    @property
    def found(self) -> bool:
        """True when the entity is in the graph at all."""
        return bool(self.events or self.identifiers)


def neighbourhood(links: Iterable[Link], root: str, hops: int = 2) -> Neighbourhood:
    """Breadth-first from an identifier or event id, ``hops`` edges out."""
    by_identifier: dict[str, list[Link]] = {}
    by_event: dict[str, list[Link]] = {}
    for link in links:
        by_identifier.setdefault(link.identifier, []).append(link)
        by_event.setdefault(link.member.event_id, []).append(link)
    out = Neighbourhood(root)
    queue: deque[tuple[str, bool, int]] = deque()
    if root in by_identifier:
        out.identifiers[root] = 0
        queue.append((root, True, 0))
    if root in by_event:
        out.events[root] = 0
        queue.append((root, False, 0))
    seen: set[tuple[str, str, str]] = set()
    while queue:
        node, is_identifier, distance = queue.popleft()
        if distance >= hops:
            continue
        for link in (by_identifier if is_identifier else by_event).get(node, []):
            edge = (link.identifier, link.member.event_id, link.member.holder)
            if edge not in seen:
                seen.add(edge)
                out.edges.append(link)
            other, other_is_identifier = (
                (link.member.event_id, False) if is_identifier else (link.identifier, True)
            )
            table = out.identifiers if other_is_identifier else out.events
            if other not in table:
                table[other] = distance + 1
                queue.append((other, other_is_identifier, distance + 1))
    return out


def render(hood: Neighbourhood) -> str:
    """The neighbourhood as lines an officer can read: one per use, nearest first."""
    if not hood.found:
        return f"{hood.root}: not in the link graph"
    modes = sorted({e.member.mode for e in hood.edges})
    lines = [
        f"{hood.root}: {len(hood.events)} event(s) and {len(hood.identifiers)} identifier(s) within reach, "
        f"modes: {', '.join(modes) or '-'}",
    ]
    def distance(link: Link) -> int:
        return min(hood.identifiers.get(link.identifier, 99), hood.events.get(link.member.event_id, 99))

    for link in sorted(hood.edges, key=lambda k: (distance(k), k.identifier, k.member.occurred_at)):
        m = link.member
        flag = " [alerted]" if m.flagged else ""
        where = f" on {m.route}" if m.route else f" by {m.carrier}" if m.carrier else ""
        lines.append(
            f"  {link.kind} {link.identifier}  <- {m.mode} {m.event_id} as {m.role} ({m.holder}){where}, "
            f"{m.occurred_at:%Y-%m-%d %H:%M}{flag}"
        )
    return "\n".join(lines)
