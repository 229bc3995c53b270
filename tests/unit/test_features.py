"""Entities and network features: stable entity ids, the views the link hop sends, the
features the network hop works out, the network rule, and results that do not depend
on the order the uses arrive in."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from engine.link.features import EventGraph, NetworkHop, compute_features, merge_graphs, summary_of
from engine.link.hop import KEEP, LinkHop
from engine.link.identifiers import code_key, links_of, organisation_key, person_key
from engine.messages import RawMessage
from engine.pipeline import Pipeline
from engine.replay import replay_files
from engine.settings import Settings
from engine.simulate.feeds import FILES, FeedSimulator, write_simulation
from rules.cross.flagged_across_modes import Config as AcrossConfig
from rules.cross.flagged_across_modes import flagged_across_modes
from schemas import stable_id
from schemas.link import Link, LinkMember, MemberNote, NetworkFeatures, NetworkView, ViewMember
from tests.fixtures.events import freight_doc, normalised, passenger_doc, raw_message

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def member(n: int, mode: str = "passenger", flagged: bool = False, hours: float = 0.0,
           holder: str | None = None) -> LinkMember:
    at = T0 + timedelta(hours=hours)
    role = "booking" if mode == "passenger" else "consignee"
    return LinkMember(event_id=f"{mode}-{n}", mode=mode, holder=holder or f"h{n}", role=role,  # type: ignore[arg-type]
                      occurred_at=at, received_at=at, flagged=flagged)


def view(event: str, identifier: str, members: list[ViewMember], flagged: bool = False, seq: int = 1,
         mode: str = "passenger", hub: bool = False, flagged_modes: tuple[str, ...] = ()) -> NetworkView:
    return NetworkView(event_id=event, identifier=identifier, kind="phone", seq=seq, mode=mode, holder=event,  # type: ignore[arg-type]
                       occurred_at=T0, received_at=T0, flagged=flagged, hub=hub, members=tuple(members),
                       flagged_modes=flagged_modes)  # type: ignore[arg-type]


def neighbour(event: str, mode: str = "passenger", flagged: bool = False, near: bool = False,
              neighbours: tuple[str, ...] = (), modes: tuple[str, ...] = (),
              hours: float = -1.0) -> ViewMember:
    return ViewMember(event_id=event, mode=mode, occurred_at=T0 + timedelta(hours=hours), flagged=flagged,  # type: ignore[arg-type]
                      near=near or flagged, neighbours=neighbours, modes=modes or (mode,))  # type: ignore[arg-type]


# -- entities --


def test_entities_resolve_to_one_id_however_they_are_spelt() -> None:
    """Name order, case and accents; a company's legal form; spacing in a document number."""
    assert person_key("Zoë Anne", "Sample", "1980-02-03") == person_key("ANNE", "SAMPLE ZOE", "1980-02-03")
    assert person_key("Zoë", "Sample", "1980-02-03") != person_key("Zoë", "Sample", "1980-02-04")
    assert person_key("Zoë", "Sample", None) is None  # a name alone is not an identity
    trader = organisation_key("Sample Trading Ltd.", "GB", None)
    assert trader == organisation_key("SAMPLE TRADING", "GB", None)
    assert organisation_key("Sample Trading", "GB", None) != organisation_key("Sample Trading", "NL", None)
    assert organisation_key("A Name", "GB", "gb 1234567890") == organisation_key("X", None, "GB1234567890")
    assert code_key("ab 12-34") == "AB1234" and code_key("a1") is None


def test_every_mode_gives_its_entities() -> None:
    """A manifest: person and document; a booking: its contacts but not the person again;
    a declaration: traders as organisations, containers, the vessel."""
    api = normalised(passenger_doc(source="api", booking=None))
    assert {k.kind for k in links_of(api, T0, flagged=False)} == {"person", "document"}
    pnr = normalised(passenger_doc(source="pnr", booking={"phones": ["+44 7700 900123"]}))
    assert {k.kind for k in links_of(pnr, T0, flagged=False)} == {"phone"}
    goods = normalised(freight_doc(means={"vessel_imo": "9074729"}))
    kinds = [k.kind for k in links_of(goods, T0, flagged=False)]
    assert sorted(kinds) == ["container", "organisation", "organisation", "vessel"]
    ids = [k.identifier for k in links_of(api, T0, flagged=False)]
    assert all(i.startswith(("person-", "document-")) and "Example" not in i for i in ids)


