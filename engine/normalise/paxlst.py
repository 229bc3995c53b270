"""UN/EDIFACT PAXLST (advance passenger information, API) in: ``PassengerEvent``s out.

Airlines send API data as PAXLST messages (directories D02B/D05B, as the WCO/IATA/ICAO
API guidelines lay them out). One Kafka message holds one interchange::

    UNA:+.? '                         service string advice (optional)
    UNB+UNOA:4+SENDER+RECIPIENT+260601:0930+REF'
    UNG+PAXLST+...'                   functional group (optional), closed by UNE
    UNH+1+PAXLST:D:05B:UN:IATA+BA0123/260601/1000+01:C'
    BGM+745'  ... CNT+42:120'
    UNT+250+1'
    ...                               more messages: parts of a long manifest, a crew list
    UNZ+1+REF'

pydifact does the syntax: the tokeniser honours the UNA's separators and the release
character (``O?'NEIL`` is ``O'NEIL``). Only its tokeniser is used: its segment
classes validate service segments against directories and warn
(``MissingImplementationWarning``) or fail on functional groups, so segments,
envelopes and groups are put together here.

The bytes are decoded as the UNB syntax identifier says: UNOA, UNOB (and IATA's IATA,
IATB) as ASCII, UNOC as Latin-1, UNOD-UNOK as the other ISO 8859 parts, UNOW and UNOY
as UTF-8. Bytes that are valid UTF-8 are read as UTF-8 whatever the label says:
senders often label UTF-8 as UNOA or UNOC, and Latin-1 text that happens to be valid
UTF-8 is vanishingly rare.

How segments map to the event (element numbers count from 1 after the tag):

==========================  ===========================================================
segment                     field
==========================  ===========================================================
UNB element 4               ``occurred_at``: preparation date and time, read as UTC
                            (PAXLST as airlines send it has no better message time)
BGM element 1               the list: 745 (passenger list) and 266 (a passenger-list
                            variant) make a passenger list, 250 (crew list declaration)
                            and 336 (a crew-list variant) a crew list; any other code
                            (655 gate passes list people who do not fly) is refused
NAD+MS element 4            ``reporting_party`` (the sender's name; its COM is not kept)
TDT+20 element 2            ``flight.carrier`` and ``flight.number`` from the designator
                            (``BA0123``; element 5, the carrier, splits it when given);
                            the number loses its leading zeros (``0123`` -> ``123``).
                            The flight is the first TDT group with a LOC+125 and a
                            LOC+87: the leg that crosses the border. Other TDT groups
                            (CBP sends the traveller's legs before and after it, each
                            with a LOC+92 pair) only add to the route. A progressive
                            flight sent as LOC+92 legs only (the guidelines' example
                            5.3) is read from its first leg, the one into the country:
                            its first LOC+92 the departure, its last the arrival.
LOC+125 / DTM+189           departure airport / scheduled departure
LOC+87 / DTM+232            arrival airport / scheduled arrival; both times are local
                            at their airport (as the guidelines ask) and become UTC
                            with the airport's time zone (airportsdata; UTC if unknown)
LOC+92                      ``route``: the LOC+92 airports of every TDT group in order, a
                            group without LOC+92 standing for its LOC+125 and LOC+87,
                            repeats in a row dropped (no LOC+92 at all: an empty route)
NAD+FL / NAD+FM             a traveller: FL a passenger, FM a crew member; DDT and DDU
                            (in transit) take the role of the list. Element 4 holds the
                            names: surname, then given names (components 2-5, joined)
ATT+2 element 3             ``sex``: F, M, X or U
DTM+329                     ``date_of_birth``
NAT+2                       ``nationality`` (ISO 3166-1 alpha-3 or a Doc 9303 code)
LOC+174                     ``country_of_residence``
DOC element 1, 2            ``document.type`` (P... passport, I... identity card,
                            V... visa, anything else ``other``) and ``document.number``
DTM+36 / LOC+91 after DOC   ``document.expiry`` / ``document.issuing_state``
CNT+42 / CNT+41             the number of passengers / crew, checked
==========================  ===========================================================

A traveller with several documents (a passport and a visa) keeps the first that is not
a visa; the others are neither kept nor checked. LOC+91 is conditional in the
guidelines, but the contract's document needs its issuing state: a document sent
without one is left out (another of the traveller's documents is kept instead, if any)
and the traveller becomes an event all the same. LOC+178/179 (embarkation,
debarkation), RFF (booking references), COM, FTX, GEI, EMP, MEA and the rest have no
field in the contract and are skipped. Of a repeated segment (two NAT+2) the first
counts. A segment without a value (``LOC+174+'``, ``DTM+36:'``, an empty ``DOC++'``),
which some systems send for data they do not have, counts as absent.

Dates: formats 101 (YYMMDD), 102 (CCYYMMDD), 201 (YYMMDDHHMM), 203 (CCYYMMDDHHMM)
and 204 (with seconds); without a format code the length decides. A two-digit year
takes the latest century that puts a date of birth on or before the departure day,
and the century nearest to the departure day for an expiry date, nearest to the
preparation day for flight times, and nearest to the receipt day for UNB's date.

Each traveller gives one event; ``source_id`` comes from
``engine.normalise.travellers.api_source_id``, so a manifest sent twice gives the same
ids. Every event and refusal carries the whole message's bytes.

What is refused, and what it costs (reasons start ``paxlst_``):

- the whole interchange, one refusal and no events: ``paxlst_undecodable`` (bytes
  not valid in the UNB character set), ``paxlst_unknown_syntax`` (a syntax identifier
  not listed above), ``paxlst_no_interchange`` (no UNB at the start),
  ``paxlst_syntax`` (bad UNA, an unterminated segment, a tag that is not three
  capital letters), ``paxlst_truncated`` (no UNZ), ``paxlst_bad_date`` (UNB date),
  ``paxlst_envelope`` (no message at all), ``paxlst_invalid_timestamp`` (the
  broker's timestamp);
- one message, one refusal: ``paxlst_envelope`` (UNH without UNT),
  ``paxlst_not_paxlst`` (another message type), ``paxlst_unknown_list``
  (BGM), ``paxlst_no_flight`` (no TDT), ``paxlst_bad_flight`` (designator, airports,
  missing times), ``paxlst_bad_date`` (flight times), ``paxlst_no_travellers``;
- one traveller, one refusal, the others still become events: ``paxlst_no_name``,
  ``paxlst_bad_date``, ``paxlst_bad_country``, ``paxlst_bad_document`` (a DOC with a
  type but no number), ``paxlst_invalid_traveller`` (not a traveller type, sex code,
  schema validation);
- notes that cost nothing, events still come through, a refusal flags the message
  for a look: ``paxlst_count_mismatch`` (CNT differs from the travellers listed: the
  count may be the whole flight's when parts of a manifest travel in other
  interchanges, so a part may count more than it lists, never fewer),
  ``paxlst_segment_count`` (UNT's count differs from the segments sent: many
  senders miscount, and the travellers read are still worth screening),
  ``paxlst_control_count`` (UNE/UNZ counts), ``paxlst_envelope`` (segments outside
  any message; message, group or interchange references that differ),
  ``paxlst_trailing_data`` (segments after UNZ: one Kafka message, one interchange).

Details say where (message, segment number counted from UNB = 1, tag, element) and
why, never what: names, numbers and dates are personal data, and even references are
left out. ``parse_paxlst`` never raises.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Literal

from pydantic import ValidationError
from pydifact.control.characters import Characters
from pydifact.exceptions import EDISyntaxError
from pydifact.token import Token
from pydifact.tokenizer import Tokenizer

from engine.errors import InvalidMessage
from engine.messages import FeedResult, RawMessage, describe_validation_error
from engine.normalise.travellers import airport_zone, api_source_id, document_type
from schemas import PassengerEvent, stable_id
from schemas.codes import country3_valid
from schemas.passenger import Flight, TravelDocument, Traveller

Role = Literal["passenger", "crew"]

#: UNB syntax identifier -> Python codec.
ENCODINGS: dict[str, str] = {
    "UNOA": "ascii", "UNOB": "ascii", "IATA": "ascii", "IATB": "ascii",
    "UNOC": "latin-1", "UNOD": "iso8859-2", "UNOE": "iso8859-5", "UNOF": "iso8859-7",
    "UNOG": "iso8859-3", "UNOH": "iso8859-4", "UNOI": "iso8859-6", "UNOJ": "iso8859-8",
    "UNOK": "iso8859-9", "UNOW": "utf-8", "UNOY": "utf-8",
}
#: BGM document name code -> the list it makes.
LIST_TYPES: dict[str, Role] = {"745": "passenger", "266": "passenger", "250": "crew", "336": "crew"}
#: NAD party qualifier of a traveller -> role; None takes the list's role.
TRAVELLER_TYPES: dict[str, Role | None] = {"FL": "passenger", "FM": "crew", "DDT": None, "DDU": None}
#: CNT qualifiers that count travellers: 42 passengers, 41 crew.
COUNT_QUALIFIERS = frozenset({"41", "42"})
Sex = Literal["F", "M", "X", "U"]
SEXES: dict[str, Sex] = {"F": "F", "M": "M", "X": "X", "U": "U"}
DEFAULT_SERVICE = ":+.? '"

_ENVELOPE_TAGS = frozenset({"UNB", "UNG", "UNH", "UNE", "UNZ"})
_TAG = re.compile(r"[A-Z]{3}")
_AIRPORT = re.compile(r"[A-Z]{3}")
_DIGITS = re.compile(r"[0-9]+")
_DESIGNATOR = re.compile(r"([A-Z0-9]{2}[A-Z]?)([0-9]{1,4}[A-Z]?)")
_FLIGHT_NUMBER = re.compile(r"([0-9]{1,4})([A-Z]?)")
#: DTM format code -> number of digits.
_DATE_FORMATS = {"101": 6, "102": 8, "201": 10, "203": 12, "204": 14}
_FORMAT_BY_LENGTH = {length: code for code, length in _DATE_FORMATS.items()}
_WHITESPACE = b" \t\r\n"



@dataclass(frozen=True, slots=True)
class _Segment:
    """A segment: tag, elements as tuples of components, position (UNB = 1)."""

    tag: str
    elements: tuple[tuple[str, ...], ...]
    number: int

    def value(self, element: int, component: int = 1) -> str:
        """One component, both counted from 1 as the directories count; '' when absent."""
        if element > len(self.elements):
            return ""
        parts = self.elements[element - 1]
        return parts[component - 1] if component <= len(parts) else ""

    def components(self, element: int) -> tuple[str, ...]:
        return self.elements[element - 1] if element <= len(self.elements) else ()

    @property
    def where(self) -> str:
        return f"segment {self.number} ({self.tag})"


@dataclass
class _Message:
    ordinal: int
    header: _Segment
    body: list[_Segment] = field(default_factory=list)
    trailer: _Segment | None = None

    @property
    def label(self) -> str:
        return f"message {self.ordinal} (UNH at segment {self.header.number})"


@dataclass
class _Interchange:
    header: _Segment
    messages: list[_Message]
    #: Envelope findings that cost no message: (reason, detail).
    notes: list[tuple[str, str]]


@dataclass
class _Layout:
    """A message cut into its parts: header segments, traveller groups, control totals."""

    message: _Message
    list_code: str
    header: list[_Segment]
    groups: list[list[_Segment]]
    counts: list[_Segment]
    notes: list[tuple[str, str]] = field(default_factory=list)

    @property
    def manifest_key(self) -> tuple[str, str] | None:
        """Common access reference (the flight) and list: the parts of one manifest share it."""
        reference = self.message.header.value(3)
        return (reference, self.list_code) if reference else None

    @property
    def is_part(self) -> bool:
        """True for a part of a multi-part manifest (UNH element 4 other than 1-and-final)."""
        sequence, mark = self.message.header.value(4, 1), self.message.header.value(4, 2)
        if not sequence:
            return False
        return not (_DIGITS.fullmatch(sequence) and int(sequence) == 1 and mark == "F")


@dataclass(frozen=True)
class _Header:
    flight: Flight
    route: tuple[str, ...]
    reporting_party: str | None
    role: Role
    departure_day: date


@dataclass(frozen=True)
class _Context:
    prepared: datetime
    received: datetime


def parse_paxlst(raw: RawMessage) -> FeedResult:
    """Every traveller of one PAXLST interchange, as a PassengerEvent or a refusal. Never raises."""
    try:
        return _parse(raw)
    except InvalidMessage as exc:
        return FeedResult(refused=[(raw.value, exc.reason, exc.detail)])
    except Exception as exc:  # a reader bug must cost this message, not the worker
        return FeedResult(refused=[(raw.value, "paxlst_internal_error", type(exc).__name__)])


def _parse(raw: RawMessage) -> FeedResult:
    try:
        received = raw.received_at()
    except InvalidMessage as exc:
        raise InvalidMessage("paxlst_invalid_timestamp", exc.detail) from None
    text, characters = _decode(raw.value)
    segments = _tokenise(text, characters)
    interchange = _envelope(segments)
    prepared = _preparation_time(interchange.header, received)
    context = _Context(prepared=prepared, received=received)

    result = FeedResult()

    def refuse(reason: str, detail: str) -> None:
        result.refused.append((raw.value, reason, detail))

    for reason, detail in interchange.notes:
        refuse(reason, detail)
    layouts: list[_Layout] = []
    for message in interchange.messages:
        try:
            layouts.append(_layout(message))
        except InvalidMessage as exc:
            refuse(exc.reason, exc.detail)
    totals: dict[tuple[str, str], int] = {}
    for layout in layouts:
        if layout.manifest_key is not None:
            totals[layout.manifest_key] = totals.get(layout.manifest_key, 0) + len(layout.groups)

    for layout in layouts:
        label = layout.message.label
        try:
            header = _header(layout, context)
        except InvalidMessage as exc:
            refuse(exc.reason, f"{label}: {exc.detail}")
            continue
        if not layout.groups:
            refuse("paxlst_no_travellers", f"{label} lists no traveller (no NAD after the flight)")
            continue
        for group in layout.groups:
            try:
                result.events.append((_event(group, header, context), raw.value))
            except InvalidMessage as exc:
                refuse(exc.reason, f"{label}, traveller at segment {group[0].number}: {exc.detail}")
        problem = _count_problem(layout, totals)
        if problem is not None:
            refuse("paxlst_count_mismatch", f"{label}: {problem}")
        for reason, detail in layout.notes:
            refuse(reason, detail)
    return result


# -- syntax: bytes to segments --


def _decode(value: bytes) -> tuple[str, Characters]:
    """The interchange as text (from UNB on) and its service characters."""
    data = value.removeprefix(b"\xef\xbb\xbf").lstrip(_WHITESPACE)
    service = DEFAULT_SERVICE
    if data.startswith(b"UNA"):
        if len(data) < 9:
            raise InvalidMessage(
                "paxlst_syntax", "the UNA segment is cut short (it needs six service characters)"
            )
        service = data[3:9].decode("latin-1")
        data = data[9:].lstrip(_WHITESPACE)
        _check_service(service)
    component, element, terminator = service[0], service[1], service[5]
    if not data.startswith(b"UNB" + element.encode("ascii")):
        raise InvalidMessage(
            "paxlst_no_interchange", "no UNB (interchange header) at the start, after the optional UNA"
        )
    identifier = ""
    for char in data[4:24].decode("latin-1"):
        if char in (component, element, terminator):
            break
        identifier += char
    encoding = ENCODINGS.get(identifier)
    if encoding is None:
        raise InvalidMessage(
            "paxlst_unknown_syntax",
            "UNB element 1: the syntax identifier is not one of UNOA-UNOK, UNOW, UNOY, IATA, IATB",
        )
    offset = len(value) - len(data)
    return _text(data, encoding, offset), Characters.from_str("UNA" + service)


def _check_service(service: str) -> None:
    separators = (service[0], service[1], service[3], service[5])
    if len(set(separators)) != 4 or any(
        not c.isascii() or c.isalnum() or c.isspace() for c in separators
    ):
        raise InvalidMessage(
            "paxlst_syntax",
            "UNA: the component, element, release and segment characters must be four "
            "different ASCII punctuation characters",
        )


def _text(data: bytes, encoding: str, offset: int) -> str:
    if data.isascii():
        return data.decode("ascii")
    # Valid UTF-8 with non-ASCII bytes is UTF-8, whatever the label: see the docstring.
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if encoding in ("ascii", "utf-8"):
            raise InvalidMessage(
                "paxlst_undecodable",
                f"byte {offset + exc.start} is not valid in the character set UNB element 1 names",
            ) from None
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InvalidMessage(
            "paxlst_undecodable",
            f"byte {offset + exc.start} is not valid in the character set UNB element 1 names",
        ) from None


def _tokenise(text: str, characters: Characters) -> list[_Segment]:
    segments: list[_Segment] = []
    elements: list[list[str]] = [[""]]

    def close() -> None:
        number = len(segments) + 1
        tag = elements[0][0]
        if not _TAG.fullmatch(tag):
            raise InvalidMessage("paxlst_syntax", f"segment {number}: the tag is not three capital letters")
        segments.append(_Segment(tag, tuple(tuple(e) for e in elements[1:]), number))

    try:
        for token in Tokenizer().get_tokens(text, characters):
            if token.type is Token.Type.CONTENT:
                elements[-1][-1] += token.value
            elif token.type is Token.Type.COMPONENT_SEPARATOR:
                elements[-1].append("")
            elif token.type is Token.Type.DATA_SEPARATOR:
                elements.append([""])
            else:
                close()
                elements = [[""]]
    except EDISyntaxError as exc:
        why = (
            "a release character stands before a line break"
            if "ewline" in str(exc)
            else "the input ends inside the segment"
        )
        raise InvalidMessage("paxlst_syntax", f"segment {len(segments) + 1}: {why}") from None
    if elements != [[""]]:
        raise InvalidMessage(
            "paxlst_syntax", f"segment {len(segments) + 1}: the input ends inside the segment"
        )
    return segments


# -- envelope: UNB, UNG/UNE groups, UNH/UNT messages, UNZ --


def _envelope(segments: list[_Segment]) -> _Interchange:
    if not segments or segments[0].tag != "UNB":
        raise InvalidMessage("paxlst_no_interchange", "no UNB (interchange header) at the start")
    header = segments[0]
    messages: list[_Message] = []
    notes: list[tuple[str, str]] = []
    current: _Message | None = None
    group: _Segment | None = None
    in_group = groups = 0
    stray: list[_Segment] = []
    trailer: _Segment | None = None
    trailing = 0

    def flush_stray() -> None:
        if stray:
            notes.append((
                "paxlst_envelope",
                f"segments {stray[0].number}-{stray[-1].number} lie outside any message (no UNH before them)",
            ))
            stray.clear()

    def unclosed_group() -> None:
        if group is not None:
            notes.append(("paxlst_envelope", f"the group opened at {group.where} has no UNE"))

    for seg in segments[1:]:
        if trailer is not None:
            trailing += 1
            continue
        if current is not None:
            if seg.tag == "UNT":
                current.trailer, current = seg, None
                continue
            if seg.tag not in _ENVELOPE_TAGS:
                current.body.append(seg)
                continue
            current = None  # left without its UNT: the message is refused when read
        if seg.tag == "UNH":
            flush_stray()
            current = _Message(len(messages) + 1, seg)
            messages.append(current)
            in_group += 1
        elif seg.tag == "UNG":
            flush_stray()
            unclosed_group()
            group, in_group, groups = seg, 0, groups + 1
        elif seg.tag == "UNE":
            flush_stray()
            if group is None:
                notes.append(("paxlst_envelope", f"{seg.where} closes no group (no UNG before it)"))
                continue
            if not _count_is(seg, in_group):
                notes.append((
                    "paxlst_control_count",
                    f"{seg.where}: element 1 does not match the {in_group} message(s) in the group",
                ))
            if seg.value(2) != group.value(5):
                notes.append(("paxlst_envelope", f"{seg.where}: element 2 does not repeat the UNG reference"))
            group = None
        elif seg.tag == "UNZ":
            flush_stray()
            unclosed_group()
            expected, what = (groups, "group(s)") if groups else (len(messages), "message(s)")
            if not _count_is(seg, expected):
                notes.append((
                    "paxlst_control_count",
                    f"{seg.where}: element 1 does not match the {expected} {what} in the interchange",
                ))
            if seg.value(2) != header.value(5):
                notes.append(("paxlst_envelope", f"{seg.where}: element 2 does not repeat the UNB reference"))
            trailer = seg
        else:
            stray.append(seg)
    flush_stray()
    if trailer is None:
        last = segments[-1].number
        raise InvalidMessage("paxlst_truncated", f"no UNZ: the interchange ends after segment {last}")
    if not messages:
        raise InvalidMessage("paxlst_envelope", "the interchange holds no message (no UNH)")
    if trailing:
        notes.append((
            "paxlst_trailing_data",
            f"{trailing} segment(s) after the UNZ at segment {trailer.number}; one message, one interchange",
        ))
    return _Interchange(header, messages, notes)


def _count_is(seg: _Segment, expected: int) -> bool:
    count = seg.value(1)
    return bool(_DIGITS.fullmatch(count)) and int(count) == expected


def _preparation_time(unb: _Segment, received: datetime) -> datetime:
    day, time = unb.value(4, 1), unb.value(4, 2)
    problem = "UNB element 4: the preparation date and time are not a valid date and time"
    if not (_DIGITS.fullmatch(day) and len(day) in (6, 8) and _DIGITS.fullmatch(time) and len(time) == 4):
        raise InvalidMessage("paxlst_bad_date", problem)
    try:
        if len(day) == 6:
            year = _century(int(day[:2]), int(day[2:4]), int(day[4:6]), received.date(), past_only=False)
        else:
            year = int(day[:4])
        return datetime(year, int(day[-4:-2]), int(day[-2:]), int(time[:2]), int(time[2:]), tzinfo=UTC)
    except ValueError:
        raise InvalidMessage("paxlst_bad_date", problem) from None


# -- one message --


def _layout(message: _Message) -> _Layout:
    """Check a message's envelope and cut it into header, traveller groups and totals."""
    trailer = message.trailer
    if trailer is None:
        raise InvalidMessage(
            "paxlst_envelope", f"{message.label} has no UNT before the next envelope segment"
        )
    notes: list[tuple[str, str]] = []
    if not _count_is(trailer, len(message.body) + 2):
        notes.append((
            "paxlst_segment_count",
            f"{message.label}: UNT element 1 does not match the {len(message.body) + 2} "
            "segments from UNH to UNT (segments lost or added, or a miscount)",
        ))
    if trailer.value(2) != message.header.value(1):
        notes.append(("paxlst_envelope", f"{message.label}: UNT element 2 does not repeat the UNH reference"))
    if message.header.value(2, 1) != "PAXLST":
        raise InvalidMessage(
            "paxlst_not_paxlst", f"{message.label}: UNH element 2 names another message type"
        )
    bgm = next((s for s in message.body if s.tag == "BGM"), None)
    if bgm is None:
        raise InvalidMessage("paxlst_unknown_list", f"{message.label} has no BGM (which list it is)")
    if bgm.value(1, 1) not in LIST_TYPES:
        raise InvalidMessage(
            "paxlst_unknown_list",
            f"{message.label}: {bgm.where} element 1 is not a passenger (745, 266) or crew (250, 336) list",
        )
    header: list[_Segment] = []
    groups: list[list[_Segment]] = []
    counts: list[_Segment] = []
    flight_seen = False
    for seg in message.body:
        if seg.tag == "CNT":
            counts.append(seg)
        elif seg.tag == "NAD" and seg.value(1) != "MS" and (flight_seen or seg.value(1) in TRAVELLER_TYPES):
            groups.append([seg])
        elif groups:
            groups[-1].append(seg)
        else:
            flight_seen = flight_seen or seg.tag == "TDT"
            header.append(seg)
    return _Layout(message, bgm.value(1, 1), header, groups, counts, notes)


