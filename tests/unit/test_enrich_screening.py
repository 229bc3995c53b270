"""Screening in the stream: each event's parties against the watchlists, hits on the
enriched event with the list versions, the watchlist rule, and live list updates."""

from __future__ import annotations

from pathlib import Path

import orjson

from engine.enrich.reference import ReferenceData
from engine.enrich.screening import WatchlistSource, screen_event
from engine.enrich.stage import enrich_batch
from engine.flow.hops import DecideHop, booking_store, enriched_json, track_store
from engine.messages import RawMessage
from engine.settings import Settings
from rules.cross.vessel_identity_changed import Config as IdentityConfig
from rules.cross.vessel_identity_changed import vessel_identity_changed
from rules.cross.watchlist_match import Config, watchlist_match
from schemas import EnrichedEvent
from tests.fixtures.events import enriched, freight_doc, normalised, passenger_doc, vessel_doc


def ftm(entity_id: str, schema: str, dataset: str = "wanted", **props: list[str]) -> bytes:
    return orjson.dumps({"id": entity_id, "schema": schema, "properties": props, "datasets": [dataset]})


PERSON = ftm("p-1", "Person", name=["Maria Sampleson"], birthDate=["1990-02-03"], nationality=["nl"])
COMPANY = ftm("c-1", "Company", "sanctions", name=["Example Trading LLC"], country=["ae"])
VESSEL = ftm("v-1", "Vessel", "vessels", name=["OCEAN SPECIMEN"], imoNumber=["9074729"])


def write_list(tmp_path: Path, name: str, *lines: bytes) -> Path:
    path = tmp_path / f"{name}.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def traveller_doc(given: str = "Maria", surname: str = "Sampleson", dob: str = "1990-02-03") -> dict:
    return passenger_doc(source_id=f"pax-{given}-{surname}", traveller={
        "given_names": given, "surname": surname, "date_of_birth": dob, "nationality": "NLD"})


def test_a_traveller_under_a_reordered_name_is_a_hit_with_its_list_and_version(tmp_path: Path) -> None:
    """'SAMPLESON MARIA' with the listed date of birth matches the listed person."""
    source = WatchlistSource([write_list(tmp_path, "wanted", PERSON)])
    hits = screen_event(normalised(traveller_doc(given="SAMPLESON", surname="MARIA")), source.screener)
    [hit] = hits
    assert (hit.subject, hit.list, hit.entity_id) == ("traveller", "wanted", "p-1")
    assert hit.entity_schema == "Person"
    assert hit.score >= 0.8 and hit.list_version == source.screener.versions()["wanted"]


def test_another_person_of_the_same_surname_is_no_hit(tmp_path: Path) -> None:
    """Same surname, another given name and another date of birth: nothing."""
    source = WatchlistSource([write_list(tmp_path, "wanted", PERSON)])
    assert screen_event(normalised(traveller_doc(given="Tomasz", dob="1961-11-30")), source.screener) == ()


def test_consignment_parties_and_vessels_are_screened(tmp_path: Path) -> None:
    """A consignee on a sanctions list, a vessel by IMO number."""
    source = WatchlistSource([write_list(tmp_path, "sanctions", COMPANY),
                              write_list(tmp_path, "vessels", VESSEL)])
    freight = normalised(freight_doc(consignee={"name": "EXAMPLE TRADING L.L.C.", "country": "AE"}))
    assert [h.subject for h in screen_event(freight, source.screener)] == ["consignee"]
    ship = normalised(vessel_doc(report_type="voyage", imo="9074729", name="RENAMED STAR"))
    [hit] = screen_event(ship, source.screener)
    assert (hit.subject, hit.entity_id, hit.score) == ("vessel", "v-1", 1.0)
    carried = normalised(freight_doc(means={"vessel_imo": "9074729"}))
    assert [(h.subject, h.entity_id) for h in screen_event(carried, source.screener)] == [("vessel", "v-1")]


