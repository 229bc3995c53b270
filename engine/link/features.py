"""The network hop: ``network`` (views, keyed by event) -> network features, network
alerts, and each event's summary back to its identifiers.

An event's identifiers live in other partitions of the link hop (engine/link/hop.py),
each knowing its own users. Each sends the event a view of the others; this hop keeps
the latest view per identifier (the one with the highest ``seq``) and works out from
them, as a pure function (``compute_features``):

- ``linked_events``: events sharing an entity with it (one hop);
- ``component_size``: the event, those, and theirs (two hops): its connected
  component out to two links. The neighbours' own neighbours come from the summary
  each event sends back to its identifiers (``MemberNote``, at most 16 per event);
- ``modes``: the transport modes within two hops;
- ``flagged_distance``: 0 when the event raised an alert itself, 1 when a neighbour
  did (through a hub too: a hub shows the modes of its flagged users), 2 when a neighbour's
  neighbour did; none beyond;
- ``new_links_24h``: uses of its entities by other events in the 24 hours up to it.

The features are written to ``features`` (keyed by the event) whenever they change,
and the network rules (rules/cross/, ``network_rule``) read them. The last features of
an event do not depend on the order the uses arrive in, so one worker and two give the
same: an identifier's state, and so its views, are a function of the uses it has seen
(in event-time order), each view replaces an older one, and a hub, which keeps only its
newest users, reaches the others by a ``HubNotice`` to every partition here, applied
to every event indexed as using it (views and notices keep their order in a partition).
The alerts are the same too: a network rule reads the flagged neighbours, which only
grow (flagged uses are kept, and a hub still shows them), so a rule that fires on the
features at some moment fires on the last ones too, and its alert id is the event's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import orjson
from pydantic import BaseModel

from engine.alert.priority import priority
from engine.flow.hops import dead_records
from engine.flow.loop import OutRecord
from engine.flow.state import ChangelogStore, Expiry
from engine.link.hop import HORIZON, hub_flagged_modes
from engine.link.rule import NETWORK_RULES, NetworkRuleSpec, active
from engine.messages import RawMessage, read_json
from engine.metrics import ALERTS, timed
from engine.score.stage import severity_of
from engine.settings import Settings
from schemas import Alert, DeadLetter, Finding, stable_id
from schemas.link import HubNotice, MemberNote, NetworkFeatures, NetworkView, ViewMember

NEW_LINKS_WINDOW = timedelta(hours=24)
#: Neighbours an event names in its summary (the first by id).
NOTE_NEIGHBOURS = 16

Summary = tuple[bool, tuple[str, ...], tuple[str, ...]]


def _neighbours(event_id: str, views: Sequence[NetworkView]) -> dict[str, ViewMember]:
    """The events sharing a (non-hub) identifier with this one, each once."""
    found: dict[str, ViewMember] = {}
    for view in views:
        for m in view.members:
            if m.event_id == event_id:
                continue
            known = found.get(m.event_id)
            if known is None or (m.flagged, m.near, len(m.neighbours)) > (
                known.flagged, known.near, len(known.neighbours)
            ):
                found[m.event_id] = m
    return found


def compute_features(
    event_id: str, views: Sequence[NetworkView], near: dict[str, ViewMember] | None = None
) -> NetworkFeatures:
    """An event's network features from the latest view of each of its identifiers."""
    me = min(views, key=lambda v: v.identifier)
    flagged = any(v.flagged for v in views)
    near = _neighbours(event_id, views) if near is None else near
    flagged_modes = {m.mode for m in near.values() if m.flagged}
    for v in views:
        flagged_modes.update(v.flagged_modes)
    second: set[str] = set()
    modes = {me.mode}
    for m in near.values():
        second.update(m.neighbours)
        modes.add(m.mode)
        modes.update(m.modes)
    second.difference_update(near)
    second.discard(event_id)
    if flagged:
        distance: int | None = 0
    elif flagged_modes:
        distance = 1
    elif any(m.near for m in near.values()):
        distance = 2
    else:
        distance = None
    since = me.occurred_at - NEW_LINKS_WINDOW
    new_links = {
        (v.identifier, m.event_id) for v in views for m in v.members
        if m.event_id != event_id and since <= m.occurred_at <= me.occurred_at
    }
    return NetworkFeatures(
        event_id=event_id, mode=me.mode, occurred_at=me.occurred_at,
        entities=tuple(sorted(v.identifier for v in views)), linked_events=len(near),
        component_size=1 + len(near) + len(second), modes=tuple(sorted(modes)),
        flagged_distance=distance, new_links_24h=len(new_links),
        flagged_neighbour_modes=tuple(sorted(flagged_modes)),
        hub_entities=sum(1 for v in views if v.hub),
    )