def test_a_trip_seen_by_manifest_and_booking_is_one_holder() -> None:
    """The manifest's and the booking's events of one traveller's trip do not link each other."""
    a = [k for k in links_of(normalised(passenger_doc(source="api")), T0, False) if k.kind == "person"]
    b = [k for k in links_of(normalised(passenger_doc(source="json", source_id="other")), T0, False)
         if k.kind == "person"]
    assert a[0].identifier == b[0].identifier and a[0].member.holder == b[0].member.holder
    hop = LinkHop(Settings())
    out = hop.run([RawMessage(value=k.model_dump_json().encode(), topic="links") for k in (*a, *b)])
    assert out.views and all(NetworkView.model_validate_json(v).members == () for _, v in out.views)


# -- features --


def test_features_count_one_and_two_hops_and_the_modes() -> None:
    """Neighbours through each identifier, once; their neighbours from their notes."""
    views = [
        view("p-1", "phone-a", [neighbour("p-2", neighbours=("p-1", "p-9")), neighbour("f-3", "freight")]),
        view("p-1", "email-b", [neighbour("p-2")]),
    ]
    f = compute_features("p-1", views)
    assert (f.linked_events, f.component_size) == (2, 4)  # p-2, f-3; then p-9; and itself
    assert f.modes == ("freight", "passenger") and f.flagged_distance is None
    assert f.entities == ("email-b", "phone-a") and f.hub_entities == 0


def test_flagged_distance_zero_one_two() -> None:
    assert compute_features("p-1", [view("p-1", "x", [], flagged=True)]).flagged_distance == 0
    one = compute_features("p-1", [view("p-1", "x", [neighbour("f-2", "freight", flagged=True)])])
    assert one.flagged_distance == 1 and one.flagged_neighbour_modes == ("freight",)
    two = compute_features("p-1", [view("p-1", "x", [neighbour("p-2", near=True)])])
    assert two.flagged_distance == 2 and two.flagged_neighbour_modes == ()


def test_a_hub_counts_only_towards_flagged_distance() -> None:
    hub = view("f-1", "addr", [], mode="freight", hub=True, flagged_modes=("vessel",))
    f = compute_features("f-1", [hub])
    assert (f.linked_events, f.component_size, f.hub_entities) == (0, 1, 1)
    assert f.flagged_distance == 1 and f.flagged_neighbour_modes == ("vessel",)


def test_new_links_are_the_uses_in_the_day_up_to_the_event() -> None:
    around = [neighbour("p-2", hours=-2), neighbour("p-3", hours=-30), neighbour("p-4", hours=5)]
    views = [view("p-1", "x", around)]
    assert compute_features("p-1", views).new_links_24h == 1


def test_the_summary_is_what_neighbours_need_two_hops_out() -> None:
    views = [view("p-1", "x", [neighbour("f-2", "freight", flagged=True), neighbour("p-3")])]
    assert summary_of("p-1", views) == (True, ("f-2", "p-3"), ("freight", "passenger"))


def test_the_network_rule_reads_flagged_neighbours_of_another_mode() -> None:
    """A traveller next to a flagged consignment: yes; next to a flagged traveller, or a
    vessel next to the goods it carries: no."""
    def features(mode: str, flagged_modes: tuple[str, ...]) -> NetworkFeatures:
        return NetworkFeatures(event_id="e", mode=mode, occurred_at=T0, entities=(), linked_events=1,  # type: ignore[arg-type]
                               component_size=2, modes=("freight", "passenger"), flagged_distance=1,
                               flagged_neighbour_modes=flagged_modes, new_links_24h=0, hub_entities=0)  # type: ignore[arg-type]
    config = AcrossConfig()
    found = flagged_across_modes(features("passenger", ("freight",)), config)
    assert found is not None and "flagged freight" in found[1]
    assert flagged_across_modes(features("passenger", ("passenger",)), config) is None
    assert flagged_across_modes(features("vessel", ("freight",)), config) is None


# -- the hops --


def by_event(views: list[tuple[bytes, bytes]]) -> dict[str, NetworkView]:
    parsed = [NetworkView.model_validate_json(v) for _, v in views]
    return {v.event_id: v for v in parsed}


def uses(*links: Link) -> list[RawMessage]:
    return [RawMessage(value=k.model_dump_json().encode(), key=k.identifier.encode(), topic="links")
            for k in links]


def test_every_user_of_an_identifier_hears_of_a_new_one() -> None:
    hop = LinkHop(Settings())
    phone = stable_id("phone", "1")
    first = hop.run(uses(Link(identifier=phone, kind="phone", member=member(1))))
    assert [NetworkView.model_validate_json(v).members for _, v in first.views] == [()]
    second = hop.run(uses(Link(identifier=phone, kind="phone", member=member(2, "freight", flagged=True))))
    seen = by_event(second.views)
    assert set(seen) == {"passenger-1", "freight-2"}
    assert seen["passenger-1"].members[0].flagged and seen["passenger-1"].seq > 1