def _header(layout: _Layout, context: _Context) -> _Header:
    """The flight, route and reporting party every traveller of the message shares."""
    segments = layout.header
    party = next((s for s in segments if s.tag == "NAD" and s.value(1) == "MS"), None)
    reporting_party = None
    if party is not None:
        name = " ".join(p.strip() for p in party.components(4) if p.strip())
        reporting_party = (name or party.value(2).strip())[:100] or None
    starts = [i for i, s in enumerate(segments) if s.tag == "TDT"]
    if not starts:
        raise InvalidMessage("paxlst_no_flight", "no TDT (flight details) before the travellers")
    legs = [
        (segments[start], segments[start + 1 : end])
        for start, end in zip(starts, [*starts[1:], len(segments)], strict=True)
    ]
    # The leg that crosses the border has LOC+125 and LOC+87; the others (CBP's
    # itinerary legs, before or after it) carry LOC+92 only.
    crossing = next(((t, g) for t, g in legs if _first(g, "LOC", "125") and _first(g, "LOC", "87")), None)
    if crossing is None:
        # A progressive flight sent as LOC+92 legs only (the guide's example 5.3): the
        # first leg, the one into the country, its first and last LOC+92.
        crossing = next(((t, g) for t, g in legs if len(_stops(g)) >= 2), legs[0])
        stops = _stops(crossing[1])
        ends: tuple[_Segment | None, _Segment | None] = (
            (stops[0], stops[-1]) if len(stops) >= 2 else (None, None)
        )
    else:
        ends = _first(crossing[1], "LOC", "125"), _first(crossing[1], "LOC", "87")
    tdt, leg = crossing
    carrier, number = _designator(tdt)

    def first(tag: str, qualifier: str) -> _Segment | None:
        return _first(leg, tag, qualifier)

    departure_loc, arrival_loc = ends
    if departure_loc is None or arrival_loc is None:
        raise InvalidMessage(
            "paxlst_bad_flight",
            f"the TDT at segment {tdt.number} has no LOC+125 (departure) or LOC+87 (arrival)",
        )
    departure_airport, arrival_airport = _airport(departure_loc), _airport(arrival_loc)
    route = _route([g for _, g in legs])
    departure_dtm, arrival_dtm = first("DTM", "189"), first("DTM", "232")
    if departure_dtm is None or arrival_dtm is None:
        raise InvalidMessage(
            "paxlst_bad_flight",
            f"the TDT at segment {tdt.number} has no DTM+189 (departure) or DTM+232 (arrival)",
        )
    near = context.prepared.date()
    departure = _datetime(departure_dtm, near, past_only=False)
    arrival = _datetime(arrival_dtm, near, past_only=False)
    try:
        flight = Flight(
            carrier=carrier,
            number=number,
            departure_airport=departure_airport,
            arrival_airport=arrival_airport,
            scheduled_departure=departure.replace(tzinfo=airport_zone(departure_airport)).astimezone(UTC),
            scheduled_arrival=arrival.replace(tzinfo=airport_zone(arrival_airport)).astimezone(UTC),
        )
    except ValidationError as exc:
        raise InvalidMessage("paxlst_bad_flight", describe_validation_error(exc)) from None
    return _Header(flight, route, reporting_party, LIST_TYPES[layout.list_code], departure.date())


