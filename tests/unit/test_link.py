"""Linking across events: identifiers, the link state per identifier, the link rules, and
network alerts that do not depend on the order the uses arrive in."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from engine.link.hop import LinkHop, LinkState, add_member, link_store, merge_encoded
from engine.link.identifiers import address_key, email_key, links_of, phone_key
from engine.link.network import neighbourhood, render
from engine.messages import RawMessage
from engine.replay import replay_files
from engine.settings import Settings
from rules.cross.container_reuse import Config as ContainerConfig
from rules.cross.container_reuse import container_reuse
from rules.cross.courier_network import Config as CourierConfig
from rules.cross.courier_network import courier_network
from rules.cross.traveller_flagged_trader import Config as TraderConfig
from rules.cross.traveller_flagged_trader import traveller_flagged_trader
from schemas import stable_id
from schemas.link import Link, LinkMember
from tests.fixtures.events import freight_doc, normalised, passenger_doc

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
runner = CliRunner()
PHONE = stable_id("phone", "447700900123")


def booking(n: int, route: str = "LOS-LHR", days: float = 0.0, locator: str | None = None) -> LinkMember:
    at = T0 + timedelta(days=days)
    return LinkMember(event_id=f"passenger-{n}", mode="passenger", holder=f"pnr:{locator or f'LOC{n:03d}'}",
                      role="booking", route=route, occurred_at=at, received_at=at, flagged=False)


def consignment(n: int, flagged: bool, days: float = 0.0) -> LinkMember:
    at = T0 + timedelta(days=days)
    return LinkMember(event_id=f"freight-{n}", mode="freight", holder=f"decl:D{n}:consignee",
                      role="consignee", occurred_at=at, received_at=at, flagged=flagged)


def test_identifiers_are_normalised_and_hashed() -> None:
    """Spellings of one phone, email or address give one id; the id carries no value."""
    assert phone_key("+44 (0)7700 900123") == phone_key("+44 7700 900123")
    assert phone_key("0044 7700 900123") == phone_key("+447700900123")
    assert email_key(" Alex.Sample@Example.COM ") == "alex.sample@example.com" and email_key("nope") is None
    assert address_key("12 Sample Street, Leeds") == address_key("12 sample street")
    pax = normalised(passenger_doc(booking={"phones": ["+44 7700 900123"], "emails": ["A@example.com"]}))
    links = list(links_of(pax, T0, flagged=False))
    assert {link.kind for link in links} >= {"phone", "email"}
    assert all("7700" not in link.model_dump_json() for link in links)
    assert {link.identifier for link in links if link.kind == "phone"} == {PHONE}


def test_a_consignment_links_through_its_parties() -> None:
    """Consignee phone and email give links with the party as the holder."""
    event = normalised(freight_doc(consignee={"name": "Example Imports Ltd", "country": "GB",
                                              "phone": "+447700900123"}))
    [link] = [k for k in links_of(event, T0, flagged=True) if k.kind == "phone"]
    assert (link.identifier, link.member.role, link.member.flagged) == (PHONE, "consignee", True)


def test_a_redelivered_use_changes_nothing() -> None:
    """The same event's use of an identifier twice is one use."""
    state = add_member(None, booking(1))
    assert add_member(state, booking(1)) is state


def test_three_bookings_on_one_route_within_days_are_a_network() -> None:
    """Two bookings are not a network; a third within the window on the route is; other
    routes and old bookings do not count."""
    config = CourierConfig()
    members = [booking(1), booking(2, days=1)]
    assert courier_network("phone", members, config) is None
    assert courier_network("phone", [*members, booking(3, route="BOM-LHR", days=2)], config) is None
    assert courier_network("phone", [booking(0, days=-30), *members], config) is None
    network = courier_network("phone", [*members, booking(3, days=2)], config)
    assert network is not None and network.scope == "LOS-LHR"
    assert set(network.events) == {"passenger-1", "passenger-2", "passenger-3"}
    assert "LOS-LHR" in network.detail and "phone" in network.detail


