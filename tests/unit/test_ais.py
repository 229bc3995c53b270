"""AIS NMEA 0183 in: sentences and bursts of them become VesselEvents or precise dead letters.

Every sentence here is made by pyais's encoder from field values written in this
file, so the fixtures are synthetic and their expected decoding is known.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import reduce
from operator import xor
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyais import encode_dict

from engine.messages import RawMessage
from engine.normalise import normalise_batch
from engine.normalise.ais import flag_of, looks_like_nmea, parse_ais
from engine.pipeline import Pipeline
from schemas.codes import imo_valid as valid_imo

RECEIVED = datetime(2026, 6, 1, 12, 30, 45, tzinfo=UTC)
RECEIVED_MS = int(RECEIVED.timestamp() * 1000)
POSITION = {"type": 1, "mmsi": 235012345, "lat": 51.5, "lon": 1.25, "speed": 12.3, "course": 87.5,
            "heading": 88, "status": 0, "second": 17}
VOYAGE = {"type": 5, "mmsi": 538001234, "imo": 9074729, "callsign": "V7AB1", "shipname": "NORTHERN STAR",
          "ship_type": 70, "destination": "ROTTERDAM", "draught": 11.2, "month": 6, "day": 3, "hour": 14,
          "minute": 30}


def sentences(fields: dict[str, Any], seq_id: int | None = None) -> list[bytes]:
    return [s.encode() for s in encode_dict(fields, talker_id="AI", sentence_type="VDM", seq_id=seq_id)]


def tagged(sentence: bytes, stamp: int, station: str = "r3669961") -> bytes:
    """The sentence behind an IEC 61162-450 tag block with a receiver timestamp."""
    body = f"s:{station},c:{stamp}"
    checksum = reduce(xor, body.encode(), 0)
    return f"\\{body}*{checksum:02X}\\".encode() + sentence


def message(*lines: bytes, topic: str | None = "raw.vessel") -> RawMessage:
    return RawMessage(value=b"\n".join(lines), topic=topic, partition=0, offset=7, timestamp_ms=RECEIVED_MS)


def test_a_class_a_position_report_becomes_a_position_event() -> None:
    """Type 1: MMSI, flag from its MID, position, speed, course, heading and status; timed by
    the tag block's receiver timestamp."""
    stamp = int(datetime(2026, 6, 1, 12, 29, 0, tzinfo=UTC).timestamp())
    out = parse_ais(message(tagged(sentences(POSITION)[0], stamp)))
    assert out.refused == []
    [(event, group)] = out.events
    assert event.report_type == "position" and event.source == "ais"
    assert event.mmsi == "235012345" and event.flag == "GB"
    assert event.position is not None and (event.position.lat, event.position.lon) == (51.5, 1.25)
    assert (event.speed_knots, event.course, event.heading, event.nav_status) == (12.3, 87.5, 88, 0)
    assert event.observed_at == event.occurred_at == datetime.fromtimestamp(stamp, tz=UTC)
    assert event.received_at == RECEIVED
    assert group.startswith(b"\\s:r3669961")


def test_without_a_tag_block_the_report_s_own_second_times_it() -> None:
    """No c: timestamp: the broker time, moved to the UTC second the report gives (17 s, so
    12:30:17 for a message received at 12:30:45; second 50 belongs to the minute before)."""
    [(event, _)] = parse_ais(message(sentences(POSITION)[0])).events
    assert event.observed_at == datetime(2026, 6, 1, 12, 30, 17, tzinfo=UTC)
    [(later, _)] = parse_ais(message(sentences({**POSITION, "second": 50})[0])).events
    assert later.observed_at == datetime(2026, 6, 1, 12, 29, 50, tzinfo=UTC)


