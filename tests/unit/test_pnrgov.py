"""PNRGOV in: airline PNR pushes become one PassengerEvent per traveller per PNR, or precise
refusals that cost only the broken PNR or message and never carry personal data.

Inputs are made by the writer (engine/simulate/pnrgov.py) from events written here, or
are the hand-written fixtures in tests/fixtures/pnrgov/; every person is made up.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.messages import FeedResult, RawMessage
from engine.normalise.pnrgov import card_hash, mask_card_numbers, parse_pnrgov
from engine.normalise.travellers import flight_key, pnr_source_id
from engine.simulate.pnrgov import pnrgov_interchange
from schemas import PassengerEvent, stable_id
from schemas.passenger import Address, Booking, Flight, TravelDocument, Traveller

FIXTURES = Path(__file__).parent.parent / "fixtures" / "pnrgov"
KEY = b"unit-test-card-key"
PREPARED = datetime(2026, 6, 13, 18, 5, tzinfo=UTC)
RECEIVED = datetime(2026, 6, 13, 18, 6, 30, tzinfo=UTC)
RECEIVED_MS = int(RECEIVED.timestamp() * 1000)
#: Leaves Dubai at 01:30 local on 14 June (21:30 UTC on the 13th).
FLIGHT = Flight(
    carrier="BA", number="106", departure_airport="DXB", arrival_airport="LHR",
    scheduled_departure=datetime(2026, 6, 13, 21, 30, tzinfo=UTC),
    scheduled_arrival=datetime(2026, 6, 14, 5, 10, tzinfo=UTC),
)
CARDS = {"QZKW4T": "4000123412341234", "VBXR7N": "5100 9988 7766 5544"}
#: Values from the inputs that must never show up in a refusal's detail.
PERSONAL = (
    "QUIMBLEY", "ZORAYDA", "FENWORTHY", "OSWIN", "TRELAWNEY", "PERPETUA", "QZKW4T", "VBXR7N", "MHLP3D",
    "4000123412341234", "5100 9988 7766 5544", "5100998877665544", "zorayda+trips@example.org",
    "+44 7700 900123", "X12345678", "Y87654321", "Marigold Lane", "Quietstead", "Harbour Travel",
)


def event(surname: str, given: str, booking: Booking, *, route: tuple[str, ...] = ("BOM", "DXB", "LHR"),
          document: TravelDocument | None = None, born: date | None = None, sex: Any = None,
          nationality: str | None = None) -> PassengerEvent:
    return PassengerEvent(
        event_id="unused", source="pnr", source_id="unused", occurred_at=PREPARED, received_at=RECEIVED,
        flight=FLIGHT, route=route,
        traveller=Traveller(surname=surname, given_names=given, date_of_birth=born, sex=sex,
                            nationality=nationality),
        document=document, booking=booking, reporting_party="BA",
    )


def pnr(locator: str, people: Sequence[tuple[str, str, str | None]], *,
        route: tuple[str, ...] = ("BOM", "DXB", "LHR"), **booking: Any) -> list[PassengerEvent]:
    """One booking: (surname, given, seat) per traveller, co_travellers filled in."""
    names = [f"{s}/{g}" for s, g, _ in people]
    card = card_hash(CARDS[locator], KEY) if locator in CARDS else None
    base: dict[str, Any] = {"record_locator": locator, "booked_at": datetime(2026, 5, 2, 9, 41, tzinfo=UTC),
                            "payment_type": "card", "payment_instrument_hash": card} | booking
    return [
        event(surname, given, Booking(**base, co_travellers=tuple(n for j, n in enumerate(names) if j != i),
                                      seat=seat), route=route)
        for i, (surname, given, seat) in enumerate(people)
    ]


def rich_pnr() -> list[PassengerEvent]:
    """Every booking field the parser reads, and a traveller with a document."""
    booking = Booking(
        record_locator="QZKW4T", booked_at=datetime(2026, 5, 2, 9, 41, tzinfo=UTC), agency="Harbour Travel",
        payment_type="card", payment_instrument_hash=card_hash(CARDS["QZKW4T"], KEY),
        phones=("+44 7700 900123",), emails=("zorayda+trips@example.org", "z.q_1-2@example.com"),
        address=Address(line="12 Marigold Lane", city="Quietstead", postcode="QS1 4AB", country="GB"),
        bags=2, seat="14A",
    )
    return [event(
        "QUIMBLEY", "ZORAYDA ANN", booking,
        document=TravelDocument(type="passport", number="X12345678", issuing_state="GBR",
                                expiry=date(2031, 4, 1)),
        born=date(1984, 11, 9), sex="F", nationality="GBR",
    )]


def three_pnrs() -> list[list[PassengerEvent]]:
    return [
        rich_pnr(),
        pnr("VBXR7N", [("FENWORTHY", "OSWIN", "22C"), ("FENWORTHY", "PERPETUA", "22D")]),
        pnr("MHLP3D", [("TRELAWNEY", "OSWIN", None)], payment_type="cash"),
    ]


def push(pnrs: Sequence[Sequence[PassengerEvent]], **options: Any) -> bytes:
    return pnrgov_interchange(pnrs, card_numbers=CARDS, reference="000000042", sender="BAPNR",
                              recipient="GBHOME", prepared_at=PREPARED, **options)


def parse(value: bytes, *, timestamp_ms: int | None = RECEIVED_MS) -> FeedResult:
    return parse_pnrgov(RawMessage(value=value, topic="raw.passenger", partition=0, offset=9,
                                   timestamp_ms=timestamp_ms), card_key=KEY)


def passengers(result: FeedResult) -> list[PassengerEvent]:
    out = [e for e, _ in result.events if isinstance(e, PassengerEvent)]
    assert len(out) == len(result.events)
    return out


def by_name(result: FeedResult) -> dict[str, PassengerEvent]:
    return {f"{e.traveller.surname}/{e.traveller.given_names}": e for e in passengers(result)}


def assert_read_back(parsed: PassengerEvent, written: PassengerEvent) -> None:
    assert parsed.flight == written.flight
    assert parsed.route == written.route
    assert parsed.traveller == written.traveller
    assert parsed.document == written.document
    assert parsed.booking == written.booking
    assert parsed.reporting_party == written.reporting_party
    assert written.booking is not None
    source_id = pnr_source_id(written.flight, written.booking.record_locator, written.traveller)
    assert (parsed.source, parsed.source_id) == ("pnr", source_id)
    assert parsed.event_id == stable_id("passenger", "pnr", source_id)
    assert (parsed.occurred_at, parsed.received_at) == (PREPARED, RECEIVED)


def assert_private(result: FeedResult) -> None:
    for _, _, detail in result.refused:
        for value in PERSONAL:
            assert value.lower() not in detail.lower(), (value, detail)


# -- editing written interchanges (one segment per line) --------------------------------


def lines_of(value: bytes) -> list[str]:
    return value.decode("utf-8").splitlines()


def rejoin(lines: Sequence[str], *, recount: bool = True) -> bytes:
    """Lines back to bytes, with each UNT's segment count made right again (so that the
    edit, not the count, is what the parser sees)."""
    out, count = [], 0
    for line in lines:
        if line.startswith("UNH+"):
            count = 0
        count += 1
        if recount and line.startswith("UNT+"):
            line = re.sub(r"^UNT\+[^+']*", f"UNT+{count}", line)
        out.append(line)
    return ("\n".join(out) + "\n").encode("utf-8")


def edit(value: bytes, pattern: str, replacement: str, *, nth: int = 0) -> bytes:
    """Replace the ``nth`` line matching ``pattern`` (a regex, from the line's start)."""
    lines = lines_of(value)
    hits = [i for i, line in enumerate(lines) if re.match(pattern, line)]
    assert len(hits) > nth, pattern
    lines[hits[nth]] = re.sub(pattern, replacement, lines[hits[nth]])
    return rejoin(lines)


def drop(value: bytes, pattern: str, *, nth: int | None = None) -> bytes:
    """Delete the lines matching ``pattern`` (only the ``nth`` one if given)."""
    lines = lines_of(value)
    hits = [i for i, line in enumerate(lines) if re.match(pattern, line)]
    assert hits, pattern
    doomed = set(hits if nth is None else [hits[nth]])
    return rejoin([line for i, line in enumerate(lines) if i not in doomed])


# -- reading what was written -----------------------------------------------------------


def test_every_field_written_is_read_back() -> None:
    """Flight, route, names, document, and every booking field, with the card's hash."""
    [written] = rich_pnr()
    result = parse(push([[written]]))
    assert result.refused == []
    [(_, value)] = result.events
    [parsed] = passengers(result)
    assert value == push([[written]])
    assert_read_back(parsed, written)
    assert parsed.booking is not None and parsed.booking.payment_instrument_hash == card_hash(
        "4000123412341234", KEY)


def test_several_pnrs_and_travellers_give_one_event_each_with_co_travellers() -> None:
    """Three PNRs, one with two travellers: four events, seats per traveller, the others on
    the record as co-travellers."""
    pnrs = three_pnrs()
    result = parse(push(pnrs))
    assert result.refused == []
    parsed = by_name(result)
    assert len(parsed) == 4 == len(result.events)
    for written in (e for p in pnrs for e in p):
        assert_read_back(parsed[f"{written.traveller.surname}/{written.traveller.given_names}"], written)
    oswin = parsed["FENWORTHY/OSWIN"]
    assert oswin.booking is not None and oswin.booking.co_travellers == ("FENWORTHY/PERPETUA",)
    perpetua = parsed["FENWORTHY/PERPETUA"]
    assert oswin.booking.seat == "22C" and perpetua.booking is not None and perpetua.booking.seat == "22D"
    assert len({e.event_id for e, _ in result.events}) == 4


@pytest.mark.parametrize("options", [
    {"with_una": False},
    {"newlines": False},
    {"functional_group": True},
    {"per_message": 1},
    {"per_message": 2, "functional_group": True, "with_una": False, "newlines": False},
    {"syntax": ("UNOC", "3")},
    {"syntax": ("UNOA", "4")},
], ids=["no-una", "no-newlines", "functional-group", "one-pnr-per-message", "all-at-once", "unoc",
        "unoa"])
def test_the_layout_of_the_interchange_does_not_change_what_is_read(options: dict[str, Any]) -> None:
    """UNA or not, one line per segment or none, UNG/UNE groups, several messages, other
    syntax identifiers: the same events."""
    expected = parse(push(three_pnrs()))
    result = parse(push(three_pnrs(), **options))
    assert result.refused == []
    assert [e for e, _ in result.events] == [e for e, _ in expected.events]


def test_crlf_line_ends_are_read() -> None:
    value = push(three_pnrs()).replace(b"\n", b"\r\n")
    result = parse(value)
    assert result.refused == [] and len(result.events) == 4


def test_release_characters_in_names_emails_and_addresses_come_back_as_written() -> None:
    """Apostrophes, plus signs, colons and question marks travel released and read back."""
    booking = Booking(
        record_locator="QZKW4T", booked_at=datetime(2026, 5, 2, 9, 41, tzinfo=UTC),
        emails=("o'hara+flights@example.org",), phones=("+1 (555) 010-0199",),
        address=Address(line="Flat 2: Unit ?7 + Annex", city="Quietstead"), agency="Go? + Fly: Ltd's",
    )
    written = event("O'HARA", "ANNE+MARIE", booking, route=("DXB", "LHR"))
    value = push([[written]])
    assert b"O?'HARA" in value and b"?+" in value and b"??7" in value
    [parsed] = passengers(parse(value))
    assert_read_back(parsed, written)


def test_names_outside_ascii_read_back_in_utf8_and_latin1() -> None:
    booking = Booking(record_locator="QZKW4T", booked_at=datetime(2026, 5, 2, 9, 41, tzinfo=UTC))
    written = event("MÜLLER", "JÖRG", booking, route=())
    for syntax in (("IATA", "1"), ("UNOY", "4")):
        [parsed] = passengers(parse(push([[written]], syntax=syntax)))
        assert_read_back(parsed, written)
    latin1 = push([[written]], syntax=("UNOA", "4")).decode("ascii").replace("UNOA", "UNOC")
    latin1_value = latin1.replace("M?LLER", "MÜLLER").replace("J?RG", "JÖRG").encode("latin-1")
    [parsed] = passengers(parse(latin1_value))
    assert (parsed.traveller.surname, parsed.traveller.given_names) == ("MÜLLER", "JÖRG")


def test_flight_times_are_read_in_their_airports_zones_and_kept_in_utc() -> None:
    """TVL times are local to their airports: 01:30 in Dubai on the 14th is 21:30 UTC on the
    13th; kept in UTC, as PAXLST's are, so both feeds give the flight one key."""
    assert b"TVL+140626:0130:140626:0610+DXB+LHR+BA+106" in push([rich_pnr()])
    [parsed] = passengers(parse(push([rich_pnr()])))
    assert parsed.flight.scheduled_departure == datetime(2026, 6, 13, 21, 30, tzinfo=UTC)
    assert parsed.flight.scheduled_departure.utcoffset() == timedelta(0)
    assert parsed.flight.scheduled_arrival == datetime(2026, 6, 14, 5, 10, tzinfo=UTC)
    assert flight_key(parsed.flight) == flight_key(FLIGHT) == "BA0106/2026-06-13/DXB"


def test_an_arrival_without_a_date_is_on_the_next_day_when_it_would_precede_departure() -> None:
    value = edit(push([rich_pnr()]), r"TVL\+140626:0130:140626:0610", "TVL+140626:2330::0610")
    [parsed] = passengers(parse(value))
    assert parsed.flight.scheduled_departure == datetime(2026, 6, 14, 19, 30, tzinfo=UTC)
    assert parsed.flight.scheduled_arrival == datetime(2026, 6, 15, 5, 10, tzinfo=UTC)


def test_without_an_itinerary_the_route_is_empty_and_the_seat_comes_from_the_traveller_group() -> None:
    written = pnr("VBXR7N", [("FENWORTHY", "OSWIN", "3F"), ("FENWORTHY", "PERPETUA", None)], route=())
    parsed = by_name(parse(push([written])))
    assert_read_back(parsed["FENWORTHY/OSWIN"], written[0])
    assert_read_back(parsed["FENWORTHY/PERPETUA"], written[1])
    assert parsed["FENWORTHY/OSWIN"].route == ()


def test_docs_outside_a_traveller_group_go_to_the_traveller_they_name() -> None:
    """An SSR DOCS sent before the TIFs is matched to the traveller by name."""
    [written] = rich_pnr()
    other = pnr("QZKW4T", [("FENWORTHY", "OSWIN", None)])[0]
    two = [written.model_copy(update={"booking": written.booking.model_copy(  # type: ignore[union-attr]
        update={"co_travellers": ("FENWORTHY/OSWIN",), "seat": None})})]
    two.append(other.model_copy(update={"booking": two[0].booking.model_copy(  # type: ignore[union-attr]
        update={"co_travellers": ("QUIMBLEY/ZORAYDA ANN",)})}))
    lines = lines_of(push([two]))
    docs = next(i for i, line in enumerate(lines) if line.startswith("SSR+DOCS"))
    moved = lines.pop(docs)
    first_tif = next(i for i, line in enumerate(lines) if line.startswith("TIF+"))
    lines.insert(first_tif, moved.replace("+::1'", "'"))
    parsed = by_name(parse(rejoin(lines)))
    assert parsed["QUIMBLEY/ZORAYDA ANN"].document == written.document
    assert parsed["QUIMBLEY/ZORAYDA ANN"].traveller.date_of_birth == date(1984, 11, 9)
    assert parsed["FENWORTHY/OSWIN"].document is None


def test_a_card_number_is_hashed_on_entry_and_found_nowhere_in_the_events() -> None:
    """The hash is HMAC-SHA256 of the digits under the card key; the events, serialised,
    hold neither the clear number nor a long run of its digits."""
    result = parse(push(three_pnrs()))
    digits = [re.sub(r"\D", "", n) for n in CARDS.values()]
    expected = {hmac.new(KEY, d.encode(), hashlib.sha256).hexdigest()[:32] for d in digits}
    hashes = {e.booking.payment_instrument_hash for e in passengers(result) if e.booking}
    assert expected <= hashes
    for parsed, _ in result.events:
        text = parsed.model_dump_json()
        for number in digits:
            assert all(number[i:i + 8] not in text for i in range(len(number) - 7))
            assert CARDS["VBXR7N"] not in text


def test_card_hash_counts_digits_only_and_depends_on_the_key() -> None:
    assert card_hash("5100 9988 7766 5544", KEY) == card_hash("5100-9988-7766-5544", KEY)
    assert card_hash("5100998877665544", KEY) != card_hash("5100998877665544", b"another key")
    assert re.fullmatch(r"[0-9a-f]{32}", card_hash("5100998877665544", KEY))


def test_a_masked_card_number_gives_a_card_payment_without_a_hash() -> None:
    value = edit(push([rich_pnr()]), r"FOP\+CC:::VI:[0-9]+", "FOP+CC:::VI:XXXXXXXXXXXX1234")
    [parsed] = passengers(parse(value))
    assert parsed.booking is not None
    assert (parsed.booking.payment_type, parsed.booking.payment_instrument_hash) == ("card", None)


@pytest.mark.parametrize(("code", "payment"), [
    ("CC", "card"), ("CA", "cash"), ("MS", "invoice"), ("INV", "invoice"), ("VO", "voucher"),
    ("FF", "miles"), ("CK", "other"),
])
def test_fop_codes_map_to_payment_types(code: str, payment: str) -> None:
    value = edit(push([rich_pnr()]), r"FOP\+[^']*", f"FOP+{code}")
    [parsed] = passengers(parse(value))
    assert parsed.booking is not None and parsed.booking.payment_type == payment


def test_contacts_are_read_from_osi_free_text_too() -> None:
    value = edit(push([rich_pnr()]), r"SSR\+CTCM[^']*", "IFT+4:28::BA+CTCM 447700900999")
    [parsed] = passengers(parse(value))
    assert parsed.booking is not None and parsed.booking.phones == ("447700900999",)


# -- the hand-written fixtures -----------------------------------------------------------


def test_fixture_a_grouped_crlf_push_with_the_segments_not_read() -> None:
    """UNA, UNG/UNE, CRLF; TKT, MON, PTK, TXD, FTI, RPI and APD are passed over; one PNR
    dated by DAT only, paid in cash, with a phone in OSI free text."""
    value = (FIXTURES / "push_group_crlf.edi").read_bytes()
    result = parse(value)
    assert result.refused == []
    parsed = by_name(result)
    assert set(parsed) == {"VOORBEELD/JAN PIETER", "VOORBEELD-DE VRIES/ANNA", "EXAMPLE/MARIA"}
    jan, anna = parsed["VOORBEELD/JAN PIETER"], parsed["VOORBEELD-DE VRIES/ANNA"]
    maria = parsed["EXAMPLE/MARIA"]
    assert jan.flight.scheduled_departure == datetime(2026, 6, 14, 7, 40, tzinfo=UTC)
    assert jan.route == ("AMS", "LHR", "AMS") and maria.route == ("AMS", "LHR")
    assert jan.reporting_party == "KL" and jan.occurred_at == datetime(2026, 6, 14, 4, 5, tzinfo=UTC)
    assert jan.booking is not None and anna.booking is not None and maria.booking is not None
    assert jan.booking.record_locator == "QX7P2M"
    assert jan.booking.booked_at == datetime(2026, 5, 2, 14, 12, tzinfo=UTC)
    assert jan.booking.agency == "SAMPLE REIZEN" and jan.booking.bags == 2
    assert jan.booking.emails == ("J_VOORBEELD@EXAMPLE.NL",)
    assert jan.booking.address == Address(line="KERKSTRAAT 1", city="VOORBEELDSTAD", postcode="1234 AB",
                                          country="NL")
    assert jan.booking.payment_instrument_hash == card_hash("5500000000000004", KEY)
    assert (jan.booking.seat, anna.booking.seat) == ("14A", "14B")
    assert jan.booking.co_travellers == ("VOORBEELD-DE VRIES/ANNA",)
    assert jan.document == TravelDocument(type="passport", number="NX0000001", issuing_state="NLD",
                                          expiry=date(2031, 4, 1))
    assert anna.document is not None and anna.document.type == "id_card"
    assert (jan.traveller.date_of_birth, jan.traveller.sex) == (date(1981, 3, 15), "M")
    assert maria.booking.booked_at == datetime(2026, 6, 10, 17, 30, tzinfo=UTC)
    assert (maria.booking.payment_type, maria.booking.phones) == ("cash", ("31600000000",))
    assert maria.traveller.nationality == "DEU" and maria.booking.seat == "22C"


def test_fixture_latin1_without_una_or_newlines_refuses_only_the_pnr_without_a_traveller() -> None:
    value = (FIXTURES / "no_una_latin1.edi").read_bytes()
    result = parse(value)
    [(_, part)] = result.events
    [parsed] = passengers(result)
    assert part == value
    assert (parsed.traveller.surname, parsed.traveller.given_names) == ("MÜLLER", "JÖRG")
    assert parsed.document is not None and parsed.document.issuing_state == "DEU"
    assert parsed.booking is not None and parsed.booking.payment_type == "invoice"
    assert result.refused == [(mask_card_numbers(value), "pnrgov_no_traveller",
                               "message M1, PNR 2: segment 12 (SRC): no TIF, or a TIF without a surname")]


# -- variants of the guide and of other systems (synthetic look-alikes) -------------------

#: A push as the PNRGOV guide's own examples shape it: the push flight's TVL gives the
#: departure only; two-letter DOCS country codes; an infant's DOCS in its adult's group;
#: a codeshare (marketing TVL, then the operating flight's TVL without airports); one SEAT
#: SSR for two travellers; a check-in group (TRI, TIF, SSD); then the split-PNR, non-air,
#: history and free-text groups, none of which is the live booking.
GUIDE_SHAPED = [
    "UNH+1+PNRGOV:11:1:IA+BA0106/140626/0130+01:F'",
    "MSG+:22'",
    "ORG+BA:DXB'",
    "TVL+140626:0130+DXB+LHR+BA+106'",
    "EQN+1'",
    "SRC'",
    "RCI+BA:QZKW4T::020526:0941'",
    "DAT+700:020526:0941'",
    "ORG+BA:DXB+12345675:DXBBA0001+DXB++T+AE:AED'",
    "TIF+QUIMBLEY+ZORAYDA MRS:A:1'",
    "SSR+DOCS:HK:1:BA:::::/P/GB/X12345678/GB/09NOV84/F/01APR31/QUIMBLEY/ZORAYDA+::1'",
    "SSR+DOCS:HK:1:BA:::::/P/GBR/Y87654321/GBR/15JAN25/FI/20FEB30/QUIMBLEY/PERPETUA+::1'",
    "TIF+QUIMBLEY+PERPETUA:IN:2'",
    "TIF+FENWORTHY+OSWIN MR:A:3'",
    "TVL+140626:0130::0610+DXB+LHR+BA:EK+0106:Y'",
    "TVL+++++4011:Y'",
    "RPI+2+HK'",
    "SSR+SEAT:HK:2:BA:::DXB:LHR+14A::1+14B::3'",
    "DAT+2:130626:2215'",
    "ORG+BA:DXB++++A'",
    "TRI++105:::1'",
    "TIF+QUIMBLEY+ZORAYDA MRS:A:1'",
    "SSD+12C++++Y'",
    "TBD++1:23:700'",
    "EQN+1'",
    "RCI+BA:MHLP3D'",
    "MSG+8'",
    "TVL+140626:1500:160626+LHR:SAMPLE HOTEL++HL+1:ROH'",
    "ABI+1+:LONRR+LON++BA'",
    "DAT+ZT:010526:0900'",
    "SAC+++X'",
    "TIF+TRELAWNEY+OSWIN:A:9'",
    "TVL+100626:0130::0610+DXB+MAN+BA+0108:Y'",
    "LTS+0/O/NM/QUIMBLEY/ZORAYDA'",
    "UNT+0+1'",
]


def guide_shaped(segments: Sequence[str] = GUIDE_SHAPED) -> bytes:
    return rejoin(["UNA:+.?*'", "UNB+IATA:1+BAPNR+GBHOME+260613:1805+000000077'", *segments,
                   "UNZ+1+000000077'"])


def test_a_push_shaped_like_the_guide_s_examples_is_read() -> None:
    result = parse(guide_shaped())
    assert result.refused == []
    people = by_name(result)
    assert sorted(people) == ["FENWORTHY/OSWIN MR", "QUIMBLEY/PERPETUA", "QUIMBLEY/ZORAYDA MRS"]
    for person in people.values():
        assert person.flight == FLIGHT  # the arrival (06:10 in London) from the itinerary's leg
        assert person.route == ("DXB", "LHR")  # no codeshare, hotel or history leg in it
        assert person.booking is not None and person.booking.record_locator == "QZKW4T"
        assert person.booking.booked_at == datetime(2026, 5, 2, 9, 41, tzinfo=UTC)
        assert person.booking.agency == "12345675"  # the booking's ORG, not the check-in agent's


def test_two_letter_country_codes_in_docs_are_read_as_their_alpha_3() -> None:
    adult = by_name(parse(guide_shaped()))["QUIMBLEY/ZORAYDA MRS"]
    assert adult.traveller.nationality == "GBR"
    assert adult.document == TravelDocument(type="passport", number="X12345678", issuing_state="GBR",
                                            expiry=date(2031, 4, 1))
    unknown = [line.replace("/P/GB/", "/P/QQ/") for line in GUIDE_SHAPED]
    assert [r for _, r, _ in parse(guide_shaped(unknown)).refused] == ["pnrgov_bad_docs"]


def test_an_infant_s_docs_sent_in_the_adult_s_group_go_to_the_infant() -> None:
    """Sex FI: an infant's DOCS, even under its adult's TIF; the adult keeps their own."""
    people = by_name(parse(guide_shaped()))
    infant, adult = people["QUIMBLEY/PERPETUA"], people["QUIMBLEY/ZORAYDA MRS"]
    assert (infant.traveller.date_of_birth, infant.traveller.sex) == (date(2025, 1, 15), "F")
    assert infant.document is not None and infant.document.number == "Y87654321"
    assert adult.traveller.date_of_birth == date(1984, 11, 9)


def test_seats_come_from_a_shared_seat_ssr_and_from_check_in() -> None:
    """One SEAT SSR, an element per traveller (14A for 1, 14B for 3); the check-in group's SSD
    (12C for traveller 1) is the seat the traveller got and wins over the request."""
    people = by_name(parse(guide_shaped()))
    assert people["FENWORTHY/OSWIN MR"].booking.seat == "14B"  # type: ignore[union-attr]
    assert people["QUIMBLEY/ZORAYDA MRS"].booking.seat == "12C"  # type: ignore[union-attr]
    assert people["QUIMBLEY/PERPETUA"].booking.seat is None  # type: ignore[union-attr]


def test_a_push_flight_without_arrival_and_no_matching_leg_is_refused() -> None:
    """Without the flight's leg in any PNR there is no arrival time to take: the message is refused."""
    lines = [line for line in GUIDE_SHAPED if not line.startswith("TVL+140626:0130::0610")]
    result = parse(guide_shaped(lines))
    assert [r for _, r, _ in result.refused] == ["pnrgov_bad_flight"] and result.events == []


def test_spaces_between_segments_and_after_una_do_not_matter() -> None:
    """Some systems put a space (not a line break) between segments, also after UNA."""
    value = push(three_pnrs())
    spaced = b" ".join(value.split(b"\n")).replace(b"UNA:+.? '", b"UNA:+.? ' ")
    assert spaced != value
    assert by_name(parse(spaced)) == by_name(parse(value))


# -- refusals ------------------------------------------------------------------------------

Edit = Callable[[bytes], bytes]
# PNR 2 (the two FENWORTHYs) is broken; PNRs 1 and 3 must still come through.
PNR_BREAKS: list[tuple[str, Edit, str]] = [
    ("pnrgov_no_locator", lambda v: edit(v, r"RCI\+BA:VBXR7N[^']*", "RCI+BA"), "(SRC): no RCI"),
    ("pnrgov_no_traveller", lambda v: drop(v, r"TIF\+FENWORTHY"), "(SRC): no TIF"),
    ("pnrgov_bad_date", lambda v: edit(v, r"RCI\+BA:VBXR7N[^']*", "RCI+BA:VBXR7N::310226:0941"),
     "(RCI) element 1 component 4"),
    ("pnrgov_bad_date", lambda v: edit(v, r"RCI\+BA:VBXR7N[^']*", "RCI+BA:VBXR7N::020526:2561"),
     "(RCI) element 1 component 5"),
    ("pnrgov_no_booking_date", lambda v: edit(v, r"RCI\+BA:VBXR7N[^']*", "RCI+BA:VBXR7N"), "(SRC)"),
    ("pnrgov_bad_docs", lambda v: edit(v, r"TIF\+FENWORTHY\+OSWIN[^']*'",
                                      "TIF+FENWORTHY+OSWIN:A:1'\nSSR+DOCS:HK:1:BA:::::/P/GBR/Y87654321/GBR/"
                                      "30FEB80/M/01JAN30/FENWORTHY/OSWIN"),
     "(SSR) element 1 component 9 field 5"),
    ("pnrgov_bad_docs", lambda v: edit(v, r"TIF\+FENWORTHY\+OSWIN[^']*'",
                                      "TIF+FENWORTHY+OSWIN:A:1'\nSSR+DOCS:HK:1:BA:::::/P/QQQ/Y87654321"),
     "issuing state"),
    ("pnrgov_bad_docs", lambda v: edit(v, r"TIF\+FENWORTHY\+OSWIN[^']*'",
                                      "TIF+FENWORTHY+OSWIN:A:1'\nSSR+DOCS:HK:1:BA:::::/P//Y87654321"),
     "without issuing state"),
    ("pnrgov_bad_address", lambda v: edit(v, r"RCI\+BA:VBXR7N[^']*'",
                                         r"\g<0>\nADD++700:12 Marigold Lane:Quietstead:::QQ"),
     "(ADD) element 2"),
    ("pnrgov_bad_itinerary", lambda v: edit(v, r"TVL\+\+BOM\+DXB", "TVL++B0M+DXB", nth=1), "(TVL) element 2"),
    ("pnrgov_bad_bags", lambda v: edit(v, r"RCI\+BA:VBXR7N[^']*'", r"\g<0>\nEBD++two"), "(EBD) element 2"),
    ("pnrgov_invalid_pnr", lambda v: edit(v, r"RCI\+BA:VBXR7N", "RCI+BA:VBXR7NQQQ"),
     "record_locator: string_too_long"),
    ("pnrgov_invalid_pnr", lambda v: edit(v, r"TIF\+FENWORTHY\+OSWIN", "TIF+" + "FENWORTHY" * 30 + "+OSWIN"),
     "traveller 1: surname: string_too_long"),
]


@pytest.mark.parametrize(("reason", "breaking", "where"), PNR_BREAKS,
                         ids=[f"{r}-{i}" for i, (r, _, _) in enumerate(PNR_BREAKS)])
def test_a_broken_pnr_is_refused_alone(reason: str, breaking: Edit, where: str) -> None:
    """The refusal names the message, the PNR and the segment; the other PNRs still
    become events; the refused bytes are the whole message, card numbers masked."""
    value = breaking(push(three_pnrs()))
    result = parse(value)
    [(part, got, detail)] = result.refused
    assert (part, got) == (mask_card_numbers(value), reason)
    assert detail.startswith("message 1, PNR 2: ") and where in detail, detail
    assert set(by_name(result)) == {"QUIMBLEY/ZORAYDA ANN", "TRELAWNEY/OSWIN"}
    assert_private(result)


def _second_message(value: bytes, pattern: str, replacement: str | None, nth_in_message: int = 0) -> bytes:
    """Edit (or with None, drop) a line of the second message only."""
    lines = lines_of(value)
    start = [i for i, line in enumerate(lines) if line.startswith("UNH+")][1]
    hits = [i for i, line in enumerate(lines) if i > start and re.match(pattern, line)]
    target = hits[nth_in_message]
    if replacement is None:
        del lines[target]
    else:
        lines[target] = re.sub(pattern, replacement, lines[target])
    return rejoin(lines)


def _second_message_bounds(lines: Sequence[str]) -> tuple[int, int]:
    start = [i for i, line in enumerate(lines) if line.startswith("UNH+")][1]
    end = next(i for i, line in enumerate(lines) if i > start and line.startswith("UNT+"))
    return start, end


def _miscount_second(value: bytes) -> bytes:
    """The second message's UNT counts one segment too many."""
    lines = lines_of(value)
    _, end = _second_message_bounds(lines)
    count = int(lines[end].split("+")[1])
    lines[end] = f"UNT+{count + 1}+2'"
    return rejoin(lines, recount=False)


def _empty_second(value: bytes) -> bytes:
    """The second message keeps its header (flight and all) but loses every PNR."""
    lines = lines_of(value)
    start, end = _second_message_bounds(lines)
    first_src = next(i for i in range(start, end) if lines[i] == "SRC'")
    return rejoin(lines[:first_src] + lines[end:])


MESSAGE_BREAKS: list[tuple[str, Edit, str]] = [
    ("pnrgov_no_flight", lambda v: _second_message(v, r"TVL\+", None), "no TVL before the first SRC"),
    ("pnrgov_bad_flight", lambda v: _second_message(v, r"TVL\+(\S+?)\+DXB\+LHR\+BA", r"TVL+\1+DXB+LHR+B"),
     "segment 4 (TVL) element 4"),
    ("pnrgov_bad_flight", lambda v: _second_message(v, r"TVL\+(\S+?)\+DXB\+LHR", r"TVL+\1+DXB+L"),
     "segment 4 (TVL) element 3"),
    ("pnrgov_bad_date", lambda v: _second_message(v, r"TVL\+140626", "TVL+320626"),
     "segment 4 (TVL) element 1 component 1"),
    ("pnrgov_wrong_type", lambda v: edit(v, r"UNH\+2\+PNRGOV:11:1:IA", "UNH+2+PAXLST:D:05B:UN:IATA"),
     "UNH element 2"),
    ("pnrgov_no_pnr", _empty_second, "no SRC"),
]


@pytest.mark.parametrize(("reason", "breaking", "where"), MESSAGE_BREAKS,
                         ids=[f"{r}-{i}" for i, (r, _, _) in enumerate(MESSAGE_BREAKS)])
def test_a_broken_message_is_refused_alone(reason: str, breaking: Edit, where: str) -> None:
    """Two messages; the second is broken: one refusal for it, the first's PNR still in."""
    value = breaking(push(three_pnrs(), per_message=2))
    result = parse(value)
    [(part, got, detail)] = result.refused
    assert (part, got) == (mask_card_numbers(value), reason)
    assert detail.startswith("message 2: ") and where in detail, detail
    assert set(by_name(result)) == {"QUIMBLEY/ZORAYDA ANN", "FENWORTHY/OSWIN", "FENWORTHY/PERPETUA"}
    assert_private(result)


WHOLE_BREAKS: list[tuple[str, Edit, str]] = [
    ("pnrgov_syntax", lambda v: b"this is not EDIFACT", "cannot split the interchange"),
    ("pnrgov_syntax", lambda v: v.rstrip(b"\n").rsplit(b"\n", 1)[0], "does not end with UNZ"),
    ("pnrgov_syntax", lambda v: drop(v, r"UNB\+"), "does not start with UNB"),
    ("pnrgov_syntax", lambda v: edit(v, r"UNB\+IATA:1", "UNB+ABCD:1"), "syntax identifier"),
    ("pnrgov_syntax", lambda v: v + b"TIF+QUIMBLEY", "cannot split"),
    ("pnrgov_syntax", lambda v: edit(v, r"EQN", "eqn"), "no valid tag"),
    ("pnrgov_undecodable", lambda v: v.replace(b"QUIMBLEY", b"QUIMBL\xffY"), "byte"),
    ("pnrgov_bad_date", lambda v: edit(v, r"UNB\+(\S+?)\+260613:1805", r"UNB+\1+261399:1805"), "UNB"),
    ("pnrgov_envelope", lambda v: edit(v, r"UNZ\+1", "UNZ+7"), "UNZ's count"),
    ("pnrgov_envelope", lambda v: edit(v, r"UNZ\+1\+000000042", "UNZ+1+000000043"),
     "UNZ's count or reference"),
    ("pnrgov_envelope", lambda v: drop(v, r"UNT\+"), "UNT"),
    ("pnrgov_envelope", lambda v: drop(v, r"UNH\+"), "outside any message"),
    ("pnrgov_envelope", lambda v: drop(v, r"UNH|MSG|ORG|TVL|EQN|SRC|RCI|TIF|SSR|FOP|ADD|EBD|UNT"),
     "holds no message"),
]


@pytest.mark.parametrize(("reason", "breaking", "where"), WHOLE_BREAKS,
                         ids=[f"{r}-{i}" for i, (r, _, _) in enumerate(WHOLE_BREAKS)])
def test_a_broken_interchange_is_refused_whole(reason: str, breaking: Edit, where: str) -> None:
    value = breaking(push(three_pnrs()))
    result = parse(value)
    assert result.events == []
    [(part, got, detail)] = result.refused
    assert (part, got) == (mask_card_numbers(value), reason)
    assert where in detail, detail
    assert_private(result)


def test_a_broken_functional_group_trailer_refuses_the_interchange() -> None:
    value = edit(push(three_pnrs(), functional_group=True), r"UNE\+1", "UNE+2")
    [(_, reason, detail)] = parse(value).refused
    assert reason == "pnrgov_envelope" and "UNE's count" in detail


def test_an_impossible_broker_timestamp_refuses_the_message() -> None:
    result = parse(push(three_pnrs()), timestamp_ms=10**18)
    assert result.events == [] and [r for _, r, _ in result.refused] == ["pnrgov_bad_timestamp"]


# -- fuzzing ---------------------------------------------------------------------------------

FUZZ = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
BASES = [
    push(three_pnrs()),
    push(three_pnrs(), per_message=2, functional_group=True),
    push(three_pnrs(), with_una=False, newlines=False),
]


def assert_sound(value: bytes, result: FeedResult) -> None:
    """Something came out, nothing was a parser bug, all of it names the whole message,
    and no clear card number or personal value leaked."""
    assert result.events or result.refused
    assert all(reason != "pnrgov_parser_error" for _, reason, _ in result.refused), result.refused
    assert all(part is value for _, part in result.events)
    assert all(part == mask_card_numbers(value) for part, _, _ in result.refused)
    assert all(re.fullmatch(r"pnrgov_[a-z_]+", reason) for _, reason, _ in result.refused)
    assert_private(result)
    for parsed, _ in result.events:
        text = parsed.model_dump_json()
        assert "4000123412341234" not in text and "5100998877665544" not in text


@FUZZ
@given(st.binary(max_size=800))
def test_fuzz_arbitrary_bytes_never_raise_and_always_give_an_answer(value: bytes) -> None:
    assert_sound(value, parse(value))


@FUZZ
@given(st.text(alphabet="UNABGHTZSRCITVLF+:?'\n 0123456789", max_size=400))
def test_fuzz_edifact_like_noise_never_raises_and_always_gives_an_answer(text: str) -> None:
    value = text.encode()
    assert_sound(value, parse(value))


_SEGMENTS = re.compile(rb"(?:[^'?]|\?.)*'\n?", re.DOTALL)
_MUTATION = st.tuples(
    st.sampled_from(["delete", "duplicate", "truncate", "replace", "flip"]),
    st.integers(min_value=0, max_value=10_000),
    st.integers(min_value=0, max_value=10_000),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12),
)


