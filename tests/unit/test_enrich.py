"""The enrich stage: reference facts about the places an event touches, and its entity key."""

from __future__ import annotations

import orjson
import pytest

from engine.enrich import enrich_batch, parse_events
from engine.keys import entity_key
from tests.fixtures.events import (
    DROP,
    enriched,
    freight_doc,
    normalised,
    passenger_doc,
    raw_message,
    reference,
    vessel_doc,
)


def _connecting_via_istanbul(**overrides: object) -> dict:
    """Tehran -> Istanbul -> London, the event being the last leg IST -> LHR."""
    return passenger_doc(
        flight={"departure_airport": "IST"}, route=["IKA", "IST", "LHR"], **overrides
    )


@pytest.mark.parametrize(
    ("iata", "country"), [("LHR", "GB"), ("JFK", "US"), ("IKA", "IR"), ("IST", "TR"), ("FNJ", "KP")]
)
def test_airports_map_to_their_country(iata: str, country: str) -> None:
    """An IATA airport code resolves to the ISO alpha-2 country it is in."""
    assert reference().airport_country(iata) == country


def test_unknown_airport_has_no_country() -> None:
    """A code that is no airport resolves to nothing rather than a guess."""
    assert reference().airport_country("ZZZ") is None


@pytest.mark.parametrize(
    ("code", "alpha2"), [("GB", "GB"), ("GBR", "GB"), ("IRN", "IR"), ("D", "DE")]
)
def test_country_codes_normalise_to_alpha2(code: str, alpha2: str) -> None:
    """Alpha-2, alpha-3 and ICAO document codes all resolve to an ISO alpha-2 country."""
    assert reference().country(code) == alpha2


@pytest.mark.parametrize("code", ["XX", "QQQ", "UNO"])
def test_codes_that_are_no_country_resolve_to_none(code: str) -> None:
    """Made-up codes and the UN's document code are not countries."""
    assert reference().country(code) is None


def test_route_facts_follow_the_itinerary() -> None:
    """The countries of a passenger's route are listed in travel order, arrival last."""
    facts = enriched(_connecting_via_istanbul()).reference
    assert facts.countries == ("IR", "TR", "GB")
    assert facts.arrival_country == "GB"
    assert facts.unknown_codes == ()


def test_route_through_tehran_is_high_risk_by_default() -> None:
    """With default settings a journey starting at IKA touches the high-risk country IR."""
    facts = enriched(_connecting_via_istanbul()).reference
    assert "IR" in facts.high_risk_countries
    assert facts.high_risk_routes == ()


def test_route_through_safe_countries_is_not_high_risk() -> None:
    """A JFK -> LHR journey touches no high-risk country."""
    facts = enriched(passenger_doc()).reference
    assert facts.countries == ("US", "GB")
    assert facts.high_risk_countries == ()


def test_high_risk_country_list_comes_from_settings() -> None:
    """Configured high-risk countries replace the default list (case-insensitively)."""
    facts = enriched(passenger_doc(), reference(high_risk_countries=["us"])).reference
    assert facts.high_risk_countries == ("US",)


def test_configured_airport_route_matches() -> None:
    """A configured IATA pair matches a direct flight between those airports."""
    doc = passenger_doc(flight={"departure_airport": "IKA"}, route=["IKA", "LHR"])
    facts = enriched(doc, reference(high_risk_routes=["IKA-LHR"])).reference
    assert facts.high_risk_routes == ("IKA-LHR",)


def test_configured_airport_route_matches_a_connecting_journey() -> None:
    """An IATA pair matches a journey from its origin that connects on the way."""
    facts = enriched(_connecting_via_istanbul(), reference(high_risk_routes=["ika-lhr"])).reference
    assert facts.high_risk_routes == ("IKA-LHR",)


def test_configured_country_route_matches() -> None:
    """A configured ISO country pair matches a journey from that country to that country."""
    facts = enriched(_connecting_via_istanbul(), reference(high_risk_routes=["IR-GB"])).reference
    assert facts.high_risk_routes == ("IR-GB",)


def test_configured_route_does_not_match_other_journeys() -> None:
    """A configured route is not matched by a journey between other places, or the reverse way."""
    ref = reference(high_risk_routes=["IKA-LHR", "IR-GB", "LHR-JFK"])
    assert enriched(passenger_doc(), ref).reference.high_risk_routes == ()