def test_static_and_voyage_data_assemble_from_two_fragments_in_any_order() -> None:
    """Type 5 spans two sentences; assembled by sequential id and channel, whatever their order."""
    first, second = sentences(VOYAGE, seq_id=3)
    for lines in ([first, second], [second, first]):
        out = parse_ais(message(*lines))
        assert out.refused == []
        [(event, group)] = out.events
        assert event.report_type == "voyage" and event.flag == "MH"
        assert (event.imo, event.name, event.call_sign) == ("9074729", "NORTHERN STAR", "V7AB1")
        assert (event.ship_type, event.destination, event.draught_m) == (70, "ROTTERDAM", 11.2)
        assert event.eta == datetime(2026, 6, 3, 14, 30, tzinfo=UTC)  # the next 3 June after 1 June
        assert group.count(b"\n") == 1


def test_a_tag_block_on_the_first_fragment_times_the_whole_message() -> None:
    """Fragments out of order, the tag block on fragment 1: its c: time is the report's."""
    stamp = int(datetime(2026, 6, 1, 9, 0, 0, tzinfo=UTC).timestamp())
    first, second = sentences(VOYAGE, seq_id=5)
    [(event, _)] = parse_ais(message(second, tagged(first, stamp))).events
    assert event.observed_at == datetime(2026, 6, 1, 9, 0, 0, tzinfo=UTC)


def test_an_imo_number_failing_its_check_digit_is_left_out() -> None:
    [(event, _)] = parse_ais(message(*sentences({**VOYAGE, "imo": 9074728}, seq_id=1))).events
    assert event.imo is None and event.name == "NORTHERN STAR"


def test_class_b_reports_are_read_too() -> None:
    """Types 18 and 19 are positions (19 with name and type), 24 is static data."""
    b18 = {"type": 18, "mmsi": 244123456, "lat": 52.1, "lon": 4.2, "speed": 6.5, "course": 10.0,
           "heading": 12, "second": 5}
    b19 = {**b18, "type": 19, "shipname": "WADDEN", "ship_type": 37}
    b24 = {"type": 24, "mmsi": 244123456, "partno": 0, "shipname": "WADDEN"}
    out = parse_ais(message(sentences(b18)[0], *sentences(b19), sentences(b24)[0]))
    assert out.refused == []
    kinds = [(e.report_type, e.flag, e.name, e.ship_type) for e, _ in out.events]
    assert kinds == [("position", "NL", None, None), ("position", "NL", "WADDEN", 37),
                     ("voyage", "NL", "WADDEN", None)]


def test_not_available_values_become_absent_fields() -> None:
    """lat 91, lon 181, speed 102.3, course 360 and heading 511 mean "not available" in AIS."""
    blank = {**POSITION, "lat": 91, "lon": 181, "speed": 102.3, "course": 360, "heading": 511, "status": 15}
    [(event, _)] = parse_ais(message(sentences(blank)[0])).events
    assert (event.position, event.speed_knots, event.course, event.heading, event.nav_status) == (
        None, None, None, None, None
    )


def test_one_bad_sentence_in_a_burst_costs_only_itself() -> None:
    """A sentence with a wrong checksum is refused with its own bytes; the rest of the burst is read."""
    good = sentences(POSITION)[0]
    bad = good[:-2] + (b"00" if not good.endswith(b"00") else b"01")
    out = parse_ais(message(good, bad, sentences({**POSITION, "mmsi": 235000001})[0]))
    assert [e.mmsi for e, _ in out.events] == ["235012345", "235000001"]
    assert [(group, reason) for group, reason, _ in out.refused] == [(bad, "ais_bad_checksum")]


@pytest.mark.parametrize(
    ("lines", "reason"),
    [
        ([sentences(VOYAGE, seq_id=9)[0]], "ais_incomplete_multipart"),
        ([b"!AIVDM,1,1,,A,this is not a payload"], "ais_invalid_sentence"),
        ([b"$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47"], "ais_invalid_sentence"),
        ([sentences({"type": 4, "mmsi": 2320001, "year": 2026, "month": 6, "day": 1})[0]],
         "ais_unsupported_type"),
        ([b"\\c:notatime*00\\" + sentences(POSITION)[0]], "ais_invalid_tag_block"),
    ],
    ids=["incomplete", "garbled", "not-ais", "base-station", "bad-tag-time"],
)
def test_refusals_say_why(lines: list[bytes], reason: str) -> None:
    out = parse_ais(message(*lines))
    assert out.events == []
    assert [r for _, r, _ in out.refused] == [reason]


