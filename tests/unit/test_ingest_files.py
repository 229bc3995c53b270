"""Raw feed files cut into messages: format detection, interchanges, AIS groups, JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from engine.ingest.files import (
    FRAGMENT_WINDOW,
    UnknownFormat,
    file_format,
    read_file,
    sniff,
    split_ais,
    split_interchanges,
)
from engine.simulate.ais import ais_sentences
from schemas import VesselEvent
from schemas.vessel import Position

FIXTURES = Path(__file__).parent.parent / "fixtures"
AT = datetime(2026, 6, 1, 7, 0, 13, tzinfo=UTC)


def interchange(ref: str, body: str = "UNH+1+PAXLST:D:05B:UN:IATA'UNT+2+1'", una: str = "UNA:+.? '") -> bytes:
    return f"{una}UNB+UNOA:4+X+Y+260601:0600+{ref}'{body}UNZ+1+{ref}'".encode()


def vessel(report_type: str = "position", mmsi: str = "235012345") -> VesselEvent:
    if report_type == "position":
        extra: dict[str, object] = {"position": Position(lat=51.5, lon=1.25), "speed_knots": 12.3}
    else:
        extra = {"imo": "9074729", "name": "SPECIMEN STAR", "destination": "GB FXT"}
    return VesselEvent(event_id="-", source="ais", source_id="-", occurred_at=AT, received_at=AT,
                       observed_at=AT, report_type=report_type, mmsi=mmsi, **extra)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"UNA:+.? '\nUNB+UNOA:4+X+Y+260601:0600+1'\nUNH+1+PAXLST:D:05B:UN:IATA'", "paxlst"),
        (b"UNB+IATA:1+X+Y+260601:0600+1'UNH+1+PNRGOV:11:1:IA'", "pnrgov"),
        (b"\xef\xbb\xbfUNB+IATA:1+X+Y+260601:0600+1'UNH+1+PNRGOV:11:1:IA'", "pnrgov"),
        (b"!AIVDM,1,1,,A,13P80v@P1s05f=PMMw83JjhKP000,0*49\n", "ais"),
        (b"\\s:r1,c:1780000000*71\\!AIVDM,1,1,,A,13P,0*49", "ais"),
        (b"# receiver log, station 7\n#\n!AIVDM,1,1,,A,13P,0*49\n", "ais"),
        (b"$PGHP,1,2026,6,1,7,0,13,0,235,2,,1,09*17\n!AIVDM,1,1,,A,13P,0*49\n", "ais"),
        (b'{"declaration_id": "26GB1", "lodged_at": "2026-06-01T06:00:00Z"}\n', "declaration"),
        (b'{\n  "declaration_id": "26GB1",\n  "goods_items": []\n}', "declaration"),
        (b'{"mode": "vessel", "source": "json"}\n', "events"),
        (b'{"case_id": "case-000001", "kind": "courier_network"}\n', "truth"),
        (b'{"id": "x-1", "schema": "Person", "properties": {"name": ["SAMPLE"]}}\n', "watchlist"),
        (b"UNB+UNOA:4+X+Y+260601:0600+1'UNH+1+CUSCAR:D:95B:UN'", None),
        (b"name,surname\n", None),
        (b"", None),
    ],
)
def test_sniff_tells_each_format_from_its_first_bytes(head: bytes, expected: str | None) -> None:
    """Each traffic format, the simulator's two non-traffic files, and what is none of them."""
    assert sniff(head) == expected


def test_an_unknown_file_is_a_clear_error(tmp_path: Path) -> None:
    """The error names the file and says how to give the format."""
    path = tmp_path / "mystery.csv"
    path.write_bytes(b"a,b,c\n")
    with pytest.raises(UnknownFormat, match="mystery.csv.*--format"):
        file_format(path)


def test_interchanges_are_cut_at_their_unz_with_or_without_newlines() -> None:
    """Back-to-back interchanges, one per line or all on one line, come out whole."""
    a, b = interchange("1"), interchange("2")
    assert list(split_interchanges(a + b)) == [a, b]
    lined = a.replace(b"'", b"'\n")
    assert list(split_interchanges(lined + b"\r\n" + b)) == [lined.strip(), b]


def test_a_released_terminator_does_not_end_a_segment() -> None:
    """``X?'UNZ`` is data: the apostrophe after the release character ends nothing, so the
    "UNZ" after it starts no segment."""
    a = interchange("1", "UNH+1+PAXLST:D:05B:UN:IATA'FTX+AAI+++X?'UNZ+1+1'UNT+3+1'")
    assert list(split_interchanges(a)) == [a]


def test_the_una_separators_are_honoured() -> None:
    """An interchange declaring ``~`` as its terminator is cut at its own UNZ."""
    a = b"UNA:+.? ~UNB+UNOA:4+X+Y+260601:0600+9~UNH+1+PAXLST:D:05B:UN:IATA~UNT+2+1~UNZ+1+9~"
    assert list(split_interchanges(a + interchange("10"))) == [a, interchange("10")]


def test_an_interchange_cut_short_does_not_swallow_the_next() -> None:
    """A truncated interchange ends where the next one starts, so only it is lost."""
    cut = interchange("1")[:60]
    good = interchange("2")
    assert list(split_interchanges(cut + b"\n" + good + b"\n")) == [cut, good]


def test_ais_fragments_of_one_message_stay_together() -> None:
    """A two-sentence type 5 is one message; single sentences are one each; a tag block
    stays with its sentence."""
    one = ais_sentences(vessel())
    two = ais_sentences(vessel("voyage"), seq_id=3)
    assert len(two) == 2 and one[0].startswith("\\")
    data = "\n".join([*one, *two, *one]).encode()
    assert list(split_ais(data)) == [one[0].encode(), "\n".join(two).encode(), one[0].encode()]


