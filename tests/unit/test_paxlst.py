"""PAXLST in: API manifests become one PassengerEvent per traveller, or precise refusals.

Every person, document and flight here is made up. Interchanges come from three
places: the writer in engine/simulate/paxlst.py (round trips, multi-part manifests),
segment lists built below (one fault at a time), and the hand-written files in
tests/fixtures/paxlst/ (syntax variants a writer of ours would never produce).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine.normalise.paxlst as paxlst_module
from engine.messages import FeedResult, RawMessage, looks_like_edifact
from engine.normalise.paxlst import parse_paxlst
from engine.normalise.travellers import api_source_id
from engine.simulate.paxlst import paxlst_interchange
from schemas import stable_id
from schemas.passenger import Flight, PassengerEvent, TravelDocument, Traveller

FIXTURES = Path(__file__).parent.parent / "fixtures" / "paxlst"
PREPARED = datetime(2026, 6, 1, 7, 45, tzinfo=UTC)
RECEIVED = datetime(2026, 6, 1, 7, 46, 30, tzinfo=UTC)
FLIGHT = Flight(
    carrier="GH", number="42", departure_airport="CDG", arrival_airport="LHR",
    scheduled_departure=datetime(2026, 6, 1, 8, 30, tzinfo=UTC),
    scheduled_arrival=datetime(2026, 6, 1, 9, 50, tzinfo=UTC),
)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def raw(value: bytes) -> RawMessage:
    return RawMessage(value=value, topic="raw.passenger", partition=0, offset=11,
                      timestamp_ms=int(RECEIVED.timestamp() * 1000))


def person(
    surname: str, given: str, number: str, *, role: str = "passenger", doc_type: str = "passport",
    flight: Flight = FLIGHT, route: tuple[str, ...] = ("CDG", "LHR"), party: str | None = "GH API DESK",
) -> PassengerEvent:
    """An event as another feed would give it; the parser must give back its fields."""
    return PassengerEvent(
        event_id="placeholder", source="json", source_id="placeholder",
        occurred_at=PREPARED, received_at=PREPARED, flight=flight, route=route,
        traveller=Traveller(role=role, given_names=given, surname=surname,  # type: ignore[arg-type]
                            date_of_birth=date(1979, 11, 23), sex="F", nationality="NLD",
                            country_of_residence="BEL"),
        document=TravelDocument(type=doc_type, number=number, issuing_state="NLD",  # type: ignore[arg-type]
                                expiry=date(2031, 4, 30)),
        reporting_party=party,
    )


def manifest(events: list[PassengerEvent], **options: object) -> bytes:
    kwargs: dict[str, object] = {"reference": "IC0042", "sender": "GHAPI", "recipient": "GBBORDER",
                                 "prepared_at": PREPARED, **options}
    return paxlst_interchange(events, **kwargs)  # type: ignore[arg-type]


def same_fields(parsed: PassengerEvent, sent: PassengerEvent) -> None:
    assert parsed.flight == sent.flight
    assert parsed.route == sent.route
    assert parsed.traveller == sent.traveller
    assert parsed.document == sent.document
    assert parsed.reporting_party == sent.reporting_party


# --- segment lists: a valid interchange, then one fault at a time ---------------------------

#: Departure 10:30 in Paris (CEST) and arrival 10:50 in London (BST): 08:30 and 09:50 UTC.
HEADER = [
    "NAD+MS+++GH TEST DESK'", "TDT+20+GH0042+++GH'",
    "LOC+125+CDG'", "DTM+189:2606011030:201'", "LOC+87+LHR'", "DTM+232:2606011050:201'",
]
GOOD = [("QUILLFEATHER", "ODALYS", "FX4410027"), ("BRACKENRIDGE", "TOBIAS", "GB7730051"),
        ("WINTERVALE", "MAREN", "DE5520093")]
#: Input values that are personal data: no refusal detail may repeat them.
SECRETS = [value for who in GOOD for value in who] + ["880517", "310101"]


def traveller(
    surname: str, given: str, number: str, *, qualifier: str = "FL", sex: str | None = "F",
    birth: str | None = "880517", nationality: str | None = "FRA", doc_type: str | None = "P",
    expiry: str | None = "310101", issuing: str | None = "FRA",
) -> list[str]:
    segments = [f"NAD+{qualifier}+++{surname}:{given}'"]
    segments += [f"ATT+2++{sex}'"] if sex is not None else []
    segments += [f"DTM+329:{birth}'"] if birth is not None else []
    segments += [f"NAT+2+{nationality}'"] if nationality is not None else []
    segments += [f"DOC+{doc_type}+{number}'"] if doc_type is not None else []
    segments += [f"DTM+36:{expiry}'"] if expiry is not None else []
    segments += [f"LOC+91+{issuing}'"] if issuing is not None else []
    return segments


def message(
    travellers: list[list[str]], ref: str = "1", *, bgm: str | None = "745", header: list[str] = HEADER,
    count: int | None = None, unh_extra: str = "",
) -> list[str]:
    segments = [f"UNH+{ref}+PAXLST:D:05B:UN:IATA{unh_extra}'"]
    segments += [f"BGM+{bgm}'"] if bgm is not None else []
    segments += header + [s for t in travellers for s in t]
    segments += [f"CNT+42:{len(travellers) if count is None else count}'"]
    return [*segments, f"UNT+{len(segments) + 1}+{ref}'"]


def good_message(ref: str = "1", **options: object) -> list[str]:
    return message([traveller(*who) for who in GOOD], ref, **options)  # type: ignore[arg-type]


def interchange(
    *messages: list[str], una: bool = True, syntax: str = "UNOA:4", unz: int | None = None
) -> bytes:
    lines = (["UNA:+.? '"] if una else []) + [f"UNB+{syntax}+GHTEST+GHBORDER+260601:0745+IC1'"]
    for segments in messages:
        lines += segments
    lines.append(f"UNZ+{len(messages) if unz is None else unz}+IC1'")
    return "\n".join(lines).encode("utf-8")


def reasons(result: FeedResult) -> list[str]:
    return [reason for _, reason, _ in result.refused]


def assert_private(result: FeedResult, secrets: list[str] = SECRETS) -> None:
    """No refusal detail repeats a name, document number or date from the input."""
    for _, _, detail in result.refused:
        for secret in secrets:
            assert secret not in detail, detail


def surnames(result: FeedResult) -> list[str]:
    return [event.traveller.surname for event, _ in result.events]  # type: ignore[union-attr]


# --- round trips through the writer ---------------------------------------------------------


def test_round_trip_gives_back_flight_travellers_documents_route_and_reporting_party() -> None:
    """parse(write(events)): every field the writer writes comes back, times in UTC again."""
    sent = [person("VANDERHOEK", "ISOLDE MARIEKE", "NX0000001"),
            person("ACHTERBERG", "", "NX0000002", doc_type="id_card"),
            person("DEKKERSMA", "PIM", "NX0000003", role="crew", doc_type="other")]
    value = manifest(sent)
    result = parse_paxlst(raw(value))
    assert result.refused == []
    assert len(result.events) == 3
    for (event, source), original in zip(result.events, sent, strict=True):
        assert isinstance(event, PassengerEvent)
        same_fields(event, original)
        assert source == value
        assert event.source == "api"
        assert event.occurred_at == PREPARED and event.received_at == RECEIVED


def test_event_ids_are_api_source_ids_and_repeat_when_the_manifest_is_sent_again() -> None:
    """The same manifest sent at check-in close and again at departure names the same events."""
    sent = [person("VANDERHOEK", "ISOLDE", "NX0000001"), person("ACHTERBERG", "JOOST", "NX0000002")]
    first = parse_paxlst(raw(manifest(sent)))
    later = datetime(2026, 6, 1, 8, 5, tzinfo=UTC)
    again = parse_paxlst(raw(manifest(sent, reference="IC0043", prepared_at=later)))
    for event, _ in first.events:
        assert isinstance(event, PassengerEvent)
        assert event.source_id == api_source_id(event.flight, event.traveller, event.document)
        assert event.event_id == stable_id("passenger", "api", event.source_id)
    assert [e.event_id for e, _ in first.events] == [e.event_id for e, _ in again.events]


def test_a_long_manifest_is_split_into_numbered_parts_that_are_all_read() -> None:
    """250 passengers, at most 100 a message: parts 01:C, 02:C, 03:F with one access reference,
    each with the flight header and its own count."""
    sent = [person(f"PASSENGER{chr(65 + i // 26)}{chr(65 + i % 26)}", "TEST", f"MP{i:07d}")
            for i in range(250)]
    value = manifest(sent, max_per_message=100)
    text = value.decode()
    unh = [line for line in text.splitlines() if line.startswith("UNH")]
    assert [line.split("+")[-1].rstrip("'") for line in unh] == ["01:C", "02:C", "03:F"]
    assert len({line.split("+")[3] for line in unh}) == 1
    assert text.count("TDT+20+GH0042+++GH'") == 3
    assert [line for line in text.splitlines() if line.startswith("CNT")] == [
        "CNT+42:100'", "CNT+42:100'", "CNT+42:50'"]
    result = parse_paxlst(raw(value))
    assert result.refused == []
    assert [e.document.number for e, _ in result.events] == [f"MP{i:07d}" for i in range(250)]  # type: ignore[union-attr]


def test_passengers_and_crew_travel_in_separate_lists() -> None:
    """BGM 745 with NAD+FL for passengers, BGM 250 with NAD+FM for crew; roles come back."""
    sent = [person("PILOTSON", "KIT", "CR0000001", role="crew"), person("TRAVELLA", "NOOR", "PX0000001")]
    value = manifest(sent)
    text = value.decode()
    assert "BGM+745'" in text and "BGM+250'" in text
    assert "NAD+FM+++PILOTSON:KIT'" in text and "CNT+41:1'" in text
    result = parse_paxlst(raw(value))
    assert result.refused == []
    roles = {e.traveller.surname: e.traveller.role for e, _ in result.events}  # type: ignore[union-attr]
    assert roles == {"PILOTSON": "crew", "TRAVELLA": "passenger"}


@pytest.mark.parametrize("group", [True, False], ids=["ung_group", "no_group"])
def test_messages_are_read_inside_and_outside_a_functional_group(group: bool) -> None:
    """UNG/UNE around the messages (UNZ then counts one group), or none."""
    sent = [person("GROUPMAN", "ALEX", "GR0000001"), person("GROUPMAN", "SAM", "GR0000002", role="crew")]
    value = manifest(sent, group=group)
    assert (b"\nUNG+PAXLST+" in value) is group
    result = parse_paxlst(raw(value))
    assert result.refused == []
    assert len(result.events) == 2


@pytest.mark.parametrize("surname", ["O'NEIL", "SMITH+JONES", "COLON:NAME", "WHAT?NOT", "?'+:"])
def test_release_characters_in_names_survive(surname: str) -> None:
    """Separators inside a name are released (?', ?+, ?:, ??) and come back as written."""
    sent = person(surname, "ANN+MARIE O'HARA", "RL0000001")
    result = parse_paxlst(raw(manifest([sent])))
    assert result.refused == []
    [(event, _)] = result.events
    same_fields(event, sent)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(lambda v: v, id="una_and_lf"),
        pytest.param(lambda v: v.replace(b"\n", b"\r\n"), id="crlf"),
        pytest.param(lambda v: v.replace(b"\n", b""), id="no_line_breaks"),
        pytest.param(lambda v: v[v.index(b"UNB"):], id="no_una"),
        pytest.param(lambda v: b"\xef\xbb\xbf\r\n" + v, id="bom_and_blank_line"),
    ],
)
def test_line_endings_una_and_bom_do_not_matter(variant: Callable[[bytes], bytes]) -> None:
    """With or without UNA, with LF, CRLF or no line breaks at all: the same events."""
    sent = [person("O'NEIL", "SEAN", "LE0000001"), person("BREAKWATER", "LIN", "LE0000002")]
    expected = parse_paxlst(raw(manifest(sent)))
    result = parse_paxlst(raw(variant(manifest(sent))))
    assert result.refused == []
    assert [e for e, _ in result.events] == [e for e, _ in expected.events]