def test_a_hub_keeps_its_newest_users_and_tells_the_rest_through_the_network_hop() -> None:
    """From HUB holders an identifier shows no one and keeps its newest KEEP users; a
    flagged user joining sends a notice to every network partition, and the network hop
    gives every event there using the hub the flagged modes (not the flagged one itself)."""
    settings = Settings()
    link_hop, network_hop = LinkHop(settings), NetworkHop(settings)
    address = stable_id("address", "1")
    many = [Link(identifier=address, kind="address", member=member(n, "freight", hours=n))
            for n in range(40)]
    out = link_hop.run(uses(*many))
    assert all(NetworkView.model_validate_json(v).members == () for _, v in out.views[-20:])
    assert len(link_hop._state(0, address).members) == KEEP  # type: ignore[union-attr]
    network_hop.run([RawMessage(value=v, key=k, topic="network") for k, v in out.views])
    flagged = link_hop.run(uses(Link(identifier=address, kind="address", member=member(99, flagged=True))))
    assert len(flagged.notices) == 1 and len(flagged.views) == 1
    assert len(link_hop.records(flagged)) > settings.topics.partitions  # a notice per partition
    sent = (*flagged.views, *flagged.notices)
    told = network_hop.run([RawMessage(value=v, key=k, topic="network") for k, v in sent])
    by = {f.event_id: f for f, _, _ in told.features}
    assert len(by) == 41
    assert all(by[f"freight-{n}"].flagged_neighbour_modes == ("passenger",) for n in range(40))
    assert by["passenger-99"].flagged_distance == 0 and by["passenger-99"].flagged_neighbour_modes == ()


def test_users_a_new_hub_drops_at_once_hear_it_is_a_hub() -> None:
    """Eight uses of one holder, then eleven more holders: the twelfth makes a hub of 19
    uses that keeps 16; the three it drops learn it from the notice, not from a view."""
    settings = Settings()
    link_hop, network_hop = LinkHop(settings), NetworkHop(settings)
    address = stable_id("address", "2")
    group = [member(n, "freight", hours=n, holder="decl:GROUP:consignee") for n in range(8)]
    others = [member(n, "freight", hours=n) for n in range(8, 19)]
    for m in (*group, *others):
        out = link_hop.run(uses(Link(identifier=address, kind="address", member=m)))
        network_hop.run([RawMessage(value=v, key=k, topic="network") for k, v in (*out.views, *out.notices)])
    final = {e: network_hop.store.get(0, e) for e in (m.event_id for m in (*group, *others))}
    assert all(g is not None and g.views[address][0].hub for g in final.values())


def test_the_network_hop_keeps_the_latest_view_and_sends_notes() -> None:
    """An older view (lower seq) does not replace a newer; a summary that changed goes to
    every identifier of the event as a note; a bad record is a dead letter; an alert is
    raised once, and sent again on a redelivered view."""
    hop = NetworkHop(Settings())
    newer = view("p-1", "phone-a", [neighbour("f-2", "freight", flagged=True)], seq=5)
    older = view("p-1", "phone-a", [], seq=3)
    other = view("p-1", "email-b", [], seq=1)
    raws = [RawMessage(value=v.model_dump_json().encode(), topic="network") for v in (newer, older, other)]
    out = hop.run([*raws, RawMessage(value=b"{}", topic="network")])
    assert [f.flagged_distance for f, _, _ in out.features] == [1]
    assert sorted(n.identifier for n in out.notes) == ["email-b", "phone-a"]
    assert all(n.near and n.neighbours == ("f-2",) for n in out.notes)
    assert [d.reason for d in out.deadletters] == ["invalid_schema"]
    [alert] = [a for a, _ in out.alerts]
    assert alert.findings[0].rule_id == "cross_flagged_across_modes" and alert.event_id == "p-1"
    # Once per event: a later view that changes nothing raises nothing; the same view
    # redelivered (its batch may have been cut short) sends the same alert again.
    later = newer.model_copy(update={"seq": 6})
    assert hop.run([RawMessage(value=later.model_dump_json().encode(), topic="network")]).alerts == []
    assert [a.alert_id for a, _ in hop.run(raws[:1]).alerts] == []  # older than what it holds now
    again = hop.run([RawMessage(value=later.model_dump_json().encode(), topic="network")]).alerts
    assert [a.alert_id for a, _ in again] == [alert.alert_id]


