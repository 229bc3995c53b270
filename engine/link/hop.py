"""The link hop: ``links`` (keyed by identifier) -> network alerts and views.

Every use of one identifier lands in one partition, in the order the decide hops
wrote them, and this hop keeps, per identifier, its recent uses (``LinkState``, in a
changelog-backed store like the vessel tracks). Each new use is added and every link
rule for that kind of identifier looks at them (rules/cross/, engine/link/rule.py).
A network found raises an alert on the event it names (the traveller to look at),
keyed by the identifier, with the events and the kind of identifier as evidence.

For the network features (engine/link/features.py) each user of the identifier is
sent a view of the others (``network``, keyed by the event) whenever they change;
``links`` also carries back each event's summary (``MemberNote``) from the network
hop, which goes into the views so that an event sees two links out. An identifier
used by more than ``HUB`` holders is a hub (a forwarder's address, a port agent's
phone): it shows its users only the modes of its flagged users, since everyone else
would be everyone's neighbour. So an event's flagged neighbours only ever grow,
whatever order the uses arrive in, and so do the network rules' findings on them.

The alert id is the rule's, the identifier's and the network's scope (a route), not
the triggering event's: a network is alerted once, whichever of its events arrives
last, so a replay, a retry or another worker count gives the same alert ids.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict

from engine.alert.priority import priority
from engine.flow.hops import dead_records
from engine.flow.loop import OutRecord
from engine.flow.state import ChangelogStore, Expiry
from engine.link.rule import LINK_RULES, LinkRuleSpec, active
from engine.messages import RawMessage, read_json
from engine.metrics import ALERTS, timed
from engine.score.stage import severity_of
from engine.settings import Settings
from schemas import Alert, DeadLetter, Finding, stable_id
from schemas.link import FlaggedUser, HubNotice, Link, LinkMember, MemberNote

#: Uses the link rules see per identifier: the newest and every flagged one. A trader's
#: address used by hundreds of consignments is checked on every use, so the bound is
#: what keeps a hub cheap (64 cost the decide and link hops ~40 us an event).
KEEP = 16
#: Holders from which an identifier is a hub.
HUB = 12
#: Uses are kept this long (event time) after the newest: every use within it (a hub: its
#: newest KEEP and its flagged ones), so that a new use reaches every earlier user.
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

    kind: str = ""
    members: tuple[LinkMember, ...] = ()
    raised: tuple[Alert, ...] = ()
    #: Bumped on every change, so a later view of the identifier replaces an earlier one.
    seq: int = 0
    hub: bool = False
    #: The network hop's latest summary of each member (by event id), where it sent one.
    notes: tuple[MemberNote, ...] = ()

    @property
    def flagged(self) -> list[LinkMember]:
        """The flagged members, oldest first (a hub keeps few members besides them)."""
        return [m for m in self.members if m.flagged]

    @property
    def alerted(self) -> set[str]:
        """The ids of the alerts raised."""
        return {a.alert_id for a in self.raised}


def add_member(state: LinkState | None, member: LinkMember, kind: str = "") -> LinkState:
    """The state with one more use; a use seen before (a redelivery) changes nothing."""
    members = list(state.members) if state else []
    # Members are in (occurred_at, event_id) order: a use of the same event sits where
    # this one goes, so finding the place finds a repeat too (a hub has hundreds).
    key = _order(member)
    at = bisect_left(members, key, key=_order)
    for m in itertools.islice(members, at, None):
        if _order(m) != key:
            break
        if m.holder == member.holder:
            return state if state is not None else LinkState(kind=kind, members=(member,))
    members.insert(at, member)
    newest = members[-1].occurred_at
    notes = state.notes if state else ()
    if newest - members[0].occurred_at > HORIZON:
        members = members[bisect_left(members, newest - HORIZON, key=lambda m: m.occurred_at):]
        present = {m.event_id for m in members}
        notes = tuple(n for n in notes if n.event_id in present)
    hub = state.hub if state is not None and state.hub else len({m.holder for m in members}) >= HUB
    if hub and len(members) > KEEP:  # its users are told through the network hop (HubNotice)
        members = _newest_and_flagged(members)
    return LinkState.model_construct(  # from validated parts: checking them again cost ~30% of the hop
        kind=kind or (state.kind if state else ""), members=tuple(members),
        raised=state.raised if state else (), seq=(state.seq if state else 0) + 1, hub=hub, notes=notes,
    )


def _order(m: LinkMember) -> tuple[datetime, str]:
    return m.occurred_at, m.event_id


def rule_members(state: LinkState) -> list[LinkMember]:
    """The uses a link rule sees: the newest ``KEEP`` and every flagged one, oldest first
    (what a hub keeps)."""
    return _newest_and_flagged(state.members)


def _newest_and_flagged(members: Sequence[LinkMember]) -> list[LinkMember]:
    if len(members) <= KEEP:
        return list(members)
    return [*(m for m in members[:-KEEP] if m.flagged), *members[-KEEP:]]


def apply_note(state: LinkState, note: MemberNote) -> LinkState | None:
    """The state with a member's newer summary; None when it changes nothing (an older or
    repeated note, or one for an event no longer kept)."""
    if not any(m.event_id == note.event_id for m in state.members):
        return None
    known = next((n for n in state.notes if n.event_id == note.event_id), None)
    if known is not None and known.seq >= note.seq:
        return None
    notes = tuple(sorted((*(n for n in state.notes if n.event_id != note.event_id), note),
                         key=lambda n: n.event_id))
    return state.model_copy(update={"notes": notes, "seq": state.seq + 1})


def merge_encoded(older: bytes, newer: bytes) -> bytes:
    """What two writers saved for one identifier: every use, alert and note of both."""
    a, b = LinkState.model_validate_json(older), LinkState.model_validate_json(newer)
    state = a
    for m in b.members:
        state = add_member(state, m, a.kind or b.kind)
    for n in b.notes:
        state = apply_note(state, n) or state
    raised = {x.alert_id: x for x in (*a.raised, *b.raised)}
    merged = state.model_copy(update={
        "raised": tuple(raised[k] for k in sorted(raised)), "seq": max(a.seq, b.seq) + 1,
        "hub": a.hub or b.hub or state.hub,
    })
    return merged.model_dump_json().encode("utf-8")


def views(identifier: str, state: LinkState, targets: Iterable[LinkMember]) -> list[tuple[bytes, bytes]]:
    """What the identifier shows each target event of its other users: ``network`` records
    (event id, NetworkView JSON). A trip's manifest and booking events (one holder) are
    not each other's neighbours. Built with orjson: it runs for every use."""
    notes = {n.event_id: n for n in state.notes}
    shown = [] if state.hub else [(m, _view_member(m, notes.get(m.event_id))) for m in state.members]
    flagged = state.flagged if state.hub else []
    out = []
    done: set[str] = set()
    for target in targets:
        if target.event_id in done:
            continue
        done.add(target.event_id)
        others = [v for m, v in shown if m.event_id != target.event_id and m.holder != target.holder]
        view = {
            "schema_version": target.schema_version, "event_id": target.event_id, "identifier": identifier,
            "kind": state.kind, "seq": state.seq, "mode": target.mode, "occurred_at": target.occurred_at,
            "received_at": target.received_at, "flagged": target.flagged, "hub": state.hub, "members": others,
            "flagged_modes": hub_flagged_modes(flagged, target.event_id, target.holder) if state.hub else (),
            "holder": target.holder,
        }
        out.append((target.event_id.encode(), orjson.dumps(view, option=orjson.OPT_UTC_Z)))
    return out