def summary_of(
    event_id: str, views: Sequence[NetworkView], near: dict[str, ViewMember] | None = None
) -> Summary:
    """What an event tells its identifiers of itself: flagged or next to a flagged event;
    its first neighbours by id; its own and its neighbours' modes. (``near``: its
    neighbours, when the caller has them already.)"""
    near = _neighbours(event_id, views) if near is None else near
    flagged = any(v.flagged or v.flagged_modes for v in views) or any(m.flagged for m in near.values())
    modes = {views[0].mode, *(m.mode for m in near.values())}
    return flagged, tuple(sorted(near)[:NOTE_NEIGHBOURS]), tuple(sorted(modes))


@dataclass
class EventGraph:
    """The network hop's state of one event: the latest view per identifier (parsed, and
    the bytes it came in), the summary sent back and to which identifiers, the features
    and alerts sent."""

    views: dict[str, tuple[NetworkView, bytes]] = field(default_factory=dict)
    seq: int = 0
    summary: Summary | None = None
    noted: set[str] = field(default_factory=set)
    features: bytes = b""
    alerted: set[str] = field(default_factory=set)

    def encode(self) -> bytes:
        """The state as changelog bytes (the views as they came)."""
        return orjson.dumps({
            "views": [orjson.Fragment(raw) for _, raw in self.views.values()], "seq": self.seq,
            "summary": self.summary, "noted": sorted(self.noted),
            "features": orjson.Fragment(self.features or b"null"), "alerted": sorted(self.alerted),
        })

    @classmethod
    def decode(cls, data: bytes) -> EventGraph:
        """The state from changelog bytes."""
        raw = orjson.loads(data)
        views = {}
        for v in raw["views"]:
            body = orjson.dumps(v)
            views[v["identifier"]] = (NetworkView.model_validate_json(body), body)
        s = raw["summary"]
        return cls(
            views=views, seq=raw["seq"], summary=(s[0], tuple(s[1]), tuple(s[2])) if s else None,
            noted=set(raw["noted"]), features=orjson.dumps(raw["features"]) if raw["features"] else b"",
            alerted=set(raw["alerted"]),
        )


def merge_graphs(older: EventGraph, newer: EventGraph) -> EventGraph:
    """What two writers saved for one event: the later view of each identifier, the later
    summary (whose notes go out again), every alert of both."""
    views = dict(older.views)
    for identifier, (view, raw) in newer.views.items():
        if identifier not in views or views[identifier][0].seq < view.seq:
            views[identifier] = (view, raw)
    last = newer if newer.seq >= older.seq else older
    return EventGraph(views=views, seq=max(older.seq, newer.seq) + 1, summary=last.summary,
                      features=b"", alerted=older.alerted | newer.alerted)


def network_changelog(settings: Settings) -> str:
    """Name of the network hop's changelog topic."""
    return settings.topics.name(f"{settings.worker.app_id}-network-changelog")


def network_store(settings: Settings) -> ChangelogStore[EventGraph]:
    """The network hop's store: an EventGraph per event."""
    return ChangelogStore("network", settings.kafka.bootstrap_servers, network_changelog(settings),
                          encode=EventGraph.encode, decode=EventGraph.decode, merge=merge_graphs)


def network_rules(settings: Settings) -> list[tuple[NetworkRuleSpec[Any], BaseModel]]:
    """Every network rule that is on, with its config (settings.rules overrides by rule id)."""
    return active(NETWORK_RULES, settings.rules)