def test_event_state_survives_the_changelog_and_merges() -> None:
    graph = EventGraph()
    v = view("p-1", "phone-a", [neighbour("p-2")], seq=2)
    graph.views["phone-a"] = (v, v.model_dump_json().encode())
    graph.summary, graph.seq, graph.alerted = (False, ("p-2",), ("passenger",)), 1, {"alert-x"}
    back = EventGraph.decode(graph.encode())
    assert back.views["phone-a"][0] == v and back.summary == graph.summary and back.alerted == {"alert-x"}
    newer = view("p-1", "phone-a", [], seq=4)
    other = EventGraph(views={"phone-a": (newer, newer.model_dump_json().encode())}, alerted={"alert-y"})
    merged = merge_graphs(back, other)
    assert merged.views["phone-a"][0].seq == 4 and merged.alerted == {"alert-x", "alert-y"}


def test_a_note_reaches_the_other_users_of_an_identifier() -> None:
    hop = LinkHop(Settings())
    phone = stable_id("phone", "1")
    hop.run(uses(*(Link(identifier=phone, kind="phone", member=member(n)) for n in (1, 2))))
    note = MemberNote(identifier=phone, event_id="passenger-1", seq=1, near=True,
                      neighbours=("passenger-2", "x"), modes=("passenger",))
    out = hop.run([RawMessage(value=note.model_dump_json().encode(), topic="links")])
    [told] = [NetworkView.model_validate_json(v) for _, v in out.views]
    assert told.event_id == "passenger-2" and told.members[0].near and "x" in told.members[0].neighbours
    assert hop.run([RawMessage(value=note.model_dump_json().encode(), topic="links")]).views == []


def test_features_and_alerts_do_not_depend_on_the_order_of_arrival(tmp_path: Path) -> None:
    """Simulator traffic's uses, fed to fresh link and network hops shuffled (uses and
    notes interleaved at random and in batches of random size, as partitions and workers
    interleave them): the same last features per event, the same alerts as replay."""
    out = tmp_path / "d"
    write_simulation(out, FeedSimulator(seed=5, cases_per_10k=60), count=1200)
    files = [out / "watchlist.jsonl", *(out / name for name in FILES.values())]
    replayed = replay_files(files, Settings(), keep_links=True)
    links = [(Link.model_validate_json(v).identifier.encode(), v) for v in replayed.links]

    def run(seed: int) -> tuple[dict[str, NetworkFeatures], set[str]]:
        rng = random.Random(seed)
        link_hop, network_hop = LinkHop(Settings()), NetworkHop(Settings())
        pending = [RawMessage(value=v, key=k, topic="links") for k, v in links]
        rng.shuffle(pending)
        views: list[RawMessage] = []
        features: dict[str, NetworkFeatures] = {}
        alerts: set[str] = set()
        while pending or views:
            cut = rng.randint(1, 200)
            batch, pending = pending[:cut], pending[cut:]
            linked = link_hop.run(batch)
            alerts.update(a.alert_id for a in linked.alerts)
            # Views and notices keep their order (one network partition, as Kafka keeps it).
            sent = (*linked.views, *linked.notices)
            views += [RawMessage(value=v, key=k, topic="network") for k, v in sent]
            cut = rng.randint(1, 400)
            take, views = views[:cut], views[cut:]
            networked = network_hop.run(take)
            alerts.update(a.alert_id for a, _ in networked.alerts)
            features.update((f.event_id, f) for f, _, _ in networked.features)
            pending += [RawMessage(value=n.model_dump_json().encode(), topic="links")
                        for n in networked.notes]
            rng.shuffle(pending)
        return features, alerts

    expected = replayed.final_features()
    assert any(f.linked_events for f in expected.values())
    assert any(f.flagged_distance for f in expected.values())
    link_alerts = {a.alert_id for a in replayed.alerts if a.key.startswith(("link:", "network:"))}
    for seed in (1, 2):
        features, alerts = run(seed)
        assert features == expected
        assert alerts == link_alerts


def test_the_pipeline_gives_features_for_every_event_with_an_entity() -> None:
    """Three bookings sharing a phone: each event's features name the other two."""
    pipeline = Pipeline(Settings())
    booked = "2025-01-15T10:00:00+00:00"
    docs = [passenger_doc(source_id=f"p{n}", booking={
        "record_locator": f"LOC{n:03d}", "phones": ["+447700900123"], "booked_at": booked,
    }) for n in range(3)]
    result = pipeline.run([raw_message(d) for d in docs])
    final = result.final_features()
    assert len(final) == 3 and all(f.linked_events == 2 for f in final.values())