def hub_flagged_modes(
    flagged: Iterable[LinkMember | FlaggedUser], event_id: str, holder: str
) -> tuple[str, ...]:
    """What a hub shows one of its users: the modes of its other flagged users."""
    return tuple(sorted({m.mode for m in flagged if m.event_id != event_id and m.holder != holder}))


def hub_notice(identifier: str, state: LinkState) -> bytes:
    """A hub's flagged users, for every partition of ``network``."""
    flagged = tuple(FlaggedUser(event_id=m.event_id, holder=m.holder, mode=m.mode) for m in state.flagged)
    return HubNotice(identifier=identifier, seq=state.seq, flagged=flagged).model_dump_json().encode()


def _view_member(m: LinkMember, note: MemberNote | None) -> dict[str, object]:
    return {
        "schema_version": m.schema_version, "event_id": m.event_id, "mode": m.mode,
        "occurred_at": m.occurred_at, "flagged": m.flagged,
        "near": note.near if note is not None else m.flagged,
        "neighbours": note.neighbours if note is not None else (),
        "modes": note.modes if note is not None else (m.mode,),
    }


def links_changelog(settings: Settings) -> str:
    """Name of the link hop's changelog topic."""
    return settings.topics.name(f"{settings.worker.app_id}-links-changelog")


def link_store(settings: Settings) -> ChangelogStore[bytes]:
    """The link hop's store: a LinkState per identifier, as JSON bytes."""
    return ChangelogStore("links", settings.kafka.bootstrap_servers, links_changelog(settings),
                          encode=bytes, decode=bytes, merge=merge_encoded)


def link_rules(settings: Settings) -> list[tuple[LinkRuleSpec[Any], BaseModel]]:
    """Every link rule that is on, with its config (settings.rules overrides by rule id)."""
    return active(LINK_RULES, settings.rules)


@dataclass
class Linked:
    """A link batch: the alerts raised, the views sent, the state written, the records refused."""

    alerts: list[Alert] = field(default_factory=list)
    partitions: list[int] = field(default_factory=list)
    changelog: list[OutRecord] = field(default_factory=list)
    deadletters: list[DeadLetter] = field(default_factory=list)
    #: For the network hop: (event id, NetworkView JSON).
    views: list[tuple[bytes, bytes]] = field(default_factory=list)
    #: For every partition of the network hop: (identifier, HubNotice JSON).
    notices: list[tuple[bytes, bytes]] = field(default_factory=list)


