"""The booking/API join: one traveller's PNR and API data end up on one event, in either order."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import orjson
import pytest

from engine.enrich.join import JoinState, expired, join, join_key, merge
from engine.flow.hops import DecideHop, booking_store, track_store
from engine.messages import RawMessage
from engine.normalise.travellers import api_source_id, pnr_source_id
from engine.settings import Settings
from schemas import PassengerEvent, stable_id
from schemas.passenger import Booking, Flight, TravelDocument, Traveller

DEP = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
FLIGHT = Flight(carrier="EK", number="7", departure_airport="DXB", arrival_airport="LHR",
                scheduled_departure=DEP, scheduled_arrival=DEP + timedelta(hours=7))
DOCUMENT = TravelDocument(number="X1234567", issuing_state="NLD", expiry=date(2030, 1, 1))
BOOKING = Booking(record_locator="ABC123", booked_at=DEP - timedelta(hours=3), payment_type="cash",
                  phones=("+447700900123",), co_travellers=("EXAMPLESON/ALEX",))


def api_event(given: str = "Maria", surname: str = "Sampleson") -> PassengerEvent:
    traveller = Traveller(given_names=given, surname=surname, date_of_birth=date(1990, 2, 3), sex="F",
                          nationality="NLD")
    sid = api_source_id(FLIGHT, traveller, DOCUMENT)
    return PassengerEvent(event_id=stable_id("passenger", "api", sid), source="api", source_id=sid,
                          occurred_at=DEP - timedelta(minutes=30), received_at=DEP, flight=FLIGHT,
                          route=("DXB", "LHR"), traveller=traveller, document=DOCUMENT,
                          reporting_party="EK")


def pnr_event(given: str = "MARIA MRS", surname: str = "SAMPLESON") -> PassengerEvent:
    traveller = Traveller(given_names=given, surname=surname)
    sid = pnr_source_id(FLIGHT, "ABC123", traveller)
    return PassengerEvent(event_id=stable_id("passenger", "pnr", sid), source="pnr", source_id=sid,
                          occurred_at=DEP - timedelta(hours=2), received_at=DEP, flight=FLIGHT,
                          route=("IKA", "DXB", "LHR"), traveller=traveller, booking=BOOKING)


def test_api_after_pnr_gains_the_booking_and_the_longer_itinerary() -> None:
    """The manifest arrives second: its event carries the booking and the booked route."""
    _, state = join(pnr_event(), None)
    joined, after = join(api_event(), state)
    assert joined.booking == BOOKING
    assert joined.route == ("IKA", "DXB", "LHR")
    assert joined.document == DOCUMENT and joined.event_id == api_event().event_id
    assert after is not None and after.api is not None and after.pnr is not None
    assert after.api.document == DOCUMENT and after.pnr.booking == BOOKING


def test_pnr_after_api_gains_the_document_and_the_documented_details() -> None:
    """The booking arrives second: its event carries the document, date of birth, sex and
    nationality as the document gives them, and the reporting party."""
    _, state = join(api_event(), None)
    joined, _ = join(pnr_event(), state)
    assert joined.document == DOCUMENT
    assert (joined.traveller.date_of_birth, joined.traveller.sex, joined.traveller.nationality) == (
        date(1990, 2, 3), "F", "NLD")
    assert joined.reporting_party == "EK" and joined.booking == BOOKING
    assert joined.traveller.surname == "SAMPLESON"  # names stay as this feed spelt them


def test_the_first_to_arrive_passes_unchanged() -> None:
    """Nothing to add yet: the event is the one that came in, and the state remembers it."""
    event = pnr_event()
    joined, state = join(event, None)
    assert joined is event
    assert state is not None and state.pnr is not None and state.api is None
    # Only what the other feed lacks is kept: the booking and the itinerary, no names.
    assert "SAMPLESON" not in state.model_dump_json()


def test_names_match_across_case_titles_and_accents() -> None:
    """PNR 'SAMPLESON/MARIA MRS' and API 'Sampleson/Maria' are one traveller; another name is not."""
    assert join_key(pnr_event()) == join_key(api_event())
    assert join_key(api_event(given="Mária")) == join_key(api_event())
    assert join_key(api_event(given="Marta")) != join_key(api_event())


def test_other_sources_pass_through_and_keep_no_state() -> None:
    """A normalised JSON event is taken as already complete."""
    event = api_event().model_copy(update={"source": "json"})
    assert join(event, None) == (event, None)


def test_merge_keeps_each_side_from_whoever_has_it() -> None:
    """Two writers each saw one feed: the merged state has both sides."""
    _, with_pnr = join(pnr_event(), None)
    _, with_api = join(api_event(), None)
    assert with_pnr is not None and with_api is not None
    merged = merge(with_pnr, with_api)
    assert merged.pnr == with_pnr.pnr and merged.api == with_api.api


def test_an_entry_expires_after_its_flight() -> None:
    """Kept for the horizon after departure (the date its key names), then dropped."""
    key = join_key(api_event())
    assert not expired(key, DEP + timedelta(days=1))
    assert expired(key, DEP + timedelta(days=3))
    assert not expired("not/a-date/key", DEP + timedelta(days=30))


def raw(event: PassengerEvent, offset: int) -> RawMessage:
    return RawMessage(value=event.model_dump_json().encode(), topic="events.passenger", partition=1,
                      offset=offset)


@pytest.fixture
def hop() -> DecideHop:
    settings = Settings()
    return DecideHop(settings, track_store(settings), booking_store(settings))


def test_the_decide_hop_joins_across_batches_and_writes_the_changelog(hop: DecideHop) -> None:
    """PNR in one batch, API in the next: the API score's event is the joined one (a late
    cash booking rule fires on it), and each batch writes the traveller's state."""
    first = hop.run([raw(pnr_event(), 0)])
    second = hop.run([raw(api_event(), 1)])
    [record] = [r for r in second.changelog if r.topic == hop.bookings.changelog_topic]
    assert record.partition == 1
    assert JoinState.model_validate_json(record.value or b"").api is not None
    assert hop.bookings.get(1, join_key(api_event())) == record.value
    assert len([r for r in first.changelog if r.topic == hop.bookings.changelog_topic]) == 1
    [enriched] = second.enriched
    assert isinstance(enriched.event, PassengerEvent) and enriched.event.booking == BOOKING
    [score] = second.scores
    assert "passenger_late_cash_booking" in {f.rule_id for f in score.findings}
    # The enriched record carries the joined event's JSON, not the bytes that came in.
    enriched_record = next(r for r in hop.records(second) if r.topic.endswith("events.enriched"))
    assert orjson.loads(enriched_record.value or b"")["event"]["booking"]["record_locator"] == "ABC123"


def test_the_decide_hop_sweeps_out_departed_flights(hop: DecideHop) -> None:
    """Once enough entries were written, those of long-departed flights are deleted, with a
    tombstone each for the changelog."""
    hop.SWEEP_EVERY = 2
    hop.run([raw(pnr_event(), 0)])
    later = api_event(given="Alex").model_copy(update={
        "occurred_at": DEP + timedelta(days=5), "flight": FLIGHT.model_copy(update={
            "scheduled_departure": DEP + timedelta(days=5),
            "scheduled_arrival": DEP + timedelta(days=5, hours=7)})})
    out = hop.run([raw(later, 1)])
    tombstones = [r for r in out.changelog if r.value is None]
    assert [r.key for r in tombstones] == [join_key(pnr_event()).encode()]
    assert list(hop.bookings.partitions[1]) == [join_key(later)]