def test_a_listed_ship_under_a_new_name_or_flag_is_marked_and_alerted(tmp_path: Path) -> None:
    """Matched by IMO: a name unlike the listed ones, or a flag the list does not give, is a
    change and the identity rule fires; the listed name (any spelling) and flag are not."""
    listed = ftm("v-2", "Vessel", "vessels", name=["NORTHERN SPECIMEN"], previousName=["OLD SPECIMEN"],
                 imoNumber=["9074729"], mmsi=["235000001"], flag=["pa"])
    source = WatchlistSource([write_list(tmp_path, "vessels", listed)])

    def changes(**report: str) -> tuple[str, ...]:
        ship = normalised(vessel_doc(report_type="voyage", **report))
        return tuple(c for h in screen_event(ship, source.screener) for c in h.changed)

    assert changes(imo="9074729", name="Northern Specimen", flag="PA") == ()
    assert changes(imo="9074729", name="SPECIMEN NORTHERN", flag="PA") == ()
    assert changes(imo="9074729", name="OLD SPECIMEN") == ()
    assert changes(imo="9074729", name="BLUE HORIZON", flag="PA") == ("name",)
    assert changes(mmsi="235000001", imo="1234567", name="NORTHERN SPECIMEN", flag="CM") == ("flag",)
    assert changes(mmsi="235000002", imo="1234567", name="NORTHERN SPECIMEN", flag="CM") == ()  # name only
    renamed = enriched(vessel_doc(report_type="voyage", imo="9074729", name="BLUE HORIZON", flag="CM"),
                       screener=source.screener)
    [found] = vessel_identity_changed(renamed, IdentityConfig())
    assert "new name and flag" in found.detail and found.evidence["entity_id"] == "v-2"
    same = enriched(vessel_doc(report_type="voyage", imo="9074729", name="NORTHERN SPECIMEN"),
                    screener=source.screener)
    assert list(vessel_identity_changed(same, IdentityConfig())) == []


def test_enriched_events_carry_hits_and_the_versions_screened_against(tmp_path: Path) -> None:
    """Every enriched event names the lists in force, hit or not; the splice of its JSON
    stays the model's own."""
    source = WatchlistSource([write_list(tmp_path, "wanted", PERSON)])
    events = [normalised(traveller_doc()), normalised(traveller_doc(given="Tomasz", dob="1961-11-30"))]
    hit, miss = enrich_batch(events, ReferenceData(Settings().reference), source.screener)
    assert hit.screening and not miss.screening
    assert hit.watchlist_versions == miss.watchlist_versions == source.screener.versions()
    for e in (hit, miss):
        assert EnrichedEvent.model_validate_json(enriched_json(e, e.event.model_dump_json().encode())) == e


def test_the_watchlist_rule_scores_the_best_hit_without_personal_data(tmp_path: Path) -> None:
    """The finding names the list and the entry, never the traveller's name."""
    source = WatchlistSource([write_list(tmp_path, "wanted", PERSON)])
    [hit] = enrich_batch([normalised(traveller_doc())], ReferenceData(Settings().reference), source.screener)
    [finding] = list(watchlist_match(hit, Config()))
    assert finding.score >= 0.8 and "wanted" in finding.detail and "p-1" in finding.detail
    assert "Sampleson" not in finding.detail and "SAMPLESON" not in finding.detail
    assert list(watchlist_match(hit, Config(list_weights={"wanted": 0.5})))[0].score <= 0.5


def test_updates_from_the_topic_apply_to_the_next_screening() -> None:
    """An entity published, then its tombstone: the screener follows; a bad record is
    skipped; the list's version changes with its content."""
    source = WatchlistSource()
    assert source.empty
    event = normalised(traveller_doc())
    assert source.apply([(b"p-1", PERSON), (b"x", b"not json")])
    assert [h.entity_id for h in screen_event(event, source.screener)] == ["p-1"]
    first = source.screener.versions()["wanted"]
    assert source.apply([(b"p-2", ftm("p-2", "Person", name=["Alex Example"]))])
    assert source.screener.versions()["wanted"] != first
    assert source.apply([(b"p-1", None)])
    assert screen_event(event, source.screener) == ()
    assert not source.apply([(b"unknown", None)])


def test_the_decide_hop_screens_with_the_current_lists(tmp_path: Path) -> None:
    """A list applied between two batches is used from the next batch on, and the hit
    raises an alert from the watchlist rule."""
    settings = Settings()
    source = WatchlistSource()
    hop = DecideHop(settings, track_store(settings), booking_store(settings), source)
    raw = RawMessage(value=normalised(traveller_doc()).model_dump_json().encode(),
                     topic="events.passenger", partition=0)
    assert hop.run([raw]).enriched[0].screening == ()
    source.apply([(b"p-1", PERSON)])
    out = hop.run([raw])
    assert out.enriched[0].screening
    [alert] = out.alerts
    assert "cross_watchlist_match" in {f.rule_id for f in alert.findings}