class LinkHop:
    """``links`` -> network alerts, with the uses of each identifier as state."""

    name = "link"

    #: Uses written between two sweeps for identifiers not used within the horizon.
    SWEEP_EVERY = 20_000

    def __init__(self, settings: Settings, store: ChangelogStore[bytes] | None = None) -> None:
        self.settings = settings
        self.store = store if store is not None else link_store(settings)
        self.rules = link_rules(settings)
        #: Forgets identifiers not used within the horizon (their uses could no longer
        #: take part in a network).
        self.expiry = Expiry(self.store, HORIZON.total_seconds(), self.SWEEP_EVERY)
        #: Decoded states of recently used identifiers, with the stored bytes they came
        #: from: a hub (a trader's address on every consignment) is not decoded per use.
        self._decoded: OrderedDict[tuple[int, str], tuple[bytes, LinkState]] = OrderedDict()
        #: States changed in the batch under way, written when it ends.
        self._dirty: dict[tuple[int, str], LinkState] = {}

    def reconfigure(self, settings: Settings) -> None:
        """Link rule statuses and configs, and scoring, from new settings (ConfigError if unfit)."""
        self.rules, self.settings = link_rules(settings), settings

    def run(self, raws: Sequence[RawMessage]) -> Linked:
        """Add each use to its identifier's state and run the link rules on it; take in
        each member note."""
        out = Linked()
        self._dirty = {}
        with timed("link"):
            for raw in raws:
                if b'"type":"note"' in raw.value[:64]:  # else a Link, which has no type
                    note = read_json(MemberNote.model_validate_json, raw, "link", out.deadletters)
                    if note is not None:
                        self._note(note, raw.partition or 0, out)
                elif (link := read_json(Link.model_validate_json, raw, "link", out.deadletters)) is not None:
                    self._add(link, raw.partition or 0, out)
            # Each identifier changed in the batch is written once, as it ends the batch.
            for (partition, identifier), state in self._dirty.items():
                encoded = state.model_dump_json().encode()
                out.changelog.append(self.store.put(partition, identifier, encoded))
                self._remember(partition, identifier, encoded, state)
                used = state.members[-1].occurred_at.timestamp()
                out.changelog += self.expiry.used(partition, identifier, used)
        return out

    def _add(self, link: Link, partition: int, out: Linked) -> None:
        before = self._state(partition, link.identifier)
        state = add_member(before, link.member, link.kind)
        if state is before:  # a redelivered use: send its networks' alerts and its view again
            for sent in state.raised if state is not None else ():
                if link.member.event_id in str(sent.findings[0].evidence.get("events", "")).split(","):
                    out.alerts.append(sent)
                    out.partitions.append(partition)
            if state is not None:
                out.views += views(link.identifier, state, [link.member])
            return
        raised = list(state.raised)
        alerted = state.alerted
        members = rule_members(state)
        for spec, config in self.rules:
            if link.kind not in spec.kinds:
                continue
            network = spec.check(link.kind, members, config)
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
        state = state.model_copy(update={"raised": tuple(raised)})
        # Every user hears of a change (all of them when the identifier becomes a hub); a
        # hub tells a new user, and the rest through the network hop when a flagged one joins.
        if state.hub and before is not None and before.hub:
            out.views += views(link.identifier, state, [link.member])
            if link.member.flagged:
                out.notices.append((link.identifier.encode(), hub_notice(link.identifier, state)))
        else:
            out.views += views(link.identifier, state, state.members)
            if state.hub:  # it just became one: users it no longer keeps hear it too
                out.notices.append((link.identifier.encode(), hub_notice(link.identifier, state)))
        self._dirty[(partition, link.identifier)] = state

    def _note(self, note: MemberNote, partition: int, out: Linked) -> None:
        state = self._state(partition, note.identifier)
        new = apply_note(state, note) if state is not None else None
        if new is None:
            return
        if not new.hub:
            others = [m for m in new.members if m.event_id != note.event_id]
            out.views += views(note.identifier, new, others)
        self._dirty[(partition, note.identifier)] = new

    def _state(self, partition: int, identifier: str) -> LinkState | None:
        changed = self._dirty.get((partition, identifier))
        if changed is not None:
            return changed
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
            raised_at=subject.received_at, priority=priority(severity, None, subject.received_at),
        )

    def records(self, result: Linked) -> list[OutRecord]:
        """Alerts (beside their identifier's partition), views, state changes and dead letters."""
        name = self.settings.topics.name
        out = [
            OutRecord(name("alerts"), a.alert_id.encode(), a.model_dump_json().encode(), p)
            for a, p in zip(result.alerts, result.partitions, strict=True)
        ]
        network = name("network")
        out += [OutRecord(network, key, value) for key, value in result.views]
        # After the views: a user's view comes before a notice in its partition.
        out += [OutRecord(network, key, value, p) for key, value in result.notices
                for p in range(self.settings.topics.partitions)]
        for a in result.alerts:
            ALERTS.labels(rule=a.findings[0].rule_id, severity=a.severity).inc()
        return out + dead_records(self.settings, result.deadletters) + result.changelog

    def __call__(self, raws: Sequence[RawMessage]) -> list[OutRecord]:
        return self.records(self.run(raws))
