"""The link hop: ``links`` (keyed by identifier) -> network alerts.

Every use of one identifier lands in one partition, in the order the decide hops
wrote them, and this hop keeps, per identifier, its recent uses (``LinkState``, in a
changelog-backed store like the vessel tracks). Each new use is added and every link
rule for that kind of identifier looks at them (rules/cross/, engine/link/rule.py).
A network found raises an alert on the event it names (the traveller to look at),
keyed by the identifier, with the events and the kind of identifier as evidence.

The alert id is the rule's, the identifier's and the network's scope (a route), not
the triggering event's: a network is alerted once, whichever of its events arrives
last, so a replay, a retry or another worker count gives the same alert ids.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from engine.flow.hops import dead_records
from engine.flow.loop import OutRecord
from engine.flow.state import ChangelogStore
from engine.link.rule import LINK_RULES, LinkRuleSpec
from engine.messages import RawMessage, dead_letter, describe_validation_error
from engine.metrics import ALERTS, timed
from engine.score.loader import load_rules
from engine.score.stage import severity_of
from engine.settings import Settings
from schemas import Alert, DeadLetter, Finding, stable_id
from schemas.link import Link, LinkMember

#: Uses kept per identifier: the newest, within the horizon, and every flagged one. A
#: trader's address used by hundreds of consignments is re-encoded on every use, so the
#: bound is what keeps a hub cheap (64 cost the decide and link hops ~40 us an event).
KEEP = 16
HORIZON = timedelta(days=30)
#: Decoded identifier states kept for reuse (the most recently used).
DECODED_CACHE = 10_000


class LinkState(BaseModel):
    """The recent uses of one identifier, oldest first, and the alerts already raised on it.

    The alerts are kept whole: the state and an alert are written in one batch, but not
    atomically, so a use redelivered after a crash sends its networks' alerts again (the
    same ids: downstream keeps one), rather than trusting that they went out.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    members: tuple[LinkMember, ...] = ()
    raised: tuple[Alert, ...] = ()

    @property
    def alerted(self) -> set[str]:
        """The ids of the alerts raised."""
        return {a.alert_id for a in self.raised}


def add_member(state: LinkState | None, member: LinkMember) -> LinkState:
    """The state with one more use; a use seen before (a redelivery) changes nothing."""
    members = list(state.members) if state else []
    if any(m.event_id == member.event_id and m.holder == member.holder for m in members):
        return state if state is not None else LinkState(members=(member,))
    members.append(member)
    members.sort(key=lambda m: (m.occurred_at, m.event_id))
    newest = members[-1].occurred_at
    recent = [m for m in members if newest - m.occurred_at <= HORIZON]
    kept = set(map(id, recent[-KEEP:]))
    members = [m for m in recent if id(m) in kept or m.flagged]
    return LinkState(members=tuple(members), raised=state.raised if state else ())


def merge_encoded(older: bytes, newer: bytes) -> bytes:
    """What two writers saved for one identifier: every use and every alert of both."""
    a, b = LinkState.model_validate_json(older), LinkState.model_validate_json(newer)
    state = a
    for m in b.members:
        state = add_member(state, m)
    raised = {x.alert_id: x for x in (*a.raised, *b.raised)}
    merged = LinkState(members=state.members, raised=tuple(raised[k] for k in sorted(raised)))
    return merged.model_dump_json().encode("utf-8")


def links_changelog(settings: Settings) -> str:
    """Name of the link hop's changelog topic."""
    return settings.topics.name(f"{settings.worker.app_id}-links-changelog")


def link_store(settings: Settings) -> ChangelogStore[bytes]:
    """The link hop's store: a LinkState per identifier, as JSON bytes."""
    return ChangelogStore("links", settings.kafka.bootstrap_servers, links_changelog(settings),
                          encode=bytes, decode=bytes, merge=merge_encoded)


def link_rules(settings: Settings) -> list[tuple[LinkRuleSpec[Any], BaseModel]]:
    """Every link rule with its config (settings.rules overrides by rule id)."""
    load_rules()  # imports rules/, which registers the link rules too
    return [(spec, spec.config(**settings.rules.get(spec.id, {}))) for _, spec in sorted(LINK_RULES.items())]


@dataclass
class Linked:
    """A link batch: the alerts raised, the state written, the records refused."""

    alerts: list[Alert] = field(default_factory=list)
    partitions: list[int] = field(default_factory=list)
    changelog: list[OutRecord] = field(default_factory=list)
    deadletters: list[DeadLetter] = field(default_factory=list)