def test_non_ascii_names_are_written_as_utf8_and_read_back() -> None:
    """The writer picks UNOY for names outside ASCII; the reader decodes UTF-8."""
    sent = person("ØSTERBØ-ŁUKASZEWICZ", "ÉLODIE", "UT0000001")
    value = manifest([sent])
    assert b"UNB+UNOY:4+" in value
    [(event, _)] = parse_paxlst(raw(value)).events
    same_fields(event, sent)  # type: ignore[arg-type]


def test_utf8_labelled_as_latin1_is_read_as_utf8() -> None:
    """Senders mislabel UTF-8 as UNOC; bytes that are valid UTF-8 are read as UTF-8."""
    travellers = [traveller("MÜLLERSTEIN", "JOSÉ", "MX0000001")]
    result = parse_paxlst(raw(interchange(message(travellers), syntax="UNOC:3")))
    assert result.refused == []
    assert surnames(result) == ["MÜLLERSTEIN"]


def test_the_writer_refuses_what_is_not_one_manifest() -> None:
    """No travellers, travellers of two flights, or parts of no size are caller errors."""
    other = FLIGHT.model_copy(update={"number": "43"})
    with pytest.raises(ValueError):
        manifest([])
    with pytest.raises(ValueError):
        manifest([person("A", "B", "C1"), person("D", "E", "F1", flight=other)])
    with pytest.raises(ValueError):
        manifest([person("A", "B", "C1")], max_per_message=0)