@settings(FUZZ, max_examples=200)
@given(st.sampled_from(range(len(BASES))), st.lists(_MUTATION, min_size=1, max_size=4), st.booleans())
def test_fuzz_mutated_interchanges_never_raise_and_always_give_an_answer(
    base: int, mutations: list[tuple[str, int, int, str]], recount: bool
) -> None:
    """Segments deleted, duplicated or cut short, elements replaced by random text, bytes
    flipped; with ``recount`` the UNT counts are made right again, so the edits reach the
    PNR reading instead of stopping at the trailer check."""
    segments = [s for s in _SEGMENTS.findall(BASES[base]) if s]
    flips: list[tuple[int, int]] = []
    for kind, where, how, text in mutations:
        i = where % len(segments)
        if kind == "delete" and len(segments) > 1:
            del segments[i]
        elif kind == "duplicate":
            segments.insert(i, segments[i])
        elif kind == "truncate":
            segments[i] = segments[i][: how % max(len(segments[i]), 1)]
        elif kind == "replace":
            elements = segments[i].split(b"+")
            elements[how % len(elements)] = text.encode()
            segments[i] = b"+".join(elements)
        elif kind == "flip":
            flips.append((where, how % 127 + 1))  # stays ASCII: reaches past decoding
    value = b"".join(segments)
    if recount:
        value = _recount(value)
    mutable = bytearray(value)
    for where, mask in flips:
        if mutable:
            mutable[where % len(mutable)] ^= mask
    value = bytes(mutable)
    assert_sound(value, parse(value))