def test_an_ais_group_broken_off_is_yielded_as_it_is() -> None:
    """A first fragment whose second never comes is its own message, for the parser to refuse."""
    first, _ = ais_sentences(vessel("voyage"), seq_id=1)
    single = ais_sentences(vessel())[0]
    assert list(split_ais(f"{first}\n{single}".encode())) == [first.encode(), single.encode()]


def test_comment_lines_in_an_ais_file_are_skipped() -> None:
    """Decoders' sample files and receiver logs annotate with ``#`` lines: not sentences."""
    one = ais_sentences(vessel())[0]
    data = f"# sample data\n{one}\n#   MMSI: 235012345\n{one}\n".encode()
    assert list(split_ais(data)) == [one.encode(), one.encode()]


def test_fragments_interleaved_across_channels_come_out_whole() -> None:
    """Two type 5 messages, on channels B and A, their fragments interleaved as a dual-channel
    receiver writes them: each message is one, in the order the messages began."""
    b1, b2 = (s.replace(",A,", ",B,", 1) for s in ais_sentences(vessel("voyage"), seq_id=6))
    a1, a2 = ais_sentences(vessel("voyage", mmsi="244123456"), seq_id=2)
    data = "\n".join([b1, a1, a2, b2]).encode()
    assert list(split_ais(data)) == ["\n".join([b1, b2]).encode(), "\n".join([a1, a2]).encode()]


def test_a_fragment_whose_next_never_comes_is_cut_off_after_a_window() -> None:
    """A first fragment left waiting does not hold back the file: after ``FRAGMENT_WINDOW``
    lines it is yielded alone, and what came after it follows in order."""
    first, _ = ais_sentences(vessel("voyage"), seq_id=1)
    single = ais_sentences(vessel())[0]
    data = "\n".join([first, *[single] * (FRAGMENT_WINDOW + 2)]).encode()
    assert list(split_ais(data)) == [first.encode()] + [single.encode()] * (FRAGMENT_WINDOW + 2)


def test_the_lines_of_one_tag_block_group_stay_together() -> None:
    """``g:1-2-77`` on a VDM, ``g:2-2-77`` on the VSI signal report after it: one message."""
    vdm = "\\s:base1,g:1-2-77*00\\" + ais_sentences(vessel())[0].rsplit("\\", 1)[-1]
    vsi = "\\s:base1,g:2-2-77*00\\$ARVSI,base1,,070013.00,0427,-098,03*00"
    assert list(split_ais(f"{vdm}\n{vsi}\n".encode())) == [f"{vdm}\n{vsi}".encode()]


def test_ais_messages_are_keyed_by_mmsi(tmp_path: Path) -> None:
    """The key is the MMSI decoded from the payload, so a vessel's reports share a partition."""
    path = tmp_path / "log.nmea"
    path.write_text("\n".join([*ais_sentences(vessel(mmsi="538001234")),
                               *ais_sentences(vessel("voyage", mmsi="244123456"))]) + "\n")
    assert [(m.topic_base, m.key) for m in read_file(path)] == [
        ("raw.vessel", b"538001234"), ("raw.vessel", b"244123456")
    ]


def test_a_declaration_file_is_one_document_or_json_lines(tmp_path: Path) -> None:
    """A pretty-printed document is one message; JSON lines are one message per line."""
    example = Path(__file__).parent.parent.parent / "schemas" / "json" / "examples" / "declaration-sea.json"
    [whole] = read_file(example)
    assert whole.topic_base == "raw.freight" and whole.value == example.read_bytes().strip()
    lines = tmp_path / "d.jsonl"
    lines.write_bytes(b'{"declaration_id": "A"}\n\n{"declaration_id": "B"}\n')
    assert [(m.key, m.value) for m in read_file(lines)] == [
        (b"A", b'{"declaration_id": "A"}'), (b"B", b'{"declaration_id": "B"}')
    ]


def test_edifact_fixtures_go_to_raw_passenger_keyed_by_interchange_reference() -> None:
    """Every fixture file of both EDIFACT formats is read as that format, on raw.passenger."""
    paths = sorted((FIXTURES / "paxlst").glob("*.edi")) + sorted((FIXTURES / "pnrgov").glob("*.edi"))
    assert paths
    for path in paths:
        messages = list(read_file(path))
        assert file_format(path) == path.parent.name
        assert messages and all(m.topic_base == "raw.passenger" and m.key for m in messages)


def test_a_watchlist_file_goes_to_the_watchlists_topic_one_entity_a_message(tmp_path: Path) -> None:
    """Keyed by entity id; an entity naming no dataset is put on the list named after the file."""
    path = tmp_path / "wanted.jsonl"
    path.write_bytes(b'{"id": "p1", "schema": "Person", "properties": {"name": ["A B"]}}\n'
                     b'{"id": "p2", "schema": "Person", "properties": {}, "datasets": ["sanctions"]}\n')
    first, second = read_file(path)
    assert (first.topic_base, first.key, second.key) == ("watchlists", b"p1", b"p2")
    assert orjson.loads(first.value)["datasets"] == ["wanted"]
    assert orjson.loads(second.value)["datasets"] == ["sanctions"]


def test_a_non_traffic_file_is_not_read_as_traffic(tmp_path: Path) -> None:
    """Asking to read a truth file as traffic is an error, not a stream of dead letters."""
    path = tmp_path / "truth.jsonl"
    path.write_bytes(b'{"case_id": "c1", "kind": "k", "expect": []}\n')
    with pytest.raises(UnknownFormat, match="not a traffic format"):
        list(read_file(path))
