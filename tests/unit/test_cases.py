"""Alert subjects, cases across modes, and one open alert per subject and typology."""

from __future__ import annotations

from datetime import timedelta

from engine.alert.cases import case_id_of, subject_of
from engine.flow.hops import DecideHop
from engine.messages import RawMessage
from engine.settings import ModelSettings, ScoringSettings, Settings
from schemas import Event, stable_id
from tests.fixtures.events import RECEIVED, freight_doc, normalised, passenger_doc, vessel_doc
from tests.unit.test_join import api_event, pnr_event

T0 = RECEIVED - timedelta(days=3)


def raw(event: Event, offset: int) -> RawMessage:
    return RawMessage(value=event.model_dump_json().encode(), topic=f"events.{event.mode}", partition=0,
                      offset=offset)


def hop(**scoring: float) -> DecideHop:
    return DecideHop(Settings(scoring=ScoringSettings(**scoring), models=ModelSettings(enabled=False)))


def reports(*hours: float, imo: str | None = None) -> list[Event]:
    out = []
    for h in hours:
        at = T0 + timedelta(hours=h)
        doc = vessel_doc(at)
        if imo and h == hours[0]:
            doc.update(report_type="voyage", imo=imo)
        out.append(normalised(doc))
    return out


def test_subjects_are_entity_ids_and_a_ship_and_its_cargo_share_a_case() -> None:
    """A traveller's person, a ship's IMO (or MMSI), sea cargo's ship, else the consignee."""
    traveller = normalised(passenger_doc())
    assert subject_of(traveller).startswith("person-")
    ship = normalised(vessel_doc(T0))
    assert subject_of(ship) == stable_id("mmsi", "235000001")
    assert subject_of(ship, known_imo="9074729") == stable_id("vessel", "9074729")
    cargo = normalised(freight_doc(means={"vessel_imo": "9074729"}))
    assert case_id_of(subject_of(cargo)) == case_id_of(subject_of(ship, known_imo="9074729"))
    by_air = normalised(freight_doc(mode_of_transport="air"))
    assert subject_of(by_air).startswith("organisation-")


def test_a_ship_silent_again_within_a_day_is_one_open_alert() -> None:
    """Gaps at 8 h and 16 h: the second is covered by the first; at 40 h a new alert.
    The IMO from the first (voyage) report names the subject of the later ones."""
    h = hop()
    events = reports(0, 8, 16, 40, imo="9074729")
    out = h.run([raw(e, i) for i, e in enumerate(events)])
    alerted = [s for s in out.scores if s.alert_id or s.suppressed_by]
    assert [bool(s.suppressed_by) for s in alerted] == [False, True, False]
    first, covered, later = alerted
    assert covered.suppressed_by == first.alert_id and covered.alert_id is None
    assert [a.event_id for a in out.alerts] == [first.event_id, later.event_id]
    assert {a.case_id for a in out.alerts} == {case_id_of(stable_id("vessel", "9074729"))}
    assert all(a.subject == stable_id("vessel", "9074729") for a in out.alerts)
    again = h.run([raw(events[1], 1)])  # the first alert's event, delivered again
    assert [a.alert_id for a in again.alerts] == [first.alert_id]


def test_suppression_can_be_switched_off() -> None:
    """suppress_hours = 0: every alert is sent."""
    out = hop(suppress_hours=0).run([raw(e, i) for i, e in enumerate(reports(0, 8, 16))])
    assert len(out.alerts) == 2 and not any(s.suppressed_by for s in out.scores)


def test_a_traveller_alerted_by_booking_and_manifest_is_one_alert() -> None:
    """The PNR's event alerts; the manifest's event, joined with the booking, would alert
    the same person for the same typology on the same flight: it is covered."""
    out = hop().run([raw(pnr_event(), 0), raw(api_event(), 1)])
    assert len(out.alerts) == 1
    [covered] = [s for s in out.scores if s.suppressed_by]
    assert covered.suppressed_by == out.alerts[0].alert_id and covered.case_id == out.alerts[0].case_id


def test_anomaly_models_are_checkpointed_once_per_threshold() -> None:
    """checkpoint_every events of a partition and mode: one checkpoint, however big the
    batch; then the count starts again."""
    h = DecideHop(Settings(models=ModelSettings(checkpoint_every=10)))

    def checkpoints(events: list[Event]) -> int:
        out = h.run([raw(e, i) for i, e in enumerate(events)])
        return sum(1 for r in out.changelog if r.topic == h.anomaly.changelog_topic)

    ships = reports(*range(0, 30))
    assert checkpoints(ships[:25]) == 1
    assert checkpoints(ships[25:29]) == 0
    assert checkpoints(ships[29:]) == 0
    saved = h.anomaly.get(0, "anomaly:vessel")
    assert saved is not None and h.scorer.models is not None
    h.scorer.models.load(saved)  # what a new owner would load: signed, readable


def test_giving_up_one_modes_partition_forgets_only_its_open_alerts() -> None:
    """Open alerts of a ship, a flight and a consignment share partition 0 of the changelog;
    dropping the vessel mode's keys leaves the others."""
    from datetime import UTC, datetime

    from engine.alert.cases import OpenAlert
    from engine.flow.hops import open_alert_mode, open_alert_store

    store = open_alert_store(Settings())
    opened = OpenAlert(alert_id="a", at=datetime(2026, 6, 1, tzinfo=UTC), case_id="c")
    keys = ["mmsi:235000001|s|general", "flight:EK0007/2026-06-01/DXB|t|general", "freight-1|o|general"]
    for key in keys:
        store.put(0, key, opened)
    assert [open_alert_mode(k) for k in keys] == ["vessel", "passenger", "freight"]
    store.drop_keys(0, lambda k: open_alert_mode(k) == "vessel")
    assert sorted(store.partitions[0]) == sorted(keys[1:])