def tag_block(body: str) -> bytes:
    """An IEC 61162-450 tag block with the given parameters and its checksum."""
    return f"\\{body}*{reduce(xor, body.encode(), 0):02X}\\".encode()


def nmea(body: str, start: str = "!") -> bytes:
    """A sentence with its checksum: ``body`` is what goes between ``!`` (or ``$``) and ``*``."""
    return f"{start}{body}*{reduce(xor, body.encode(), 0):02X}".encode()


def on_channel(sentence: bytes, talker: str, kind: str, channel: str) -> bytes:
    """The sentence as another talker and sentence type would send it on another channel."""
    fields = sentence[1:].split(b"*")[0].decode().split(",")
    fields[0], fields[4] = f"{talker}{kind}", channel
    return nmea(",".join(fields))


def test_long_range_type_27_reports_are_positions() -> None:
    """Type 27, as satellite receivers hear class A ships: position, speed, course and status;
    speed 63 is its "not available"."""
    long_range = {"type": 27, "mmsi": 235012345, "lat": 51.5, "lon": 1.25, "speed": 12, "course": 87,
                  "status": 0}
    out = parse_ais(message(sentences(long_range)[0], sentences({**long_range, "speed": 63})[0]))
    assert out.refused == []
    (event, _), (idle, _) = out.events
    assert event.report_type == "position" and event.position is not None
    assert (event.position.lat, event.position.lon) == (51.5, 1.25)
    assert (event.speed_knots, event.course, event.nav_status) == (12, 87, 0)
    assert idle.speed_knots is None


def test_any_talker_sentence_type_and_channel_is_read() -> None:
    """Base stations (!BSVDM, !ABVDM), own-ship reports (!AIVDO), channels 1 and 2 (NMEA 4)
    and no channel at all read like !AIVDM on A."""
    plain = sentences(POSITION)[0]
    variants = [on_channel(plain, "BS", "VDM", "1"), on_channel(plain, "AB", "VDM", "2"),
                on_channel(plain, "AI", "VDO", "B"), on_channel(plain, "SA", "VDM", "")]
    out = parse_ais(message(*variants))
    assert out.refused == []
    assert [(e.mmsi, e.position) for e, _ in out.events] == [("235012345", out.events[0][0].position)] * 4
    first, second = sentences(VOYAGE, seq_id=6)
    split = parse_ais(message(on_channel(first, "AI", "VDM", "2"), on_channel(second, "AI", "VDM", "2")))
    assert split.refused == [] and split.events[0][0].name == "NORTHERN STAR"


def test_a_vsi_line_goes_with_the_vdm_of_its_tag_block_group() -> None:
    """``g:1-2-17`` on a VDM and ``g:2-2-17`` on the ``$xxVSI`` signal report after it: one
    group, one event holding both lines. A VSI with no VDM in its group is refused."""
    vdm = tag_block("s:base1,g:1-2-17,n:8851") + sentences(POSITION)[0]
    vsi = tag_block("s:base1,g:2-2-17,n:8852") + nmea("ARVSI,base1,,041848.95,0427,-098,03", "$")
    lone = tag_block("s:base1,g:2-2-18,n:8854") + nmea("ARVSI,base1,,041849.01,0431,-097,05", "$")
    out = parse_ais(message(vdm, vsi, lone))
    [(event, group)] = out.events
    assert event.mmsi == "235012345" and group == vdm + b"\n" + vsi
    assert [(g, r) for g, r, _ in out.refused] == [(lone, "ais_unsupported_sentence")]