class LinkHop:
    """``links`` -> network alerts, with the uses of each identifier as state."""

    name = "link"

    #: Uses written between two sweeps for identifiers not used within the horizon.
    SWEEP_EVERY = 20_000

    def __init__(self, settings: Settings, store: ChangelogStore[bytes] | None = None) -> None:
        self.settings = settings
        self.store = store if store is not None else link_store(settings)
        self.rules = link_rules(settings)
        #: When each identifier was last used (event time, epoch seconds), for the sweep.
        self._last_used: dict[tuple[int, str], float] = {}
        #: Decoded states of recently used identifiers, with the stored bytes they came
        #: from: a hub (a trader's address on every consignment) is not decoded per use.
        self._decoded: OrderedDict[tuple[int, str], tuple[bytes, LinkState]] = OrderedDict()
        self._written = 0
        self._newest = 0.0

    def run(self, raws: Sequence[RawMessage]) -> Linked:
        """Add each use to its identifier's state and run the link rules on it."""
        out = Linked()
        with timed("link"):
            for raw in raws:
                try:
                    link = Link.model_validate_json(raw.value)
                except ValidationError as exc:
                    out.deadletters.append(
                        dead_letter(raw, "link", "invalid_schema", describe_validation_error(exc))
                    )
                    continue
                self._add(link, raw.partition or 0, out)
        return out

    def _add(self, link: Link, partition: int, out: Linked) -> None:
        before = self._state(partition, link.identifier)
        state = add_member(before, link.member)
        if state is before:  # a redelivered use: send its networks' alerts again
            for sent in state.raised if state is not None else ():
                if link.member.event_id in str(sent.findings[0].evidence.get("events", "")).split(","):
                    out.alerts.append(sent)
                    out.partitions.append(partition)
            return
        raised = list(state.raised)
        alerted = state.alerted
        for spec, config in self.rules:
            if link.kind not in spec.kinds:
                continue
            network = spec.check(link.kind, state.members, config)
            if network is None:
                continue
            alert_id = stable_id("alert", "link", spec.id, spec.version, link.identifier, network.scope)
            if alert_id in alerted:
                continue
            alerted.add(alert_id)
            new = self._alert(alert_id, spec, link, network)
            if new is not None:
                raised.append(new)
                out.alerts.append(new)
                out.partitions.append(partition)
        state = LinkState(members=state.members, raised=tuple(raised))
        encoded = state.model_dump_json().encode()
        out.changelog.append(self.store.put(partition, link.identifier, encoded))
        self._remember(partition, link.identifier, encoded, state)
        used = state.members[-1].occurred_at.timestamp()
        self._last_used[(partition, link.identifier)] = used
        self._newest = max(self._newest, used)
        self._written += 1
        if self._written >= self.SWEEP_EVERY:
            self._written = 0
            out.changelog += self._sweep()

    def _state(self, partition: int, identifier: str) -> LinkState | None:
        saved = self.store.get(partition, identifier)
        if saved is None:
            return None
        cached = self._decoded.get((partition, identifier))
        if cached is not None and cached[0] is saved:  # still the bytes it was decoded from
            self._decoded.move_to_end((partition, identifier))
            return cached[1]
        state = LinkState.model_validate_json(saved)
        self._remember(partition, identifier, saved, state)
        return state

    def _remember(self, partition: int, identifier: str, saved: bytes, state: LinkState) -> None:
        self._decoded[(partition, identifier)] = (saved, state)
        self._decoded.move_to_end((partition, identifier))
        if len(self._decoded) > DECODED_CACHE:
            self._decoded.popitem(last=False)

    def _sweep(self) -> list[OutRecord]:
        """Forget identifiers unused for longer than the horizon (their uses could no longer
        take part in a network); a tombstone each for the changelog. Identifiers restored
        from the changelog count as used at the first sweep that sees them."""
        cutoff = self._newest - HORIZON.total_seconds()
        gone = []
        for partition, table in self.store.partitions.items():
            for key in table:
                used = self._last_used.setdefault((partition, key), self._newest)
                if used < cutoff:
                    gone.append((partition, key))
        for partition, key in gone:
            del self._last_used[(partition, key)]
        return [self.store.delete(p, key) for p, key in gone]

    def _alert(self, alert_id: str, spec: LinkRuleSpec[Any], link: Link, network: Any) -> Alert | None:
        severity = severity_of(network.score, self.settings.scoring)
        if severity is None:
            return None
        finding = Finding(
            rule_id=spec.id, rule_version=spec.version, score=network.score, detail=network.detail[:500],
            evidence={"identifier_kind": link.kind, "events": ",".join(network.events)[:2000],
                      "event_count": len(network.events)},
        )
        subject = network.subject
        return Alert(
            alert_id=alert_id, event_id=subject.event_id, mode=subject.mode, key=f"link:{link.identifier}",
            severity=severity, score=network.score, findings=(finding,),
            explanation=f"{spec.title.rstrip('.')}: {network.detail} (score {network.score:.2f}).",
            raised_at=subject.received_at,
        )

    def records(self, result: Linked) -> list[OutRecord]:
        """Alerts (beside their identifier's partition), state changes and dead letters."""
        name = self.settings.topics.name
        out = [
            OutRecord(name("alerts"), a.alert_id.encode(), a.model_dump_json().encode(), p)
            for a, p in zip(result.alerts, result.partitions, strict=True)
        ]
        for a in result.alerts:
            ALERTS.labels(rule=a.findings[0].rule_id, severity=a.severity).inc()
        return out + dead_records(self.settings, result.deadletters) + result.changelog

    def __call__(self, raws: Sequence[RawMessage]) -> list[OutRecord]:
        return self.records(self.run(raws))