def test_looks_like_edifact_tells_edifact_from_json() -> None:
    assert looks_like_edifact(b"UNA:+.? 'UNB+UNOA:4")
    assert looks_like_edifact(b"\r\nUNB+UNOA:4")
    assert not looks_like_edifact(b'{"mode": "passenger"}')


# --- hand-written fixture files -------------------------------------------------------------


def parse_fixture(name: str) -> FeedResult:
    return parse_paxlst(raw((FIXTURES / name).read_bytes()))


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.edi")), ids=lambda p: p.name)
def test_every_fixture_file_reads_without_refusal(path: Path) -> None:
    result = parse_paxlst(raw(path.read_bytes()))
    assert result.refused == []
    assert result.events


def test_there_is_a_fixture_per_variant() -> None:
    assert {p.name for p in FIXTURES.glob("*.edi")} >= {
        "passengers_group.edi", "crew_list_crlf.edi", "custom_separators.edi", "latin1_unoc.edi",
        "multipart_utf8_one_line.edi",
    }


def test_fixture_passenger_list_in_a_group() -> None:
    """UNG group, a released apostrophe, three given-name components, a visa before the
    passport (the passport is kept), an in-transit traveller (DDU, role of the list), a
    four-digit date of birth (102), local times at DXB (UTC+4) and LHR (BST) in UTC."""
    result = parse_fixture("passengers_group.edi")
    first, second, third = (e for e, _ in result.events)
    assert isinstance(first, PassengerEvent) and isinstance(second, PassengerEvent)
    assert isinstance(third, PassengerEvent)
    assert (first.traveller.surname, first.traveller.given_names) == ("O'NEILLY", "AOIFE GRAINNE")
    assert first.traveller.date_of_birth == date(1987, 3, 14)
    assert first.flight.scheduled_departure == datetime(2026, 6, 1, 4, 30, tzinfo=UTC)
    assert first.flight.scheduled_arrival == datetime(2026, 6, 1, 12, 5, tzinfo=UTC)
    assert (first.flight.carrier, first.flight.number) == ("ZX", "451")
    assert first.reporting_party == "ZX API DESK"
    assert first.occurred_at == datetime(2026, 6, 1, 4, 12, tzinfo=UTC)
    assert second.document == TravelDocument(type="passport", number="HK5550123", issuing_state="CAN",
                                             expiry=date(2033, 1, 5))
    assert second.traveller.country_of_residence == "ARE"
    assert second.traveller.date_of_birth == date(2002, 7, 11)
    assert third.traveller.role == "passenger" and third.traveller.sex == "X"
    assert third.traveller.date_of_birth == date(1999, 12, 1)
    assert third.document is not None and third.document.type == "id_card"