def _first(leg: Sequence[_Segment], tag: str, qualifier: str) -> _Segment | None:
    """The first segment of a leg with this tag and qualifier that holds a value."""
    return next((s for s in leg if s.tag == tag and s.value(1, 1) == qualifier and _filled(s)), None)


def _stops(leg: Sequence[_Segment]) -> list[_Segment]:
    """A leg's LOC+92 segments that hold an airport."""
    return [s for s in leg if s.tag == "LOC" and s.value(1, 1) == "92" and _filled(s)]


def _route(legs: Sequence[Sequence[_Segment]]) -> tuple[str, ...]:
    """Airports in travel order: the LOC+92 of every leg (a leg without any stands for its
    LOC+125 and LOC+87), repeats in a row dropped; empty when no leg has a LOC+92."""
    if not any(s.tag == "LOC" and s.value(1, 1) == "92" for leg in legs for s in leg):
        return ()
    route: list[str] = []
    for leg in legs:
        stops = _stops(leg)
        if not stops:
            stops = [s for s in (_first(leg, "LOC", "125"), _first(leg, "LOC", "87")) if s is not None]
        for airport in (_airport(s) for s in stops):
            if not route or route[-1] != airport:
                route.append(airport)
    return tuple(route)


def _filled(seg: _Segment) -> bool:
    """True when the segment holds a value after its qualifier: ``LOC+174+'`` and
    ``DTM+36:'``, which some systems send for data they do not have, hold none."""
    if seg.tag == "DTM":
        return bool(seg.value(1, 2).strip())
    return any(p.strip() for e in seg.elements[1:] for p in e)