def test_travellers_on_one_booking_are_not_a_network() -> None:
    """A family on one record shares its contact: one booking, however many travellers."""
    members = [booking(n, locator="FAMILY") for n in range(4)]
    assert courier_network("phone", members, CourierConfig()) is None


def test_a_traveller_linked_to_a_flagged_consignment() -> None:
    """Only a flagged consignment, and only within the window."""
    config = TraderConfig()
    assert traveller_flagged_trader("phone", [booking(1), consignment(1, flagged=False)], config) is None
    late = [booking(1, days=20), consignment(1, flagged=True)]
    assert traveller_flagged_trader("phone", late, config) is None
    network = traveller_flagged_trader("phone", [booking(1, days=2), consignment(1, flagged=True)], config)
    assert network is not None and network.subject.event_id == "passenger-1"


def raws(members: list[LinkMember]) -> list[RawMessage]:
    return [RawMessage(value=Link(identifier=PHONE, kind="phone", member=m).model_dump_json().encode(),
                       topic="links", partition=2) for m in members]


def test_network_alerts_do_not_depend_on_arrival_order() -> None:
    """Four bookings sharing a phone, in every order: one alert, with the same id each time."""
    members = [booking(n, days=n * 0.5) for n in range(4)]
    ids = set()
    for order in itertools.permutations(members):
        hop = LinkHop(Settings(), link_store(Settings()))
        alerts = hop.run(raws(list(order))).alerts
        assert len(alerts) == 1
        ids.add(alerts[0].alert_id)
        assert alerts[0].key == f"link:{PHONE}" and alerts[0].findings[0].rule_id == "cross_courier_network"
    assert len(ids) == 1


def test_the_link_hop_writes_its_state_and_merges_writers() -> None:
    """Each new use writes the identifier's state; what two writers saved merges to both."""
    hop = LinkHop(Settings(), link_store(Settings()))
    out = hop.run(raws([booking(1), booking(2)]))
    assert len(out.changelog) == 1 and out.changelog[-1].partition == 2  # once per batch
    alerted = hop.run(raws([booking(3)])).alerts
    assert len(alerted) == 1
    a = LinkState(members=(booking(1),)).model_dump_json().encode()
    b = LinkState(members=(booking(2),), raised=tuple(alerted)).model_dump_json().encode()
    merged = LinkState.model_validate_json(merge_encoded(a, b))
    assert [m.event_id for m in merged.members] == ["passenger-1", "passenger-2"]
    assert merged.alerted == {alerted[0].alert_id}


def test_a_redelivered_use_sends_its_network_alert_again() -> None:
    """The state says the network was alerted, but the alert may not have gone out before a
    crash: the redelivered use sends it again, with the same id; a new use does not."""
    hop = LinkHop(Settings(), link_store(Settings()))
    [alert] = hop.run(raws([booking(1), booking(2), booking(3)])).alerts
    assert hop.run(raws([booking(3)])).alerts == [alert]
    assert hop.run(raws([booking(4, days=1)])).alerts == []


def test_a_bad_link_record_is_a_dead_letter() -> None:
    """Something that is not a Link is parked with its reason; the hop goes on."""
    hop = LinkHop(Settings(), link_store(Settings()))
    out = hop.run([RawMessage(value=b'{"identifier": 1}', topic="links"), *raws([booking(1)])])
    assert [d.reason for d in out.deadletters] == ["invalid_schema"] and len(out.changelog) == 1


def goods(n: int, carrier: str, days: float) -> LinkMember:
    at = T0 + timedelta(days=days)
    return LinkMember(event_id=f"freight-{n}", mode="freight", holder=f"decl:D{n}", role="goods",
                      carrier=carrier, occurred_at=at, received_at=at, flagged=False)