def test_a_c_time_that_cannot_be_a_receive_time_is_passed_over() -> None:
    """Some sources put a counter in ``c:`` (1970 as a date): the report is timed as if it had
    no tag block, by the broker time and its own second."""
    out = parse_ais(message(tag_block("s:src1,c:0002780328") + sentences(POSITION)[0]))
    [(event, _)] = out.events
    assert event.observed_at == datetime(2026, 6, 1, 12, 30, 17, tzinfo=UTC)


def test_uscg_fields_after_the_checksum_are_cut_off_and_their_time_used() -> None:
    """USCG receivers append signal, station and a Unix receive time after the checksum."""
    stamp = int(datetime(2026, 6, 1, 11, 0, 5, tzinfo=UTC).timestamp())
    line = sentences(POSITION)[0] + f",s28089,d-103,T39.44353985,x147521,r08TPHI1,{stamp}".encode()
    out = parse_ais(message(line))
    assert out.refused == []
    [(event, group)] = out.events
    assert event.observed_at == datetime(2026, 6, 1, 11, 0, 5, tzinfo=UTC) and group == line


def test_normalise_reads_nmea_on_the_vessel_feed_and_json_elsewhere() -> None:
    """raw.vessel carries NMEA or JSON; every dead letter keeps its group's bytes and source offset."""
    good, bad = sentences(POSITION)[0], b"!AIVDM,1,1,,A,15NG6V0P01G?cFhE`R2IU?wn28R>,0*00"
    result = normalise_batch([message(good, bad), message(good, topic="raw.passenger")])
    assert [e.mmsi for e in result.events if e.mode == "vessel"] == ["235012345"]
    assert [s.value for s in result.sources] == [good]
    reasons = sorted((d.reason, d.source_topic) for d in result.deadletters)
    assert reasons == [("ais_bad_checksum", "raw.vessel"), ("invalid_json", "raw.passenger")]
    assert all(d.source_offset == 7 for d in result.deadletters)


def test_replaying_the_same_sentences_gives_the_same_events() -> None:
    """Ids come from the payload and the time, so a replay (or a second receiving station with
    the same timestamp) gives the same event ids; the engine scores AIS like any vessel report."""
    stamp = int(RECEIVED.timestamp())
    lines = [tagged(sentences({**POSITION, "second": 60, "lat": 51.5 + i / 100})[0], stamp + 60 * i)
             for i in range(5)]
    first, again = parse_ais(message(*lines)), parse_ais(message(*lines))
    assert [e for e, _ in first.events] == [e for e, _ in again.events]
    assert len({e.event_id for e, _ in first.events}) == 5
    result = Pipeline().run([message(*lines)])
    assert len(result.scores) == 5 and result.deadletters == []


def test_imo_check_digit_and_flag_lookup() -> None:
    assert valid_imo(9074729) and valid_imo(9176187)
    assert not valid_imo(9074728) and not valid_imo(0) and not valid_imo(12345678)
    assert flag_of("235012345") == "GB" and flag_of("366999999") == "US"
    assert flag_of("002320001") is None  # a coast station, not a ship
    assert looks_like_nmea(b"  !AIVDM,1") and looks_like_nmea(b"\\s:x*00\\!AIVDM")
    assert not looks_like_nmea(b'{"mode": "vessel"}')


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(
    st.binary(max_size=120),
    st.sampled_from([*sentences(POSITION), *sentences(VOYAGE, seq_id=2)]),
    st.builds(lambda s, n: s[:n], st.sampled_from(sentences(VOYAGE, seq_id=4)), st.integers(0, 90)),
), max_size=8))
def test_every_line_gives_an_event_or_a_reason(lines: list[bytes]) -> None:
    """Never raises; every non-blank line ends up in exactly one event's group or one refusal."""
    raw = message(*lines)
    out = parse_ais(raw)
    accounted = [g for _, g in out.events] + [g for g, _, _ in out.refused]
    got = sorted(line for g in accounted for line in g.split(b"\n"))
    assert got == sorted(line for line in raw.value.splitlines() if line.strip())
    assert all(reason for _, reason, _ in out.refused)