def test_fixture_crew_list_without_una_and_with_crlf() -> None:
    """BGM 250 and NAD+FM: crew; TDT element 5 splits the designator QV88; a crew member
    certificate (AC) is an ``other`` document; NRT (UTC+9) to SFO (PDT) times in UTC."""
    result = parse_fixture("crew_list_crlf.edi")
    events = [e for e, _ in result.events]
    assert all(isinstance(e, PassengerEvent) and e.traveller.role == "crew" for e in events)
    first, second = events
    assert isinstance(first, PassengerEvent) and isinstance(second, PassengerEvent)
    assert (first.flight.carrier, first.flight.number) == ("QV", "88")
    assert first.flight.scheduled_departure == datetime(2026, 3, 15, 22, 15, tzinfo=UTC)
    assert first.flight.scheduled_arrival == datetime(2026, 3, 16, 6, 40, tzinfo=UTC)
    assert second.traveller.given_names == "ROBIN LEE"
    assert second.document is not None and second.document.type == "other"


def test_fixture_with_custom_separators() -> None:
    """UNA*|,# ~: components '*', elements '|', release '#', segments '~'; the apostrophe and
    plus are plain data there, and '#|' is a released element separator."""
    [(event, _)] = parse_fixture("custom_separators.edi").events
    assert isinstance(event, PassengerEvent)
    assert (event.traveller.surname, event.traveller.given_names) == ("D'ARCY-QUILL", "ANNE+MARIE")
    assert event.reporting_party == "OPS|NORTH"
    assert event.route == ("NBO", "SYD")


def test_fixture_in_latin1() -> None:
    """UNOC: Latin-1 bytes (not valid UTF-8) decode as Latin-1."""
    [(event, _)] = parse_fixture("latin1_unoc.edi").events
    assert isinstance(event, PassengerEvent)
    assert (event.traveller.surname, event.traveller.given_names) == ("MÜLLERSTEIN", "JOSÉ")
    assert event.reporting_party is None


def test_fixture_multipart_manifest_on_one_line() -> None:
    """Two parts (01:C, 02:F) of one flight in one interchange with no line breaks, UTF-8
    names in three scripts; the final part's CNT counts the whole flight (3), the first
    its own (2): both are consistent."""
    result = parse_fixture("multipart_utf8_one_line.edi")
    assert surnames(result) == ["ØSTERGÅRDSEN", "PRÓFA", "ΔΟΚΙΜΗ"]
    assert result.refused == []


# --- variants seen in other systems' messages (synthetic look-alikes) -----------------------

#: CBP style: the traveller's other legs as TDTs of their own with LOC+92 pairs, before and
#: after the leg that crosses the border (the one with LOC+125 and LOC+87).
ITINERARY_HEADER = [
    "NAD+MS+++GH TEST DESK'",
    "TDT+20+GH0007+++GH'", "LOC+92+BOD'", "DTM+189:2606010610:201'", "LOC+92+CDG'",
    "DTM+232:2606010725:201'",
    *HEADER[1:],
    "TDT+20+GH0911+++GH'", "LOC+92+LHR'", "DTM+189:2606011240:201'", "LOC+92+EDI'",
    "DTM+232:2606011405:201'",
]


def test_the_leg_with_loc_125_and_87_is_the_flight_and_the_other_legs_make_the_route() -> None:
    result = parse_paxlst(raw(interchange(message([traveller(*GOOD[0])], header=ITINERARY_HEADER))))
    assert result.refused == []
    [(event, _)] = result.events
    assert isinstance(event, PassengerEvent)
    assert event.flight == FLIGHT
    assert event.route == ("BOD", "CDG", "LHR", "EDI")


def test_a_leg_after_the_border_crossing_one_extends_the_route() -> None:
    """The crossing leg first, a LOC+92 leg after it: the route runs on from its arrival."""
    header = [*HEADER, "TDT+20+GH0911+++GH'", "LOC+92+LHR'", "DTM+189:2606011240:201'",
              "LOC+92+EDI'", "DTM+232:2606011405:201'"]
    result = parse_paxlst(raw(interchange(message([traveller(*GOOD[0])], header=header))))
    [(event, _)] = result.events
    assert isinstance(event, PassengerEvent)
    assert event.flight == FLIGHT and event.route == ("CDG", "LHR", "EDI")