def _designator(tdt: _Segment) -> tuple[str, str]:
    """Carrier and number from TDT element 2 (``BA0123``); element 5 splits it when given."""
    problem = f"{tdt.where} element 2 is not a flight designator (carrier and number)"
    designator = tdt.value(2).replace(" ", "").upper()
    carrier = tdt.value(5, 1).strip().upper()
    if 2 <= len(carrier) <= 3 and designator.startswith(carrier):
        number = designator[len(carrier) :]
    else:
        match = _DESIGNATOR.fullmatch(designator)
        if match is None:
            raise InvalidMessage("paxlst_bad_flight", problem)
        carrier, number = match.groups()
    parts = _FLIGHT_NUMBER.fullmatch(number)
    if parts is None or carrier.isdigit():
        raise InvalidMessage("paxlst_bad_flight", problem)
    return carrier, str(int(parts.group(1))) + parts.group(2)


def _airport(loc: _Segment) -> str:
    code = loc.value(2, 1).strip().upper()
    if not _AIRPORT.fullmatch(code):
        raise InvalidMessage(
            "paxlst_bad_flight", f"{loc.where} element 2 is not a three-letter IATA airport code"
        )
    return code


def _count_problem(layout: _Layout, totals: dict[tuple[str, str], int]) -> str | None:
    listed = len(layout.groups)
    for seg in layout.counts:
        if seg.value(1, 1) not in COUNT_QUALIFIERS:
            continue
        count = seg.value(1, 2)
        if not _DIGITS.fullmatch(count):
            return f"{seg.where} element 1 holds no number"
        declared = int(count)
        key = layout.manifest_key
        if declared == listed or (key is not None and declared == totals.get(key)):
            continue
        if layout.is_part and declared > listed:
            continue  # the whole flight's count, its other parts in other interchanges
        return f"{seg.where}: the control total does not match the {listed} traveller(s) the message lists"
    return None