def test_a_container_on_two_ships_at_once() -> None:
    """Two declarations, two vessels, arrivals days apart: one box cannot be on both. The
    same ship (a second declaration of one voyage) or weeks apart (the next voyage) is fine."""
    config = ContainerConfig()
    assert container_reuse("container", [goods(1, "9074729", 0), goods(2, "9074729", 2)], config) is None
    assert container_reuse("container", [goods(1, "9074729", 0), goods(2, "9176187", 30)], config) is None
    network = container_reuse("container", [goods(1, "9074729", 0), goods(2, "9176187", 3)], config)
    assert network is not None and network.events == ("freight-1", "freight-2")
    assert network.subject.event_id == "freight-2"


def test_a_consignment_links_through_its_containers() -> None:
    """Each container of a consignment is a link, timed by the expected arrival."""
    event = normalised(freight_doc(means={"vessel_imo": "9074729"}))
    boxes = [k for k in links_of(event, T0, flagged=False) if k.kind == "container"]
    assert [k.member.carrier for k in boxes] == ["9074729"] and boxes[0].member.role == "goods"


def test_the_neighbourhood_of_an_identifier_two_hops_out() -> None:
    """From a phone: the bookings that used it (1 hop), and what else those used (2 hops);
    the rendering names kinds, roles and routes, never a phone number."""
    other = stable_id("email", "a@example.com")
    links = [Link(identifier=PHONE, kind="phone", member=booking(1)),
             Link(identifier=PHONE, kind="phone", member=booking(2)),
             Link(identifier=other, kind="email", member=booking(2)),
             Link(identifier=other, kind="email", member=booking(3)),
             Link(identifier=stable_id("phone", "x"), kind="phone", member=booking(9))]
    hood = neighbourhood(links, f"link:{PHONE}".removeprefix("link:"))
    assert hood.events == {"passenger-1": 1, "passenger-2": 1}
    assert hood.identifiers == {PHONE: 0, other: 2}
    far = neighbourhood(links, PHONE, hops=3)
    assert "passenger-3" in far.events and "passenger-9" not in far.events
    text = render(far)
    assert "LOS-LHR" in text and "booking" in text and "7700" not in text
    assert not neighbourhood(links, "nothing").found


def test_network_command_on_feed_files(tmp_path: Path) -> None:
    """`gatehound network KEY FILES...` prints the network behind a courier alert."""
    out = tmp_path / "d"
    made = runner.invoke(app, ["simulate", "--seed", "2", "--count", "2500", "--out", str(out)])
    assert made.exit_code == 0, made.output
    files = sorted(str(p) for p in out.iterdir())
    replayed = replay_files([Path(f) for f in files], Settings())
    alert = next(a for a in replayed.alerts if a.findings[0].rule_id == "cross_courier_network")
    result = runner.invoke(app, ["network", alert.key, *files])
    assert result.exit_code == 0, result.output
    assert alert.event_id in result.output and "as booking" in result.output
    missing = runner.invoke(app, ["network", "phone-nothing", *files])
    assert missing.exit_code == 1 and "not in the link graph" in missing.output


def test_identifiers_unused_past_the_horizon_are_swept() -> None:
    """Old identifiers are forgotten, with a tombstone each; recent ones stay."""
    hop = LinkHop(Settings(), link_store(Settings()))
    hop.expiry.every = 3
    old = Link(identifier=stable_id("phone", "old"), kind="phone", member=booking(1))
    recent = [Link(identifier=stable_id("phone", f"r{n}"), kind="phone", member=booking(n, days=40))
              for n in (2, 3)]
    out = hop.run([RawMessage(value=k.model_dump_json().encode(), topic="links", partition=0)
                   for k in (old, *recent)])
    tombstones = [r for r in out.changelog if r.value is None]
    assert [r.key for r in tombstones] == [old.identifier.encode()]
    assert set(hop.store.partitions[0]) == {k.identifier for k in recent}