def test_a_progressive_flight_sent_as_loc_92_legs_only_is_read_from_its_first_leg() -> None:
    """No leg has LOC+125/87 (the guidelines' progressive-flight example): the first leg, into
    the country, is the flight; every leg makes the route."""
    header = ["NAD+MS+++GH TEST DESK'",
              "TDT+20+GH0042+++GH'", "LOC+92+CDG'", "DTM+189:2606011030:201'", "LOC+92+LHR'",
              "DTM+232:2606011050:201'",
              "TDT+20+GH0911+++GH'", "LOC+92+LHR'", "DTM+189:2606011240:201'", "LOC+92+EDI'",
              "DTM+232:2606011405:201'"]
    result = parse_paxlst(raw(interchange(message([traveller(*GOOD[0])], header=header))))
    assert result.refused == []
    [(event, _)] = result.events
    assert isinstance(event, PassengerEvent)
    assert event.flight == FLIGHT and event.route == ("CDG", "LHR", "EDI")


def test_segments_sent_without_a_value_count_as_absent() -> None:
    """``LOC+174+'``, ``NAT+2+'``, ``DTM+329'``, ``DTM+36:'`` and an empty ``DOC++'``: some
    systems send the segment when they lack the data. A later filled one still counts."""
    segments = ["NAD+FL+++HOLLOWAY:PIP'", "ATT+2'", "DTM+329'", "LOC+174+'", "NAT+2+'", "NAT+2+SWE'",
                "DOC++'", "DTM+36:'", "LOC+91+'",
                "DOC+P:110:111+SE5550101'", "DTM+36:'", "LOC+91+SWE'", "DTM+36:310315'"]
    result = parse_paxlst(raw(interchange(message([segments, traveller(*GOOD[1])]))))
    assert result.refused == []
    event = result.events[0][0]
    assert isinstance(event, PassengerEvent)
    assert event.traveller.date_of_birth is None and event.traveller.country_of_residence is None
    assert event.traveller.nationality == "SWE" and event.traveller.sex is None
    assert event.document == TravelDocument(type="passport", number="SE5550101", issuing_state="SWE",
                                            expiry=date(2031, 3, 15))


def test_a_document_without_issuing_state_is_left_out_and_the_traveller_kept() -> None:
    """LOC+91 is conditional: a passport sent without one cannot make a document, but the
    traveller is still an event; a document of theirs that has one is kept instead."""
    no_state = traveller("STATELESSLY", "ORLA", "NS0000001", issuing=None)
    visa_too = [*traveller("VISABURY", "ELL", "PP0000002", issuing=None),
                "DOC+V:110:111+VV0000003'", "DTM+36:271231'", "LOC+91+GBR'"]
    result = parse_paxlst(raw(interchange(message([no_state, visa_too]))))
    assert result.refused == []
    first, second = (event for event, _ in result.events)
    assert isinstance(first, PassengerEvent) and isinstance(second, PassengerEvent)
    assert first.traveller.surname == "STATELESSLY" and first.document is None
    assert first.source_id == api_source_id(FLIGHT, first.traveller, None)
    assert second.document == TravelDocument(type="visa", number="VV0000003", issuing_state="GBR",
                                             expiry=date(2027, 12, 31))


# --- two-digit years ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "expected"),
    [("250101", date(2025, 1, 1)), ("260601", date(2026, 6, 1)), ("260602", date(1926, 6, 2)),
     ("270101", date(1927, 1, 1)), ("000229", date(2000, 2, 29)), ("19270101:102", date(1927, 1, 1))],
)
def test_a_two_digit_year_of_birth_takes_the_latest_century_not_after_departure(
    birth: str, expected: date
) -> None:
    """The flight leaves on 1 June 2026: 25 is 2025, 27 is 1927, and 260602 is 1926."""
    travellers = [traveller("CENTURION", "AGE", "CY0000001", birth=birth)]
    result = parse_paxlst(raw(interchange(message(travellers))))
    [(event, _)] = result.events
    assert isinstance(event, PassengerEvent) and event.traveller.date_of_birth == expected


@pytest.mark.parametrize(
    ("expiry", "expected"),
    [("310101", date(2031, 1, 1)), ("650101", date(2065, 1, 1)), ("760101", date(2076, 1, 1)),
     ("800101", date(1980, 1, 1)), ("20800101:102", date(2080, 1, 1))],
)
def test_a_two_digit_expiry_year_takes_the_century_nearest_the_departure(expiry: str, expected: date) -> None:
    travellers = [traveller("EXPIRIAN", "DOC", "EX0000001", expiry=expiry)]
    result = parse_paxlst(raw(interchange(message(travellers))))
    [(event, _)] = result.events
    assert isinstance(event, PassengerEvent) and event.document is not None
    assert event.document.expiry == expected


# --- refusals -------------------------------------------------------------------------------