# -- one traveller --


def _event(group: list[_Segment], header: _Header, context: _Context) -> PassengerEvent:
    nad = group[0]
    qualifier = nad.value(1)
    if qualifier not in TRAVELLER_TYPES:
        raise InvalidMessage(
            "paxlst_invalid_traveller", f"{nad.where} element 1 is not a traveller (FL, FM, DDT, DDU)"
        )
    role = TRAVELLER_TYPES[qualifier] or header.role
    names = nad.components(4)
    surname = names[0].strip() if names else ""
    if not surname:
        raise InvalidMessage("paxlst_no_name", f"{nad.where} element 4 has no surname")
    given_names = " ".join(p.strip() for p in names[1:5] if p.strip())

    sex: Sex | None = None
    birth: date | None = None
    nationality: str | None = None
    residence: str | None = None
    seen: set[tuple[str, str]] = set()
    documents: list[list[_Segment]] = []
    for seg in group[1:]:
        kind = (seg.tag, seg.value(1, 1))
        if seg.tag == "DOC":
            documents.append([seg])
            continue
        if not _filled(seg):
            continue  # LOC+174+' and the like: no data, as if absent
        if documents and kind in (("DTM", "36"), ("LOC", "91")):
            documents[-1].append(seg)
            continue
        if kind in seen:
            continue
        seen.add(kind)
        if kind == ("ATT", "2"):
            code = seg.value(3, 1).strip().upper()
            if code and code not in SEXES:
                raise InvalidMessage(
                    "paxlst_invalid_traveller", f"{seg.where} element 3 is not a sex code (F, M, X, U)"
                )
            sex = SEXES.get(code)
        elif kind == ("DTM", "329"):
            birth = _datetime(seg, header.departure_day, past_only=True).date()
            if birth > header.departure_day:
                raise InvalidMessage(
                    "paxlst_bad_date", f"{seg.where}: the date of birth is after the departure"
                )
        elif kind == ("NAT", "2"):
            nationality = _country(seg, 2)
        elif kind == ("LOC", "174"):
            residence = _country(seg, 2)

    document = _document(documents, header.departure_day)
    try:
        traveller = Traveller(
            role=role,
            given_names=given_names,
            surname=surname,
            date_of_birth=birth,
            sex=sex,
            nationality=nationality,
            country_of_residence=residence,
        )
        source_id = api_source_id(header.flight, traveller, document)
        return PassengerEvent(
            event_id=stable_id("passenger", "api", source_id),
            source="api",
            source_id=source_id,
            occurred_at=context.prepared,
            received_at=context.received,
            flight=header.flight,
            route=header.route,
            traveller=traveller,
            document=document,
            reporting_party=header.reporting_party,
        )
    except ValidationError as exc:
        raise InvalidMessage("paxlst_invalid_traveller", describe_validation_error(exc)) from None