def test_unknown_airport_code_is_reported() -> None:
    """An airport reference data does not know is listed in unknown_codes and not guessed."""
    facts = enriched(passenger_doc(route=["ZZZ", "JFK", "LHR"])).reference
    assert facts.unknown_codes == ("ZZZ",)
    assert facts.countries == ("US", "GB")


def test_route_defaults_to_the_flight_when_absent() -> None:
    """With no route, the flight's own two airports are the itinerary."""
    facts = enriched(passenger_doc(route=DROP)).reference
    assert facts.countries == ("US", "GB")


def test_freight_countries_come_from_loading_origin_routing_and_arrival() -> None:
    """A consignment touches its loading place, goods origins, routing and arrival, once each."""
    doc = freight_doc(routing_countries=["CN", "XX", "IR"], place_of_loading="AEJEA")
    facts = enriched(doc).reference
    assert facts.countries == ("AE", "CN", "IR", "GB")
    assert facts.unknown_codes == ("XX",)
    assert facts.arrival_country == "GB"
    assert "IR" in facts.high_risk_countries


def test_freight_country_route_matches() -> None:
    """A configured country pair matches a consignment from that origin to that arrival."""
    facts = enriched(freight_doc(), reference(high_risk_routes=["CN-GB"])).reference
    assert facts.high_risk_routes == ("CN-GB",)


def test_vessel_facts_come_from_its_flag() -> None:
    """A vessel's only country is its flag; a listed flag is high risk."""
    facts = enriched(vessel_doc(flag="KP")).reference
    assert facts.countries == ("KP",)
    assert facts.high_risk_countries == ("KP",)
    assert facts.arrival_country is None


def test_vessel_key_is_its_mmsi() -> None:
    """Vessel events are keyed by MMSI so one vessel's track lives on one partition."""
    event = normalised(vessel_doc())
    assert entity_key(event) == "mmsi:235000001"
    assert enriched(vessel_doc()).key == "mmsi:235000001"


def test_passenger_key_is_the_flight() -> None:
    """Passenger events are keyed by flight, so a traveller's booking and API data meet in
    one partition (engine/enrich/join.py)."""
    event = normalised(passenger_doc())
    assert entity_key(event) == "flight:BA0117/2025-03-01/JFK"
    assert enriched(passenger_doc()).key == entity_key(event)


def test_freight_key_is_the_event_id() -> None:
    """Consignments are keyed by their own event id."""
    event = normalised(freight_doc())
    assert entity_key(event) == event.event_id
    assert enriched(freight_doc()).key == event.event_id


def test_enrich_keeps_the_event_and_the_order() -> None:
    """enrich_batch returns one enriched event per input, in order, wrapping the same event."""
    events = [normalised(vessel_doc()), normalised(passenger_doc()), normalised(freight_doc())]
    out = enrich_batch(events, reference())
    assert [e.event for e in out] == events


def test_parse_events_reads_normalised_events() -> None:
    """Events serialised by the normalise stage are read back unchanged."""
    event = normalised(freight_doc())
    parsed = parse_events([raw_message(event.model_dump_json().encode())])
    assert parsed.deadletters == []
    assert parsed.events == [event]


@pytest.mark.parametrize(
    "payload",
    [b"", b"not json", b"\xff", orjson.dumps({"mode": "vessel"}), orjson.dumps(passenger_doc())],
    ids=["empty", "not-json", "not-utf8", "incomplete", "raw-not-normalised"],
)
def test_parse_events_turns_bad_bytes_into_an_enrich_deadletter(payload: bytes) -> None:
    """Anything on events.<mode> that is not a valid event becomes one enrich-stage dead letter."""
    good = normalised(vessel_doc()).model_dump_json().encode()
    parsed = parse_events(
        [raw_message(good, offset=1), raw_message(payload, topic="events.vessel", offset=2)]
    )
    events, dead = parsed.events, parsed.deadletters
    assert len(events) == 1
    assert [r.offset for r in parsed.sources] == [1]
    assert len(dead) == 1
    assert dead[0].stage == "enrich"
    assert dead[0].reason == "invalid_schema"
    assert dead[0].source_offset == 2
    assert dead[0].payload_size == len(payload)