GOOD_BYTES = interchange(good_message())


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        pytest.param(b"", "paxlst_no_interchange", id="empty"),
        pytest.param(b'{"mode": "passenger", "surname": "QUILLFEATHER"}', "paxlst_no_interchange", id="json"),
        pytest.param(GOOD_BYTES.replace(b"UNB+", b"UNX+"), "paxlst_no_interchange", id="no_unb"),
        pytest.param(b"UNA:+", "paxlst_syntax", id="una_cut_short"),
        pytest.param(GOOD_BYTES.replace(b"UNA:+.? '", b"UNA::.? '"), "paxlst_syntax", id="una_clash"),
        pytest.param(GOOD_BYTES.replace(b"UNOA:4", b"ABCD:4"), "paxlst_unknown_syntax", id="unknown_syntax"),
        pytest.param(interchange(good_message(), syntax="UNOY:4").replace(b"TOBIAS", b"TOB\xff\xfeIAS"),
                     "paxlst_undecodable", id="bad_utf8"),
        pytest.param(GOOD_BYTES.replace(b"MAREN", b"MAR\xc9N"), "paxlst_undecodable", id="latin1_as_ascii"),
        pytest.param(GOOD_BYTES[: GOOD_BYTES.index(b"UNZ")], "paxlst_truncated", id="no_unz"),
        pytest.param(GOOD_BYTES[: GOOD_BYTES.index(b"TOBIAS") + 3], "paxlst_syntax", id="cut_mid_segment"),
        pytest.param(GOOD_BYTES.rstrip(b"'"), "paxlst_syntax", id="unterminated_last_segment"),
        pytest.param(GOOD_BYTES.replace(b"\nATT+2++F'", b"\natt+2++F'", 1), "paxlst_syntax", id="bad_tag"),
        pytest.param(GOOD_BYTES.replace(b"ODALYS'", b"ODALYS?\n'"), "paxlst_syntax",
                     id="release_before_newline"),
        pytest.param(GOOD_BYTES.replace(b"260601:0745", b"261301:0745"), "paxlst_bad_date",
                     id="bad_unb_date"),
        pytest.param(interchange(), "paxlst_envelope", id="no_message"),
    ],
)
def test_a_broken_interchange_is_one_refusal_of_the_whole_message(value: bytes, reason: str) -> None:
    result = parse_paxlst(raw(value))
    assert result.events == []
    assert result.refused == [(value, reason, result.refused[0][2])]
    assert result.refused[0][2]
    assert_private(result)


def test_a_bad_broker_timestamp_is_refused_not_raised() -> None:
    result = parse_paxlst(RawMessage(value=GOOD_BYTES, timestamp_ms=10**18))
    assert reasons(result) == ["paxlst_invalid_timestamp"]


def _header_without(prefix: str) -> list[str]:
    return [s for s in HEADER if not s.startswith(prefix)]


def _header_with(old: str, new: str) -> list[str]:
    return [s.replace(old, new) for s in HEADER]


def _with_trailer(segments: list[str], trailer: str) -> list[str]:
    return [*segments[:-1], trailer]


def _unt_reference_differs(ref: str) -> list[str]:
    segments = good_message(ref)
    return _with_trailer(segments, f"UNT+{len(segments)}+X{ref}'")


def _other_message_type(ref: str) -> list[str]:
    unh, *rest = good_message(ref)
    return [unh.replace("PAXLST", "PNRGOV"), *rest]


MESSAGE_FAULTS: dict[str, tuple[Callable[[str], list[str]], str]] = {
    "no_unt": (lambda ref: good_message(ref)[:-1], "paxlst_envelope"),
    "other_message_type": (_other_message_type, "paxlst_not_paxlst"),
    "gate_pass_list": (lambda ref: good_message(ref, bgm="655"), "paxlst_unknown_list"),
    "no_bgm": (lambda ref: good_message(ref, bgm=None), "paxlst_unknown_list"),
    "no_tdt": (lambda ref: good_message(ref, header=_header_without("TDT")), "paxlst_no_flight"),
    "bad_designator": (lambda ref: good_message(ref, header=_header_with("GH0042+++GH", "0042")),
                       "paxlst_bad_flight"),
    "bad_airport": (lambda ref: good_message(ref, header=_header_with("125+CDG", "125+C1G")),
                    "paxlst_bad_flight"),
    "no_arrival_airport": (lambda ref: good_message(ref, header=_header_without("LOC+87")),
                           "paxlst_bad_flight"),
    "no_arrival_time": (lambda ref: good_message(ref, header=_header_without("DTM+232")),
                        "paxlst_bad_flight"),
    "bad_departure_time": (lambda ref: good_message(ref, header=_header_with("2606011030", "2613011030")),
                           "paxlst_bad_date"),
    "no_travellers": (lambda ref: message([], ref), "paxlst_no_travellers"),
}


@pytest.mark.parametrize("fault", sorted(MESSAGE_FAULTS))
def test_a_broken_message_is_refused_and_the_next_message_still_read(fault: str) -> None:
    """One refusal for the broken message; the good message after it gives its travellers."""
    build, reason = MESSAGE_FAULTS[fault]
    value = interchange(build("1"), good_message("2"))
    result = parse_paxlst(raw(value))
    assert reasons(result) == [reason]
    assert result.refused[0][0] == value
    assert "message 1 " in result.refused[0][2]
    assert surnames(result) == [who[0] for who in GOOD]
    assert_private(result)


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        (lambda ref: _with_trailer(good_message(ref), f"UNT+99+{ref}'"), "paxlst_segment_count"),
        (_unt_reference_differs, "paxlst_envelope"),
    ],
    ids=["unt_count", "unt_reference"],
)
def test_a_miscounted_or_misreferenced_trailer_is_a_note_and_the_travellers_still_come(
    build: Callable[[str], list[str]], reason: str
) -> None:
    """Many senders miscount UNT: the message's travellers are still read, and a note (a
    dead letter with the message) flags the envelope for a look."""
    value = interchange(build("1"), good_message("2"))
    result = parse_paxlst(raw(value))
    assert reasons(result) == [reason]
    assert "message 1" in result.refused[0][2]
    assert surnames(result) == [who[0] for who in GOOD] * 2
    assert_private(result)