def _document(documents: Sequence[list[_Segment]], departure_day: date) -> TravelDocument | None:
    """The first document that is not a visa (else the first), with its expiry and issuer.

    An empty ``DOC++'`` is no document. A document without LOC+91 cannot be kept (the
    contract's document needs its issuing state): another one is taken if there is one,
    else the traveller has none."""
    documents = [d for d in documents if any(p.strip() for e in d[0].elements for p in e)]
    if not documents:
        return None
    preferred = next((d for d in documents if document_type(d[0].value(1, 1)) != "visa"), documents[0])
    if not preferred[0].value(2, 1).strip():
        raise InvalidMessage("paxlst_bad_document", f"{preferred[0].where} element 2 has no document number")
    usable = [d for d in documents if d[0].value(2, 1).strip() and any(s.tag == "LOC" for s in d[1:])]
    if not usable:
        return None
    chosen = preferred if preferred in usable else next(
        (d for d in usable if document_type(d[0].value(1, 1)) != "visa"), usable[0]
    )
    doc = chosen[0]
    number = doc.value(2, 1).strip()
    expiry: date | None = None
    issuing_state: str | None = None
    for seg in chosen[1:]:
        if seg.tag == "DTM" and expiry is None:
            expiry = _datetime(seg, departure_day, past_only=False).date()
        elif seg.tag == "LOC" and issuing_state is None:
            issuing_state = _country(seg, 2)
    if issuing_state is None:  # cannot be: only filled LOC+91 follow a usable document
        return None
    try:
        return TravelDocument(
            type=document_type(doc.value(1, 1)), number=number, issuing_state=issuing_state, expiry=expiry
        )
    except ValidationError as exc:
        raise InvalidMessage(
            "paxlst_bad_document", f"{doc.where}: {describe_validation_error(exc)}"
        ) from None