def _recount(value: bytes) -> bytes:
    out, count = [], 0
    for seg in _SEGMENTS.findall(value):
        if seg.startswith(b"UNH+"):
            count = 0
        count += 1
        if seg.startswith(b"UNT+"):
            seg = re.sub(rb"^UNT\+[^+']*", b"UNT+%d" % count, seg)
        out.append(seg)
    return b"".join(out)


def test_fuzz_mutations_reach_the_pnr_reading() -> None:
    """The mutation fuzz is worth running only if recounted edits get past the envelope:
    a replaced element inside a PNR is judged by the PNR reading."""
    segments = [s for s in _SEGMENTS.findall(BASES[0]) if s]
    rci = next(i for i, s in enumerate(segments) if s.startswith(b"RCI+BA:VBXR7N"))
    segments[rci] = b"RCI+BA'\n"
    result = parse(_recount(b"".join(segments)))
    assert [r for _, r, _ in result.refused] == ["pnrgov_no_locator"] and len(result.events) == 2


def test_a_refused_push_keeps_no_card_number_in_clear() -> None:
    """A dead letter keeps the message's bytes, with every card number masked; the rest of
    the bytes (phones included) are as sent."""
    value = push(three_pnrs())
    broken = value.replace(b"RCI+", b"RCX+", 1)  # the first PNR loses its record locator
    result = parse(broken)
    [(part, _, _)] = result.refused
    cards = [c.encode() for c in CARDS.values()]
    assert cards and all(c in broken for c in cards)
    assert not any(c in part for c in cards)
    assert len(part) == len(broken) and part.count(b"X") >= sum(len(c) for c in cards)


def test_a_miscounted_trailer_is_a_note_and_the_pnrs_still_come() -> None:
    """Many senders miscount UNT: the message's PNRs are still read, and a note (a dead
    letter with the message, card numbers masked) flags the envelope."""
    value = _miscount_second(push(three_pnrs(), per_message=2))
    result = parse(value)
    [(_, reason, detail)] = result.refused
    assert reason == "pnrgov_bad_trailer" and detail.startswith("message 2: ")
    assert set(by_name(result)) == {"QUIMBLEY/ZORAYDA ANN", "FENWORTHY/OSWIN", "FENWORTHY/PERPETUA",
                                    "TRELAWNEY/OSWIN"}
    assert_private(result)