TRAVELLER_FAULTS: dict[str, tuple[dict[str, object], str]] = {
    "no_surname": ({"surname": ""}, "paxlst_no_name"),
    "bad_birth_date": ({"birth": "881317"}, "paxlst_bad_date"),
    "birth_after_departure": ({"birth": "20300101:102"}, "paxlst_bad_date"),
    "unknown_date_format": ({"birth": "880517:999"}, "paxlst_bad_date"),
    "date_not_digits": ({"birth": "88O517"}, "paxlst_bad_date"),
    "bad_expiry": ({"expiry": "310231"}, "paxlst_bad_date"),
    "bad_nationality": ({"nationality": "XQZ"}, "paxlst_bad_country"),
    "alpha2_nationality": ({"nationality": "FR"}, "paxlst_bad_country"),
    "bad_issuing_state": ({"issuing": "XQZ"}, "paxlst_bad_country"),
    "no_document_number": ({"number": ""}, "paxlst_bad_document"),
    "bad_sex_code": ({"sex": "Q"}, "paxlst_invalid_traveller"),
    "not_a_traveller": ({"qualifier": "ZZ"}, "paxlst_invalid_traveller"),
    "surname_too_long": ({"surname": "LONGNAME" * 30}, "paxlst_invalid_traveller"),
}


@pytest.mark.parametrize("fault", sorted(TRAVELLER_FAULTS))
def test_a_broken_traveller_is_refused_and_the_others_become_events(fault: str) -> None:
    """The middle traveller of three is broken: one refusal naming where, two events."""
    changes, reason = TRAVELLER_FAULTS[fault]
    fields: dict[str, object] = {"surname": GOOD[1][0], "given": GOOD[1][1], "number": GOOD[1][2], **changes}
    surname, given, number = (str(fields.pop(k)) for k in ("surname", "given", "number"))
    broken = traveller(surname, given, number, **fields)  # type: ignore[arg-type]
    value = interchange(message([traveller(*GOOD[0]), broken, traveller(*GOOD[2])]))
    result = parse_paxlst(raw(value))
    assert reasons(result) == [reason]
    assert result.refused[0][0] == value
    assert "message 1 " in result.refused[0][2] and "traveller at segment" in result.refused[0][2]
    assert surnames(result) == [GOOD[0][0], GOOD[2][0]]
    assert_private(result, [*SECRETS, "LONGNAME", "20300101"])


def test_a_control_total_that_does_not_match_is_flagged_and_the_travellers_kept() -> None:
    """CNT+42:5 for three travellers: the events stand, a refusal points at the count."""
    result = parse_paxlst(raw(interchange(good_message(count=5))))
    assert reasons(result) == ["paxlst_count_mismatch"]
    assert len(result.events) == 3
    assert_private(result)


@pytest.mark.parametrize(("count", "flagged"), [(250, False), (3, False), (2, True)])
def test_a_part_whose_siblings_travel_elsewhere_may_count_the_whole_flight(count: int, flagged: bool) -> None:
    """Part 02:F alone: its CNT may be the flight's total (more than it lists), never fewer."""
    part = good_message(count=count, unh_extra="+GH0042/260601/1030+02:F")
    result = parse_paxlst(raw(interchange(part)))
    assert reasons(result) == (["paxlst_count_mismatch"] if flagged else [])
    assert len(result.events) == 3


GROUPED = manifest([person("GROUPMAN", "ALEX", "GR0000001")])


@pytest.mark.parametrize(
    ("value", "reason", "events"),
    [
        pytest.param(interchange(good_message(), unz=7), "paxlst_control_count", 3, id="unz_count"),
        pytest.param(interchange(good_message()).replace(b"UNZ+1+IC1", b"UNZ+1+IC9"), "paxlst_envelope", 3,
                     id="unz_reference"),
        pytest.param(interchange(good_message("1"), ["RFF+AVF:ZZ9QQ1'"], good_message("2"), unz=2),
                     "paxlst_envelope", 6, id="segment_between_messages"),
        pytest.param(interchange(good_message()) + b"UNZ+1+IC1'\n", "paxlst_trailing_data", 3,
                     id="after_unz"),
        pytest.param(GROUPED.replace(b"UNE+1+", b"UNE+2+"), "paxlst_control_count", 1, id="une_count"),
        pytest.param(GROUPED.replace(b"UNE+1+IC0042", b"UNE+1+XX"), "paxlst_envelope", 1, id="une_reference"),
        pytest.param(GROUPED.replace(b"UNE+1+IC0042'\n", b""), "paxlst_envelope", 1, id="no_une"),
    ],
)
def test_envelope_faults_that_lose_nothing_are_flagged_and_the_travellers_kept(
    value: bytes, reason: str, events: int
) -> None:
    result = parse_paxlst(raw(value))
    assert reasons(result) == [reason]
    assert len(result.events) == events
    assert_private(result, [*SECRETS, "GROUPMAN", "GR0000001"])


def test_a_bug_in_the_reader_is_a_refusal_not_an_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(paxlst_module, "_envelope", broken)
    result = parse_paxlst(raw(GOOD_BYTES))
    assert result.refused == [(GOOD_BYTES, "paxlst_internal_error", "RuntimeError")]