def _country(seg: _Segment, element: int) -> str:
    code = seg.value(element, 1).strip()
    if not country3_valid(code):
        raise InvalidMessage(
            "paxlst_bad_country", f"{seg.where} element {element} is not an ISO 3166-1 alpha-3 country code"
        )
    return code


def _datetime(seg: _Segment, near: date, *, past_only: bool) -> datetime:
    """A DTM's date (and time), naive; a two-digit year resolved around ``near``."""
    value, code = seg.value(1, 2).strip(), seg.value(1, 3).strip()
    code = code or _FORMAT_BY_LENGTH.get(len(value), "")
    if code not in _DATE_FORMATS:
        raise InvalidMessage(
            "paxlst_bad_date", f"{seg.where} element 1: no date format this reader knows (101, 102, 201-204)"
        )
    if not _DIGITS.fullmatch(value) or len(value) != _DATE_FORMATS[code]:
        raise InvalidMessage("paxlst_bad_date", f"{seg.where} element 1 is not a date in format {code}")
    short = code in ("101", "201")
    digits = value[2:] if short else value[4:]
    month, day = int(digits[0:2]), int(digits[2:4])
    hour, minute, second = (int(digits[i : i + 2] or 0) for i in (4, 6, 8))
    try:
        year = _century(int(value[:2]), month, day, near, past_only=past_only) if short else int(value[:4])
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        raise InvalidMessage("paxlst_bad_date", f"{seg.where} element 1 is not a calendar date") from None


def _century(yy: int, month: int, day: int, near: date, *, past_only: bool) -> int:
    """The year of a two-digit-year date: the latest on or before ``near`` (dates of birth),
    or the one nearest to ``near``. Raises ValueError when no century makes a date."""
    base = near.year - near.year % 100
    candidates: list[date] = []
    for year in (base - 100 + yy, base + yy, base + 100 + yy):
        try:
            candidates.append(date(year, month, day))
        except ValueError:  # 29 February of a century's non-leap year, or not a date at all
            continue
    if past_only:
        candidates = [d for d in candidates if d <= near]
        if not candidates:
            raise ValueError("no past date")
        return max(candidates).year
    if not candidates:
        raise ValueError("not a date")
    return min(candidates, key=lambda d: abs(d - near)).year