@dataclass
class Networked:
    """A network batch: features, alerts and notes sent, state written, records refused."""

    features: list[tuple[NetworkFeatures, bytes, int]] = field(default_factory=list)
    alerts: list[tuple[Alert, int]] = field(default_factory=list)
    notes: list[MemberNote] = field(default_factory=list)
    changelog: list[OutRecord] = field(default_factory=list)
    deadletters: list[DeadLetter] = field(default_factory=list)


class NetworkHop:
    """``network`` -> features, network alerts and notes, with each event's views as state."""

    name = "network"

    def __init__(self, settings: Settings, store: ChangelogStore[EventGraph] | None = None) -> None:
        self.settings = settings
        self.store = store if store is not None else network_store(settings)
        self.rules = network_rules(settings)
        self.expiry = Expiry(self.store, HORIZON.total_seconds())
        #: Per partition, per identifier: the events here holding a view of it (for hub notices).
        self._users: dict[int, dict[str, set[str]]] = {}

    def reconfigure(self, settings: Settings) -> None:
        """Network rule statuses and configs, and scoring, from new settings (ConfigError if unfit)."""
        self.rules, self.settings = network_rules(settings), settings

    def run(self, raws: Sequence[RawMessage]) -> Networked:
        """Take in each view and hub notice, then bring each event touched up to date."""
        out = Networked()
        touched: dict[tuple[int, str], EventGraph] = {}
        #: Events a view came to again (a redelivery): their alerts are sent again.
        again: set[tuple[int, str]] = set()
        with timed("network"):
            self._index()
            for raw in raws:
                partition = raw.partition or 0
                if b'"type":"hub"' in raw.value[:64]:  # else a view, which has no type
                    notice = read_json(HubNotice.model_validate_json, raw, "network", out.deadletters)
                    if notice is not None:
                        self._notice(partition, notice, touched)
                    continue
                view = read_json(NetworkView.model_validate_json, raw, "network", out.deadletters)
                if view is None:
                    continue
                graph = touched.get((partition, view.event_id)) or self.store.get(partition, view.event_id)
                graph = graph if graph is not None else EventGraph()
                known = graph.views.get(view.identifier)
                if known is not None and known[0].seq == view.seq:
                    again.add((partition, view.event_id))
                if known is None or known[0].seq < view.seq:
                    graph.views[view.identifier] = (view, raw.value)
                    here = self._users.setdefault(partition, {})
                    here.setdefault(view.identifier, set()).add(view.event_id)
                touched[(partition, view.event_id)] = graph
            for (partition, event_id), graph in touched.items():
                self._update(partition, event_id, graph, out, (partition, event_id) in again)
        return out

    def _index(self) -> None:
        """Keep the users index to the partitions owned: built for a restored one, dropped
        for a revoked one."""
        for partition in set(self._users) - set(self.store.partitions):
            del self._users[partition]
        for partition, table in self.store.partitions.items():
            if partition not in self._users:
                users: dict[str, set[str]] = {}
                for event_id, graph in table.items():
                    for identifier in graph.views:
                        users.setdefault(identifier, set()).add(event_id)
                self._users[partition] = users

    def _notice(self, partition: int, notice: HubNotice, touched: dict[tuple[int, str], EventGraph]) -> None:
        """A hub's new flagged users: every event here that uses it sees their modes."""
        users = self._users.get(partition, {}).get(notice.identifier, set())
        close = {u.event_id for u in notice.flagged} | {u.holder for u in notice.flagged}
        common = tuple(sorted({u.mode for u in notice.flagged}))
        for event_id in sorted(users):
            graph = touched.get((partition, event_id)) or self.store.get(partition, event_id)
            known = graph.views.get(notice.identifier) if graph is not None else None
            if graph is None or known is None:  # swept
                users.discard(event_id)
                continue
            view = known[0]
            if view.seq >= notice.seq:
                continue
            near = view.event_id in close or view.holder in close
            modes = hub_flagged_modes(notice.flagged, view.event_id, view.holder) if near else common
            if view.hub and modes == view.flagged_modes:
                continue  # nothing new for this one (most of a hub's users, most of the time)
            view = view.model_copy(
                update={"seq": notice.seq, "hub": True, "members": (), "flagged_modes": modes}
            )
            graph.views[notice.identifier] = (view, view.model_dump_json().encode())
            touched[(partition, event_id)] = graph

    def _update(
        self, partition: int, event_id: str, graph: EventGraph, out: Networked, again: bool = False
    ) -> None:
        views = [v for v, _ in graph.views.values()]
        near = _neighbours(event_id, views)
        features = compute_features(event_id, views, near)
        encoded = features.model_dump_json().encode()
        if encoded != graph.features:
            graph.features = encoded
            out.features.append((features, encoded, partition))
            self._judge(features, views[0], graph, partition, out)
        elif again and graph.alerted:
            # The state says its alerts were raised, but the batch that raised them may have
            # been cut short before they went out: send them again (the same ids).
            self._judge(features, views[0], graph, partition, out, again=True)
        summary = summary_of(event_id, views, near)
        if summary != (graph.summary or (features.flagged_distance == 0, (), (features.mode,))):
            graph.seq += 1
            graph.summary = summary
            graph.noted = set()
        if graph.summary is not None:  # every identifier hears the summary once (a hub has no use for it)
            close, neighbours, modes = graph.summary
            for identifier, (view, _) in sorted(graph.views.items()):
                if identifier not in graph.noted and not view.hub:
                    graph.noted.add(identifier)
                    out.notes.append(MemberNote(
                        identifier=identifier, event_id=event_id, seq=graph.seq, near=close,
                        neighbours=neighbours, modes=modes,  # type: ignore[arg-type]
                    ))
        out.changelog.append(self.store.put(partition, event_id, graph))
        out.changelog += self.expiry.used(partition, event_id, features.occurred_at.timestamp())

    def _judge(
        self, features: NetworkFeatures, view: NetworkView, graph: EventGraph, partition: int, out: Networked,
        again: bool = False,
    ) -> None:
        """Run the network rules on new features; an alert per rule and event, once (or
        ``again``, those already raised)."""
        for spec, config in self.rules:
            found = spec.check(features, config)
            if found is None:
                continue
            score, detail = found
            alert_id = stable_id("alert", "network", spec.id, spec.version, features.event_id)
            severity = severity_of(score, self.settings.scoring)
            if severity is None or (alert_id in graph.alerted) != again:
                continue
            graph.alerted.add(alert_id)
            evidence: dict[str, str | int | float | bool | None] = {
                "linked_events": features.linked_events, "component_size": features.component_size,
                "modes": ",".join(features.modes), "flagged_distance": features.flagged_distance,
                "new_links_24h": features.new_links_24h, "entities": ",".join(features.entities)[:2000],
            }
            finding = Finding(rule_id=spec.id, rule_version=spec.version, score=score,
                              detail=detail[:500], evidence=evidence)
            out.alerts.append((Alert(
                alert_id=alert_id, event_id=features.event_id, mode=features.mode,
                key=f"network:{features.event_id}", severity=severity, score=score, findings=(finding,),
                explanation=f"{spec.title.rstrip('.')}: {detail} (score {score:.2f}).",
                raised_at=view.received_at, priority=priority(severity, None, view.received_at),
            ), partition))

    def records(self, result: Networked) -> list[OutRecord]:
        """Features and alerts (beside the event's partition), notes, state, dead letters."""
        name = self.settings.topics.name
        out = [OutRecord(name("features"), f.event_id.encode(), raw, p) for f, raw, p in result.features]
        out += [OutRecord(name("alerts"), a.alert_id.encode(), a.model_dump_json().encode(), p)
                for a, p in result.alerts]
        for a, _ in result.alerts:
            ALERTS.labels(rule=a.findings[0].rule_id, severity=a.severity).inc()
        links = name("links")
        out += [OutRecord(links, n.identifier.encode(), n.model_dump_json().encode()) for n in result.notes]
        return out + dead_records(self.settings, result.deadletters) + result.changelog

    def __call__(self, raws: Sequence[RawMessage]) -> list[OutRecord]:
        return self.records(self.run(raws))