def test_no_refusal_detail_names_a_person_document_or_date() -> None:
    """Across every fault above, details hold positions and reasons only."""
    values = [build(str(i)) for i, (build, _) in enumerate(MESSAGE_FAULTS.values(), start=1)]
    result = parse_paxlst(raw(interchange(*values)))
    assert len(result.refused) >= len(MESSAGE_FAULTS) - 1
    assert_private(result)


# --- fuzzing --------------------------------------------------------------------------------


def assert_accounted_for(value: bytes, result: FeedResult, secrets: list[str]) -> None:
    """Something came out, nothing is a reader bug, and nothing leaks into details."""
    assert result.events or result.refused
    for source in [b for _, b in result.events] + [b for b, _, _ in result.refused]:
        assert source == value
    for _, reason, detail in result.refused:
        assert reason.startswith("paxlst_") and reason != "paxlst_internal_error", detail
        for secret in secrets:
            assert secret not in detail


@FUZZ
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_raise(value: bytes) -> None:
    assert_accounted_for(value, parse_paxlst(raw(value)), [])


@FUZZ
@given(
    st.sampled_from([b"UNA:+.? 'UNB+UNOA:4+A+B+260601:0745+R'", b"UNB+UNOY:4+A+B+260601:0745+R'\n",
                     b"UNA*|,# ~UNB|UNOC*3|A|B|260601*0745|R~"]),
    st.binary(max_size=400),
)
def test_arbitrary_bytes_after_a_valid_header_never_raise(head: bytes, tail: bytes) -> None:
    value = head + tail
    assert_accounted_for(value, parse_paxlst(raw(value)), [])


FUZZ_PEOPLE = [person("ZANZIBARRO", "QUENTINA", "ZQ1234567"), person("YELLOWHAMMER", "OSWIN", "YH7654321"),
               person("XANTHOPOULOS", "PERPETUA", "XP5551234", role="crew")]
FUZZ_SECRETS = ["ZANZIBARRO", "QUENTINA", "ZQ1234567", "YELLOWHAMMER", "OSWIN", "YH7654321", "XANTHOPOULOS",
                "PERPETUA", "XP5551234"]
FUZZ_BASES = [manifest(FUZZ_PEOPLE, max_per_message=1), manifest(FUZZ_PEOPLE, group=False, max_per_message=2)]

mutation = st.one_of(
    st.tuples(st.just("delete"), st.integers(0, 10_000)),
    st.tuples(st.just("duplicate"), st.integers(0, 10_000)),
    st.tuples(st.just("truncate"), st.integers(0, 10_000), st.integers(0, 60)),
    st.tuples(st.just("element"), st.integers(0, 10_000), st.integers(1, 8), st.text(max_size=12)),
    st.tuples(st.just("flip"), st.integers(0, 100_000), st.integers(0, 7)),
)


def mutate(value: bytes, steps: list[tuple[object, ...]]) -> bytes:
    """Segment-level damage: the writer puts one segment on each line."""
    lines = value.split(b"\n")
    for step in steps:
        kind, where = step[0], int(step[1])  # type: ignore[call-overload]
        i = where % len(lines)
        if kind == "delete" and len(lines) > 1:
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        elif kind == "truncate":
            lines[i] = lines[i][: int(step[2])]  # type: ignore[call-overload]
        elif kind == "element":
            elements = lines[i].split(b"+")
            k = int(step[2]) % len(elements)  # type: ignore[call-overload]
            elements[k] = str(step[3]).encode("utf-8")
            lines[i] = b"+".join(elements)
        elif kind == "flip":
            joined = bytearray(b"\n".join(lines))
            if joined:
                joined[where % len(joined)] ^= 1 << int(step[2])  # type: ignore[call-overload]
            lines = bytes(joined).split(b"\n")
    return b"\n".join(lines)


@FUZZ
@given(st.sampled_from(FUZZ_BASES), st.lists(mutation, min_size=1, max_size=4))
def test_damaged_manifests_never_raise_and_are_always_accounted_for(
    base: bytes, steps: list[tuple[object, ...]]
) -> None:
    """Segments deleted, duplicated, truncated, an element replaced, a bit flipped: every
    input still gives at least one event or one refusal, never an exception or a leak."""
    value = mutate(base, steps)
    assert_accounted_for(value, parse_paxlst(raw(value)), FUZZ_SECRETS)


names = st.text(
    alphabet=st.one_of(st.characters(categories=("Lu", "Ll")), st.sampled_from(" '+:?-")),
    min_size=1, max_size=24,
).map(str.strip)


@FUZZ
@given(surname=names.filter(bool), given_names=names, birth=st.dates(date(1900, 1, 1), date(2026, 5, 31)),
       expiry=st.dates(date(1990, 1, 1), date(2060, 12, 31)))
def test_any_names_and_dates_round_trip(surname: str, given_names: str, birth: date, expiry: date) -> None:
    """Whatever the characters and however old the traveller, write then read gives it back."""
    sent = person(surname, given_names, "RT0000001").model_copy(update={
        "traveller": Traveller(given_names=given_names, surname=surname, date_of_birth=birth, sex="M",
                               nationality="BEL", country_of_residence="BEL"),
        "document": TravelDocument(number="RT0000001", issuing_state="BEL", expiry=expiry),
    })
    result = parse_paxlst(raw(manifest([sent])))
    assert result.refused == []
    [(event, _)] = result.events
    same_fields(event, sent)  # type: ignore[arg-type]
