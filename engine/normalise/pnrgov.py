"""PNRGOV in: an airline's EDIFACT push of booking records (PNRs) about one flight becomes
one ``PassengerEvent`` per traveller per PNR, with the booking on it.

One raw message is one interchange: ``UNA`` (optional), ``UNB`` ... ``UNZ`` around one or
more ``UNH`` ... ``UNT`` messages, possibly inside ``UNG`` ... ``UNE`` functional groups.
pydifact does the syntax (``UNA`` service characters, release characters, segments and
composites); the envelope, the segment groups and the meaning are read here, because
pydifact's ``Interchange`` neither knows PADIS layouts nor takes functional groups.

The interchange
    The bytes are decoded by the ``UNB`` syntax identifier (``IATA`` and ``UNOA``-``UNOY``
    are taken: ``UNOC``-``UNOK`` as ISO 8859-1 ... -9, the rest as UTF-8, a superset of
    the ASCII repertoires). Without ``UNA`` the ISO 9735 default service characters
    ``:+.? '`` apply. Segments may stand on lines of their own or one after another,
    with or without spaces between them (also between ``UNA`` and ``UNB``).
    ``UNB`` element 4 (YYMMDD or CCYYMMDD : HHMM, read as UTC) is when the
    push was prepared: every event's ``occurred_at``. The envelope must add up: ``UNZ``
    last, its reference equal to ``UNB``'s, its count equal to the groups (or messages);
    each ``UNE`` likewise for its group.

A message (segment positions counted from ``UNH`` = 1, elements and components from 1)
    ``UNH`` element 2 must name ``PNRGOV`` (any version: ``PNRGOV:11:1:IA``, ``:13:1:IA``...)
    and ``UNT`` must count the message's segments and repeat ``UNH``'s reference: the
    count is what shows that no segment was lost on the way. Before the first ``SRC``:
    ``MSG`` (function 22 push, or 141 update: both read alike), ``ORG`` (the sender:
    element 1 component 1 -> ``reporting_party``), ``TVL`` (the flight this push is
    about -> ``Flight``) and ``EQN`` (number of PNRs: informational, ``UNT`` guards
    completeness). The flight ``TVL``:

    ==========================  ==================================================
    element 1                   departure date DDMMYY : time HHMM : arrival date
                                (absent = departure date, a day later when the
                                arrival would precede the departure) : time
    element 2 / 3               departure / arrival airport (IATA)
    element 4 / 5               carrier / flight number
    ==========================  ==================================================

    The guide's own examples give the departure only (``TVL+300310:1700+ATL+DFW+DL+10``):
    then the arrival date and time come from a PNR's itinerary ``TVL`` for the same
    flight (same departure day, airports, carrier, marketing or operating, and number,
    leading zeros aside). A flight with no arrival time anywhere is refused.

    PADIS times are local: each is read in its airport's time zone (airportsdata;
    UTC for an airport it does not know) and kept in UTC, as the PAXLST parser does,
    so that both feeds give one flight the same ``flight_key`` and the join finds it.

A PNR (``SRC`` up to the next ``SRC`` or ``UNT``)
    Read up to the first ``EQN`` (a split PNR), ``MSG`` (non-air segments: hotels, cars),
    ``ABI`` (history: cancelled and changed items) or ``LTS`` (free-text lines): those
    groups close a PNR and are not its live booking, so nothing in or after them is read.

    ==========  ===============================================================
    ``RCI``     record locator: component 2 of the first composite, preferring the
                composite of the flight's carrier (``RCI+BA:ABC123::010626:0930``);
                a lone locator in component 1 is taken too. Components 4 and 5 are
                the PNR's creation date DDMMYY and time HHMM (UTC) -> ``booked_at``.
    ``DAT``     qualifier : date DDMMYY : time HHMM. The earliest before the first
                itinerary ``TVL`` is ``booked_at`` when ``RCI`` gives no creation
                date (the PNR is at least that old); later ones are check-in times.
    ``ORG``     the booking office (the first ``ORG`` before the itinerary; a
                check-in group's is the agent who checked in): element 9 (agency
                name) -> ``agency``, else element 2 component 1 (IATA agency
                number); first 100 characters.
    ``ADD``     element 2: purpose : street : city : state code : state name :
                country (ISO alpha-2 or -3) : postcode -> ``address``.
    ``EBD``     element 2 component 1, the number of bags; summed -> ``bags``.
    ``TIF``     a traveller: surname (element 1 component 1), given names (element 2
                component 1), type (element 2 component 2: ``IN`` an infant),
                reference number (element 2 component 3). Each starts a traveller
                group; each traveller becomes one event, and the others'
                ``SURNAME/GIVEN`` are its ``co_travellers``. (A ``TIF`` in a check-in
                group names a traveller already listed; see ``TRI``.)
    ``SSR``     element 1: code : status : quantity : carrier : ... : board point (7) :
                off point (8) : free text (9); element 2: seat : ... : traveller
                reference (3).
                ``DOCS``  free text ``/type/issuing state/number/nationality/date of
                birth DDMMMYY/sex/expiry DDMMMYY/surname/given/middle`` -> the
                traveller's document, date of birth, sex and nationality (country
                codes ISO alpha-3, or alpha-2 as some systems and the guide's own
                examples send them: ``/P/KR/``). It belongs to the traveller group it
                is in; outside one, to the traveller whose reference or name it
                carries, or to the only traveller. An infant's DOCS (sex ``MI``,
                ``FI``, ``UI``), sent in its adult's group, goes to the infant's own
                ``TIF`` by name, never to an adult.
                ``SEAT``/``NSST``/``RQST``  a seat (``12A``) on the push flight's leg
                (board/off points, or the itinerary leg it follows) for the traveller
                group it is in or the traveller it references -> ``seat``. One SSR
                may seat several travellers, an element each (``+14A::1+14B::3``).
                ``CTCE`` email (IATA escapes ``//`` = ``@``, ``..`` = ``_``, ``./`` =
                ``-``; a trailing ``/language`` is dropped), ``CTCM``/``CTCH``/
                ``CTCB``/``CTCP`` phone -> ``emails``/``phones``.
    ``IFT``     ``IFT+4:28`` (OSI) whose text starts ``CTCE``/``CTCM``/... : a contact
                as above. Other free text is not read.
    ``FOP``     element 1: code : data indicator : amount : vendor : account number.
                The first form of payment -> ``payment_type``: CC/DC card, CA cash,
                MS/INV/IN invoice, VO/MCO voucher, FF/AW miles, anything else other.
                A card's account number of 12-19 digits (spaces and dashes aside) ->
                ``payment_instrument_hash`` = ``card_hash(number, card_key)``; a masked
                number gives no hash (a last-four hash would link strangers).
    ``TVL``     an itinerary leg: the airports (elements 2 and 3) of each leg, in the
                order sent, make ``route``; a leg's own ``SSR SEAT`` follow it. A
                ``TVL`` with neither airport is a codeshare's operating flight, after
                the marketing flight's ``TVL``: not a leg of its own.
    ``TRI``     a check-in group on the leg before it: its ``TIF`` names the traveller
                (by reference number, else by name) and ``SSD`` element 1 the seat
                they were given, which wins over a seat SSR's request -> ``seat``.
    ==========  ===============================================================

    ``FTI``, ``TKT``, ``MON``, ``PTK``, ``TXD``, ``REF``, ``FAR``, ``RPI``, ``APD``,
    ``TBD`` (check-in bags) and other segments are not read.

Card numbers are hashed the moment they are read: no clear number is kept, logged or
put into a refusal. (The raw bytes themselves, which the pipeline keeps beside each
event and dead letter, still hold what the airline sent.)

Refusals (``FeedResult.refused``: bytes, reason, detail). The bytes are always the whole
raw message; the detail says where (message reference, PNR number, segment number and
tag, element and component) and why, never a value from the input:

==========================  =======================  ======================================
reason                      scope                    when
==========================  =======================  ======================================
``pnrgov_undecodable``      interchange              not text in the UNB's character set
``pnrgov_syntax``           interchange              cannot be split into segments; not
                                                     UNB first or UNZ last; unknown syntax
``pnrgov_envelope``         interchange              UNH/UNT or UNG/UNE out of order, a
                                                     segment outside a message, UNZ/UNE
                                                     count or reference wrong, no message
``pnrgov_bad_date``         interchange, message,    a date or time that cannot be read
                            PNR
``pnrgov_bad_timestamp``    interchange              the broker's timestamp is not a time
``pnrgov_bad_trailer``      message (a note: its     UNT's count or reference is wrong
                            PNRs are still read)
``pnrgov_wrong_type``       message                  UNH names another message type
``pnrgov_no_flight``        message                  no TVL before the first SRC
``pnrgov_bad_flight``       message                  that TVL lacks or garbles a field
                                                     (no arrival time: see above)
``pnrgov_no_pnr``           message                  no SRC group
``pnrgov_no_locator``       PNR                      no record locator in RCI
``pnrgov_no_traveller``     PNR                      no TIF with a surname
``pnrgov_no_booking_date``  PNR                      neither RCI nor DAT dates it
``pnrgov_bad_docs``         PNR                      an SSR DOCS whose fields cannot be read
                                                     (date, sex, country code, a number
                                                     without issuing state)
``pnrgov_bad_address``      PNR                      ADD country is no ISO 3166 code
``pnrgov_bad_itinerary``    PNR                      an itinerary TVL with one airport
                                                     missing or not an IATA code
``pnrgov_bad_bags``         PNR                      EBD's bag count is not a number
``pnrgov_invalid_pnr``      PNR                      the event fails the schema
``pnrgov_parser_error``     interchange              a bug here: never raised, reported
==========================  =======================  ======================================

One bad PNR costs only itself; a bad message only itself. ``parse_pnrgov`` never raises.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from iso3166 import countries_by_alpha2
from pydantic import ValidationError
from pydifact.constants import EDI_DEFAULT_DIRECTORY, EDI_DEFAULT_VERSION, Element
from pydifact.exceptions import MissingImplementationWarning
from pydifact.parser import Parser
from pydifact.segments import Segment, SegmentFactory

from engine.errors import InvalidMessage
from engine.messages import FeedResult, RawMessage, describe_validation_error
from engine.normalise.travellers import airport_zone, document_type, name_key, pnr_source_id
from schemas import PassengerEvent, stable_id
from schemas.codes import country2_valid, country3_valid, luhn_valid
from schemas.passenger import Address, Booking, Flight, TravelDocument, Traveller

PaymentType = Literal["card", "cash", "invoice", "voucher", "miles", "other"]
DocumentType = Literal["passport", "id_card", "visa", "other"]
Sex = Literal["F", "M", "X", "U"]

#: Syntax identifiers taken in UNB element 1.
SYNTAX_IDENTIFIERS = frozenset({"IATA", *(f"UNO{letter}" for letter in "ABCDEFGHIJKLMNOPQRSTUVWXY")})
#: Single-byte character sets by syntax identifier; every other one is read as UTF-8.
_CODECS = {
    "UNOC": "iso8859_1", "UNOD": "iso8859_2", "UNOE": "iso8859_5", "UNOF": "iso8859_7",
    "UNOG": "iso8859_3", "UNOH": "iso8859_4", "UNOI": "iso8859_6", "UNOJ": "iso8859_8",
    "UNOK": "iso8859_9",
}
#: FOP codes -> payment_type; any other code is "other".
PAYMENT_TYPES: dict[str, PaymentType] = {
    "CC": "card", "DC": "card", "CA": "cash", "MS": "invoice", "INV": "invoice", "IN": "invoice",
    "VO": "voucher", "MCO": "voucher", "FF": "miles", "AW": "miles",
}
CONTACT_PHONES = frozenset({"CTCM", "CTCH", "CTCB", "CTCP"})
SEAT_CODES = frozenset({"SEAT", "NSST", "RQST"})
#: Segment groups that follow a PNR's live data: split PNR (EQN), non-air segments (MSG),
#: history (ABI) and free-text lines (LTS). Nothing in or after them is read.
PNR_END_TAGS = frozenset({"EQN", "MSG", "ABI", "LTS"})
_SEX: dict[str, Sex] = {"M": "M", "F": "F", "MI": "M", "FI": "F", "X": "X", "U": "U", "UI": "U"}
_INFANT_SEX = frozenset({"MI", "FI", "UI"})
_MONTHS = {m: i for i, m in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1)}
#: ICAO 9303 codes that are not three letters.
_ICAO_STATES = {"D": "DEU"}
#: Tags a refusal may name (a tag outside this list could be anything the sender typed).
KNOWN_TAGS = frozenset({
    "UNA", "UNB", "UNG", "UNH", "UNT", "UNE", "UNZ", "MSG", "ORG", "TVL", "EQN", "SRC", "RCI",
    "SSR", "DAT", "IFT", "ADD", "EBD", "TIF", "FTI", "TKT", "MON", "PTK", "FOP", "TXD", "REF",
    "FAR", "RPI", "APD", "TBD", "ABI", "SAC", "LTS", "TRI", "PDI", "DCS",
})
_DEFAULT_UNA = "UNA:+.? '"
_TAG = re.compile(r"^[A-Z0-9]{3}$")
_SYNTAX_SNIFF = re.compile(rb"UNB.(UNO[A-Z]|IATA)", re.DOTALL)
_AIRPORT = re.compile(r"^[A-Z]{3}$")
_CARRIER = re.compile(r"^[A-Z0-9]{2}[A-Z]?$")
_FLIGHT_NUMBER = re.compile(r"^[0-9]{1,4}[A-Z]?$")
_SEAT = re.compile(r"^[0-9]{1,3}[A-Z]$")
_SAFE_REF = re.compile(r"^[A-Za-z0-9]{1,14}$")
_LONE_LOCATOR = re.compile(r"^[A-Z0-9]{5,8}$")
_OSI_CONTACT = re.compile(r"^(CTC[EMHBP])\s*(.*)$", re.DOTALL)
_DIGITS = re.compile(r"^[0-9]+$")


def card_hash(number: str, key: bytes) -> str:
    """HMAC-SHA256 under ``key`` of a card number's digits, hex, 32 characters.

    Spaces, dashes and any other non-digits do not count, so a number written two
    ways hashes alike; the key keeps a hash from being reversed by trying all numbers.

    >>> card_hash("4000 1234-5678 9010", b"k") == card_hash("4000123456789010", b"k")
    True
    >>> len(card_hash("4000123456789010", b"k"))
    32
    """
    digits = "".join(c for c in number if c.isascii() and c.isdigit())
    return hmac.new(key, digits.encode("ascii"), hashlib.sha256).hexdigest()[:32]



# -- the syntax layer ------------------------------------------------------------------


class _PlainSegment(Segment):  # type: ignore[no-untyped-call]  # pydifact leaves it untyped
    """A segment as read. pydifact's own validation has no PADIS directory to check
    against and would only warn on every segment (and on empty ones such as ``SRC``)."""

    __omitted__ = True  # not a pydifact plug-in

    def __init__(self, tag: str, *elements: Element) -> None:
        self.tag = tag
        self.elements = list(elements)


class _PlainSegments(SegmentFactory):
    @staticmethod
    def create_segment(
        name: str,
        *elements: Element,
        validate: bool = True,
        version: str = EDI_DEFAULT_VERSION,
        directory: str = EDI_DEFAULT_DIRECTORY,
    ) -> Segment:
        return _PlainSegment(name, *elements)


@dataclass(frozen=True, slots=True)
class _Segment:
    """One segment: its tag, its elements as tuples of components, and its position."""

    tag: str
    elements: tuple[tuple[str, ...], ...]
    number: int

    def get(self, element: int, component: int = 1) -> str:
        """Component ``component`` of element ``element`` (both from 1, as the layouts
        count), stripped; "" when absent."""
        if element > len(self.elements):
            return ""
        parts = self.elements[element - 1]
        return parts[component - 1].strip() if component <= len(parts) else ""

    def at(self, element: int | None = None, component: int | None = None) -> str:
        """Where this is, for a refusal: never the value."""
        tag = self.tag if self.tag in KNOWN_TAGS else "unknown tag"
        where = f"segment {self.number} ({tag})"
        if element is not None:
            where += f" element {element}"
        if component is not None:
            where += f" component {component}"
        return where


def _decode(value: bytes) -> str:
    head = value[:512]
    found = _SYNTAX_SNIFF.search(head)
    codec = _CODECS.get(found.group(1).decode("ascii"), "utf-8") if found else "utf-8"
    try:
        text = value.decode(codec)
    except UnicodeDecodeError as exc:
        raise InvalidMessage("pnrgov_undecodable", f"byte {exc.start} is not {codec} text") from None
    return text.lstrip("\ufeff \t\r\n")


def _read_segments(text: str) -> list[_Segment]:
    # Without UNA, pydifact looks for "'UNA" anywhere in the text, which a released
    # apostrophe in a name can produce; saying the defaults out loud avoids that.
    if not text.startswith("UNA"):
        text = _DEFAULT_UNA + text
    # Segments may stand apart on lines or with spaces between them (pydifact skips those
    # after each terminator), also between UNA and UNB, where pydifact does not.
    text = text[:9] + text[9:].lstrip(" \t\r\n")
    segments: list[_Segment] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MissingImplementationWarning)
            warnings.simplefilter("ignore", SyntaxWarning)
            for read in Parser(factory=_PlainSegments()).parse(text):
                if read.tag == "UNA" and not segments:
                    continue
                elements = tuple(
                    (e,) if isinstance(e, str) else tuple(str(c) for c in e) for e in read.elements
                )
                segments.append(_Segment(str(read.tag), elements, len(segments) + 1))
    except Exception as exc:  # pydifact raises several kinds on bad input
        raise InvalidMessage(
            "pnrgov_syntax",
            f"cannot split the interchange into segments after segment {len(segments)}: "
            f"{type(exc).__name__}",
        ) from None
    for seg in segments:
        if not _TAG.match(seg.tag):
            raise InvalidMessage("pnrgov_syntax", f"segment {seg.number} of the interchange has no valid tag")
    return segments


# -- the envelope ----------------------------------------------------------------------


@dataclass
class _Message:
    ordinal: int
    segments: list[_Segment] = field(default_factory=list)

    @property
    def label(self) -> str:
        ref = self.segments[0].get(1) if self.segments else ""
        return ref if _SAFE_REF.match(ref) else f"#{self.ordinal}"


def _count_is(seg: _Segment, expected: int) -> bool:
    text = seg.get(1)
    return bool(_DIGITS.match(text)) and int(text) == expected


def _envelope(segments: list[_Segment]) -> tuple[datetime, list[_Message]]:
    """The preparation time and the messages, renumbered from their UNH; or a refusal."""
    if not segments or segments[0].tag != "UNB":
        raise InvalidMessage("pnrgov_syntax", "the interchange does not start with UNB")
    unb = segments[0]
    if unb.get(1) not in SYNTAX_IDENTIFIERS:
        raise InvalidMessage("pnrgov_syntax", "UNB element 1: the syntax identifier is not IATA or UNOA-UNOY")
    prepared = _unb_time(unb)
    if len(segments) < 2 or segments[-1].tag != "UNZ":
        raise InvalidMessage("pnrgov_syntax", "the interchange does not end with UNZ")
    messages: list[_Message] = []
    current: _Message | None = None
    group: _Segment | None = None
    in_group = groups = bare = 0

    def broken(seg: _Segment, why: str) -> InvalidMessage:
        return InvalidMessage("pnrgov_envelope", f"interchange {seg.at()}: {why}")

    for seg in segments[1:-1]:
        if seg.tag in ("UNA", "UNB", "UNZ"):
            raise broken(seg, "a second interchange header or trailer")
        if seg.tag == "UNG":
            if current is not None or group is not None:
                raise broken(seg, "UNG inside a message or group")
            group, in_group = seg, 0
        elif seg.tag == "UNE":
            if group is None or current is not None:
                raise broken(seg, "UNE without its UNG, or inside a message")
            if not _count_is(seg, in_group) or seg.get(2) != group.get(5):
                raise broken(seg, f"UNE's count or reference does not match its group of "
                                  f"{in_group} message(s)")
            group, groups = None, groups + 1
        elif seg.tag == "UNH":
            if current is not None:
                raise broken(seg, "UNH before the previous message's UNT")
            current = _Message(len(messages) + 1)
            if group is None:
                bare += 1
            else:
                in_group += 1
        if current is None:
            if seg.tag not in ("UNG", "UNE"):
                raise broken(seg, "a segment outside any message")
            continue
        current.segments.append(_Segment(seg.tag, seg.elements, len(current.segments) + 1))
        if seg.tag == "UNT":
            messages.append(current)
            current = None
    unz = segments[-1]
    if current is not None:
        raise broken(unz, "the last message has no UNT")
    if group is not None:
        raise broken(unz, "the last group has no UNE")
    if not messages:
        raise broken(unz, "the interchange holds no message")
    if groups and bare:
        raise broken(unz, "messages both inside and outside functional groups")
    if not _count_is(unz, groups or bare) or unz.get(2) != unb.get(5):
        raise broken(unz, f"UNZ's count or reference does not match the {groups or bare} "
                          f"{'group(s)' if groups else 'message(s)'} and UNB")
    return prepared, messages


def _unb_time(unb: _Segment) -> datetime:
    day, clock = unb.get(4, 1), unb.get(4, 2)
    try:
        if len(day) == 8 and day.isdigit():
            on = date(int(day[:4]), int(day[4:6]), int(day[6:]))
        elif len(day) == 6 and day.isdigit():
            on = date(2000 + int(day[:2]), int(day[2:4]), int(day[4:]))
        else:
            raise ValueError
        return datetime.combine(on, _hhmm(clock), tzinfo=UTC)
    except ValueError:
        raise InvalidMessage(
            "pnrgov_bad_date", f"interchange {unb.at(4)}: not a YYMMDD:HHMM preparation time"
        ) from None


# -- dates -----------------------------------------------------------------------------


def _hhmm(text: str) -> time:
    if len(text) in (4, 6) and text.isascii() and text.isdigit():
        return time(int(text[:2]), int(text[2:4]), int(text[4:] or 0))
    raise ValueError


def _ddmmyy(text: str) -> date:
    if len(text) == 6 and text.isascii() and text.isdigit():
        return date(2000 + int(text[4:]), int(text[2:4]), int(text[:2]))
    raise ValueError


def _ddmmmyy(text: str, reference: date, *, past: bool) -> date:
    """DDMMMYY (or DDMMMYYYY). A two-digit year is the latest one not after ``reference``
    for a date of birth (``past``), else the one within 50 years of it."""
    text = text.upper()
    if len(text) not in (7, 9) or not text[:2].isdigit() or not text[5:].isdigit():
        raise ValueError
    day, month = int(text[:2]), _MONTHS.get(text[2:5])
    if month is None:
        raise ValueError
    if len(text) == 9:
        return date(int(text[5:]), month, day)
    yy = int(text[5:])
    century = reference.year - reference.year % 100
    year = century + yy
    if past:
        if year > reference.year:
            year -= 100
    elif year < reference.year - 50:
        year += 100
    elif year >= reference.year + 50:
        year -= 100
    return date(year, month, day)


def _local(on: str, at: str, airport: str, seg: _Segment, component: int) -> datetime:
    try:
        day = _ddmmyy(on)
    except ValueError:
        raise InvalidMessage("pnrgov_bad_date", f"{seg.at(1, component)}: not a DDMMYY date") from None
    try:
        clock = _hhmm(at)
    except ValueError:
        raise InvalidMessage("pnrgov_bad_date", f"{seg.at(1, component + 1)}: not an HHMM time") from None
    return datetime.combine(day, clock, tzinfo=airport_zone(airport))


def _utc_stamp(seg: _Segment, element: int, day_at: int) -> datetime | None:
    """A DDMMYY date and optional HHMM time (UTC) at components ``day_at`` and after."""
    day_text, clock_text = seg.get(element, day_at), seg.get(element, day_at + 1)
    if not day_text:
        return None
    try:
        day = _ddmmyy(day_text)
    except ValueError:
        raise InvalidMessage("pnrgov_bad_date", f"{seg.at(element, day_at)}: not a DDMMYY date") from None
    try:
        clock = _hhmm(clock_text) if clock_text else time(0, 0)
    except ValueError:
        raise InvalidMessage("pnrgov_bad_date", f"{seg.at(element, day_at + 1)}: not an HHMM time") from None
    return datetime.combine(day, clock, tzinfo=UTC)


# -- the flight ------------------------------------------------------------------------


def _same_leg(tvl: _Segment, leg: _Segment) -> bool:
    """True when an itinerary TVL is the push flight's leg: same day, airports, carrier
    (marketing or operating) and number (leading zeros aside)."""
    return (
        leg.get(1, 1) == tvl.get(1, 1) and leg.get(2) == tvl.get(2) and leg.get(3) == tvl.get(3)
        and tvl.get(4) in (leg.get(4, 1), leg.get(4, 2))
        and leg.get(5).lstrip("0") == tvl.get(5).lstrip("0")
    )


def _flight(tvl: _Segment, itinerary: Sequence[_Segment] = ()) -> Flight:
    dep, arr = tvl.get(2), tvl.get(3)
    carrier, number = tvl.get(4), tvl.get(5)
    if not tvl.get(1, 4):
        # The guide's own examples give the push flight's departure only; a PNR's
        # itinerary leg for the same flight gives its arrival.
        tvl = next((leg for leg in itinerary if _same_leg(tvl, leg) and leg.get(1, 4)), tvl)
    for value, element, what, shape in (
        (dep, 2, "departure airport", _AIRPORT), (arr, 3, "arrival airport", _AIRPORT),
        (carrier, 4, "carrier", _CARRIER), (number, 5, "flight number", _FLIGHT_NUMBER),
    ):
        if not shape.match(value):
            raise InvalidMessage("pnrgov_bad_flight", f"{tvl.at(element, 1)}: no {what}, or not one")
    dep_day, dep_clock, arr_day, arr_clock = (tvl.get(1, c) for c in (1, 2, 3, 4))
    if not dep_day or not dep_clock or not arr_clock:
        raise InvalidMessage(
            "pnrgov_bad_flight",
            f"{tvl.at(1)}: departure date and time and arrival time are needed (no arrival time "
            "in this TVL nor in an itinerary TVL of the same flight)",
        )
    departure = _local(dep_day, dep_clock, dep, tvl, 1)
    arrival = _local(arr_day or dep_day, arr_clock, arr, tvl, 3)
    if not arr_day and arrival < departure:
        arrival = (arrival.replace(tzinfo=None) + timedelta(days=1)).replace(tzinfo=arrival.tzinfo)
    try:
        return Flight(
            carrier=carrier, number=number, departure_airport=dep, arrival_airport=arr,
            scheduled_departure=departure.astimezone(UTC), scheduled_arrival=arrival.astimezone(UTC),
        )
    except ValidationError as exc:
        raise InvalidMessage("pnrgov_bad_flight", f"{tvl.at()}: {describe_validation_error(exc)}") from None


# -- a PNR -----------------------------------------------------------------------------


@dataclass
class _Docs:
    ref: str
    document: TravelDocument | None
    surname: str
    given: str
    date_of_birth: date | None
    sex: Sex | None
    nationality: str | None
    infant: bool = False  # sex MI, FI or UI: an infant's DOCS, sent in its adult's group


@dataclass
class _Seat:
    seat: str
    board: str
    off: str
    ref: str
    owner: int | None


@dataclass
class _Person:
    surname: str
    given: str
    ref: str
    infant: bool = False  # TIF element 2 component 2 "IN"
    docs: list[_Docs] = field(default_factory=list)


@dataclass
class _Pnr:
    """What one SRC group says, before it becomes events."""

    locator: str | None = None
    created: datetime | None = None
    transactions: list[datetime] = field(default_factory=list)
    agency: str | None = None
    address: Address | None = None
    bags: int | None = None
    payment: PaymentType | None = None
    card: str | None = None
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    people: list[_Person] = field(default_factory=list)
    loose_docs: list[_Docs] = field(default_factory=list)
    seats: list[_Seat] = field(default_factory=list)
    legs: list[tuple[str, str]] = field(default_factory=list)


def _state(code: str, seg: _Segment, what: str) -> str | None:
    code = _ICAO_STATES.get(code.upper(), code.upper())
    if not code:
        return None
    if len(code) == 2 and code in countries_by_alpha2:
        code = countries_by_alpha2[code].alpha3  # DOCS as some systems send it: /P/KR/...
    if not country3_valid(code):
        raise InvalidMessage("pnrgov_bad_docs", f"{seg.at(1, 9)}: the {what} is not an ISO 3166 country code")
    return code


def _docs(seg: _Segment, reference: date) -> _Docs:
    fields = seg.get(1, 9).removeprefix("/").split("/")
    fields += [""] * (9 - len(fields))
    kind, issuing, number, nationality, born, sex, expiry, surname = (f.strip() for f in fields[:8])
    given = " ".join(f.strip() for f in fields[8:] if f.strip())

    def day(text: str, field_no: int, past: bool) -> date | None:
        if not text:
            return None
        try:
            return _ddmmmyy(text, reference, past=past)
        except ValueError:
            raise InvalidMessage(
                "pnrgov_bad_docs", f"{seg.at(1, 9)} field {field_no}: not a DDMMMYY date"
            ) from None

    issuing_state = _state(issuing, seg, "issuing state (field 2)")
    sex_code = _SEX.get(sex.upper()) if sex else None
    if sex and sex_code is None:
        raise InvalidMessage("pnrgov_bad_docs", f"{seg.at(1, 9)} field 6: sex is not M, F, MI, FI, X or U")
    expires = day(expiry, 7, past=False)
    document = None
    if number:
        if issuing_state is None:
            raise InvalidMessage(
                "pnrgov_bad_docs", f"{seg.at(1, 9)}: a document number without issuing state"
            )
        try:
            document = TravelDocument(
                type=document_type(kind) if kind else "other",
                number=number, issuing_state=issuing_state, expiry=expires,
            )
        except ValidationError as exc:
            raise InvalidMessage(
                "pnrgov_bad_docs", f"{seg.at(1, 9)}: {describe_validation_error(exc)}"
            ) from None
    return _Docs(
        ref=seg.get(2, 3), document=document, surname=surname, given=given,
        date_of_birth=day(born, 5, past=True), sex=sex_code,
        nationality=_state(nationality, seg, "nationality (field 4)"),
        infant=sex.upper() in _INFANT_SEX,
    )


def _email(text: str) -> str:
    text = text.strip().removeprefix("/").replace("//", "@").replace("./", "-").replace("..", "_")
    return text.split("/", 1)[0].strip()


def _phone(text: str) -> str:
    return text.strip().removeprefix("/").split("/", 1)[0].strip()


def _add_contact(pnr: _Pnr, code: str, text: str) -> None:
    if code == "CTCE":
        value = _email(text)
        if value and value not in pnr.emails:
            pnr.emails.append(value)
    elif code in CONTACT_PHONES:
        value = _phone(text)
        if value and value not in pnr.phones:
            pnr.phones.append(value)


def _locator(rci: _Segment, carrier: str) -> tuple[str, datetime | None] | None:
    composites = [i for i in range(1, len(rci.elements) + 1) if rci.get(i, 2)]
    if composites:
        chosen = next((i for i in composites if rci.get(i, 1) == carrier), composites[0])
        return rci.get(chosen, 2), _utc_stamp(rci, chosen, 4)
    lone = rci.get(1, 1)
    if _LONE_LOCATOR.match(lone) and not _CARRIER.match(lone):
        return lone, None
    return None


def _read_pnr(segments: Sequence[_Segment], flight: Flight, reference: date) -> _Pnr:
    pnr = _Pnr()
    person: int | None = None
    leg: tuple[str, str] | None = None
    checked_in: int | None = None  # the traveller a check-in (TRI) group is about
    in_check_in = False
    for seg in segments:
        tag = seg.tag
        if tag in PNR_END_TAGS:
            break  # split-PNR, non-air, history and free-text groups: not the live booking
        if tag == "RCI" and pnr.locator is None:
            found = _locator(seg, flight.carrier)
            if found is not None:
                pnr.locator, pnr.created = found
        elif tag == "DAT" and not pnr.legs:
            for element in range(1, len(seg.elements) + 1):
                stamp = _utc_stamp(seg, element, 2)
                if stamp is not None:
                    pnr.transactions.append(stamp)
        elif tag == "ORG" and pnr.agency is None and not pnr.legs:
            pnr.agency = (seg.get(9) or seg.get(2, 1))[:100] or None
        elif tag == "ADD" and pnr.address is None:
            pnr.address = _address(seg)
        elif tag == "EBD" and seg.get(2, 1):
            count = seg.get(2, 1)
            if not _DIGITS.match(count):
                raise InvalidMessage("pnrgov_bad_bags", f"{seg.at(2, 1)}: the number of bags is not a number")
            pnr.bags = (pnr.bags or 0) + int(count)
        elif tag == "TRI" and leg is not None:
            in_check_in, checked_in = True, None
        elif tag == "TIF" and in_check_in:
            checked_in = _find_person(pnr, seg)
        elif tag == "TIF":
            pnr.people.append(_Person(seg.get(1, 1), seg.get(2, 1), seg.get(2, 3), seg.get(2, 2) == "IN"))
            person, leg = len(pnr.people) - 1, None
        elif tag == "SSD" and in_check_in and checked_in is not None and leg is not None:
            seat = seg.get(1, 1).upper().lstrip("0")
            if _SEAT.match(seat):
                pnr.seats.insert(0, _Seat(seat, leg[0], leg[1], "", checked_in))
        elif tag == "TVL":
            dep, arr = seg.get(2), seg.get(3)
            if not dep and not arr:
                continue  # a codeshare's operating flight, after its marketing TVL
            if not (_AIRPORT.match(dep) and _AIRPORT.match(arr)):
                raise InvalidMessage(
                    "pnrgov_bad_itinerary", f"{seg.at(2)}: a leg without departure and arrival airports"
                )
            leg, person, in_check_in = (dep, arr), None, False
            pnr.legs.append(leg)
        elif tag == "SSR":
            _ssr(seg, pnr, person, leg, reference)
        elif tag == "IFT" and seg.get(1, 1) == "4" and seg.get(1, 2) == "28":
            found_contact = _OSI_CONTACT.match(seg.get(2, 1).upper())
            if found_contact:
                _add_contact(pnr, found_contact.group(1), seg.get(2, 1)[len(found_contact.group(1)):])
        elif tag == "FOP" and pnr.payment is None:
            _payment(seg, pnr)
    return pnr


def _find_person(pnr: _Pnr, tif: _Segment) -> int | None:
    """The traveller a check-in group's TIF names: by reference number, else by name."""
    ref, key = tif.get(2, 3), name_key(tif.get(1, 1), tif.get(2, 1))
    for index, person in enumerate(pnr.people):
        if ref and person.ref == ref:
            return index
    for index, person in enumerate(pnr.people):
        if name_key(person.surname, person.given) == key:
            return index
    return None


def _ssr(seg: _Segment, pnr: _Pnr, person: int | None, leg: tuple[str, str] | None, reference: date) -> None:
    code = seg.get(1, 1).upper()
    if code == "DOCS":
        docs = _docs(seg, reference)
        if person is not None and not docs.infant:
            pnr.people[person].docs.append(docs)
        else:
            pnr.loose_docs.append(docs)  # an infant's DOCS goes to the infant's own TIF
    elif code in SEAT_CODES:
        board = seg.get(1, 7) or (leg[0] if leg else "")
        off = seg.get(1, 8) or (leg[1] if leg else "")
        # One element per traveller: seat : ... : reference (SEAT+15A::1+15B::2).
        details = [e for e in range(2, len(seg.elements) + 1) if seg.get(e, 1)]
        if not details:
            seat = seg.get(1, 9).removeprefix("/").split("/", 1)[0].strip().upper()
            if _SEAT.match(seat):
                pnr.seats.append(_Seat(seat, board, off, seg.get(2, 3), person))
        for element in details:
            seat = seg.get(element, 1).upper()
            if _SEAT.match(seat):
                owner = person if len(details) == 1 else None
                pnr.seats.append(_Seat(seat, board, off, seg.get(element, 3), owner))
    elif code == "CTCE" or code in CONTACT_PHONES:
        _add_contact(pnr, code, seg.get(1, 9))


def _address(seg: _Segment) -> Address | None:
    street, city, country, postcode = seg.get(2, 2), seg.get(2, 3), seg.get(2, 6).upper(), seg.get(2, 7)
    if not (street or city or country or postcode):
        return None
    if country and not (country2_valid(country) if len(country) == 2 else country3_valid(country)):
        raise InvalidMessage("pnrgov_bad_address", f"{seg.at(2, 6)}: the country is not an ISO 3166 code")
    try:
        return Address(line=street, city=city or None, postcode=postcode or None, country=country or None)
    except ValidationError as exc:
        raise InvalidMessage("pnrgov_invalid_pnr", f"{seg.at(2)}: {describe_validation_error(exc)}") from None


def _payment(seg: _Segment, pnr: _Pnr) -> None:
    for element in range(1, len(seg.elements) + 1):
        code = seg.get(element, 1).upper()
        if not code:
            continue
        pnr.payment = PAYMENT_TYPES.get(code, "other")
        if pnr.payment == "card":
            number = seg.get(element, 5).replace(" ", "").replace("-", "")
            if _DIGITS.match(number) and 12 <= len(number) <= 19:
                pnr.card = number
        return


def _docs_for(pnr: _Pnr, index: int) -> _Docs | None:
    person = pnr.people[index]
    if person.docs:
        return person.docs[0]
    loose = [d for d in pnr.loose_docs if d.infant == person.infant]
    for docs in loose:
        if person.ref and docs.ref == person.ref and not docs.infant:
            return docs
    key = name_key(person.surname, person.given)
    for docs in loose:
        if docs.surname and name_key(docs.surname, docs.given) == key:
            return docs
    if len(pnr.people) == 1 and loose:
        return loose[0]
    return None


def _seat_for(pnr: _Pnr, index: int, flight: Flight) -> str | None:
    person = pnr.people[index]
    for seat in pnr.seats:
        if seat.board and seat.board != flight.departure_airport:
            continue
        if seat.off and seat.off != flight.arrival_airport:
            continue
        if seat.owner == index or (person.ref and seat.ref == person.ref):
            return seat.seat
        if seat.owner is None and not seat.ref and len(pnr.people) == 1:
            return seat.seat
    return None


def _route(legs: Iterable[tuple[str, str]]) -> tuple[str, ...]:
    route: list[str] = []
    for dep, arr in legs:
        if not route or route[-1] != dep:
            route.append(dep)
        route.append(arr)
    return tuple(route)


@dataclass(frozen=True)
class _Context:
    prepared_at: datetime
    received_at: datetime
    card_key: bytes
    reporting_party: str | None


def _events(pnr: _Pnr, flight: Flight, ctx: _Context, first: _Segment) -> list[PassengerEvent]:
    if not pnr.locator:
        raise InvalidMessage("pnrgov_no_locator", f"{first.at()}: no RCI with a record locator")
    people = pnr.people
    if not people or not all(p.surname for p in people):
        raise InvalidMessage("pnrgov_no_traveller", f"{first.at()}: no TIF, or a TIF without a surname")
    booked_at = pnr.created or min(pnr.transactions, default=None)
    if booked_at is None:
        raise InvalidMessage("pnrgov_no_booking_date", f"{first.at()}: neither RCI nor DAT gives a date")
    names = [f"{p.surname}/{p.given}" for p in people]
    route = _route(pnr.legs)
    card = card_hash(pnr.card, ctx.card_key) if pnr.card is not None else None
    events = []
    for index, person in enumerate(people):
        docs = _docs_for(pnr, index)
        try:
            traveller = Traveller(
                given_names=person.given, surname=person.surname,
                date_of_birth=docs.date_of_birth if docs else None,
                sex=docs.sex if docs else None,
                nationality=docs.nationality if docs else None,
            )
            booking = Booking(
                record_locator=pnr.locator, booked_at=booked_at, agency=pnr.agency,
                payment_type=pnr.payment, payment_instrument_hash=card,
                phones=tuple(pnr.phones), emails=tuple(pnr.emails), address=pnr.address,
                co_travellers=tuple(n for i, n in enumerate(names) if i != index),
                bags=pnr.bags, seat=_seat_for(pnr, index, flight),
            )
            source_id = pnr_source_id(flight, pnr.locator, traveller)
            events.append(PassengerEvent(
                event_id=stable_id("passenger", "pnr", source_id), source="pnr", source_id=source_id,
                occurred_at=ctx.prepared_at, received_at=ctx.received_at, flight=flight,
                route=route, traveller=traveller, document=docs.document if docs else None,
                booking=booking, reporting_party=ctx.reporting_party,
            ))
        except ValidationError as exc:
            raise InvalidMessage(
                "pnrgov_invalid_pnr", f"traveller {index + 1}: {describe_validation_error(exc)}"
            ) from None
    return events


# -- messages --------------------------------------------------------------------------


def _read_message(message: _Message, prepared_at: datetime, received_at: datetime, card_key: bytes,
                  value: bytes, result: FeedResult) -> None:
    label = f"message {message.label}"
    segments = message.segments
    unh, unt = segments[0], segments[-1]
    if not _count_is(unt, len(segments)) or unt.get(2) != unh.get(1):
        # Many senders miscount: the PNRs are still read; a note flags the envelope.
        result.refused.append((value, "pnrgov_bad_trailer", f"{label}: UNT's segment count or reference "
                               f"does not match the {len(segments)} segments from UNH"))
    if unh.get(2, 1) != "PNRGOV":
        result.refused.append((value, "pnrgov_wrong_type", f"{label}: UNH element 2 does not name PNRGOV"))
        return
    body = segments[1:-1]
    starts = [i for i, seg in enumerate(body) if seg.tag == "SRC"]
    header = body[: starts[0]] if starts else body
    tvl = next((seg for seg in header if seg.tag == "TVL"), None)
    if tvl is None:
        result.refused.append((value, "pnrgov_no_flight", f"{label}: no TVL before the first SRC"))
        return
    try:
        flight = _flight(tvl, [seg for seg in body[len(header):] if seg.tag == "TVL"])
    except InvalidMessage as exc:
        result.refused.append((value, exc.reason, f"{label}: {exc.detail}"))
        return
    if not starts:
        result.refused.append((value, "pnrgov_no_pnr", f"{label}: no SRC (PNR) group"))
        return
    org = next((seg for seg in header if seg.tag == "ORG"), None)
    party = (org.get(1, 1)[:100] or None) if org is not None else None
    ctx = _Context(prepared_at, received_at, card_key, party)
    reference = prepared_at.date()
    for ordinal, start in enumerate(starts, start=1):
        end = starts[ordinal] if ordinal < len(starts) else len(body)
        group = body[start:end]
        try:
            pnr = _read_pnr(group[1:], flight, reference)
            events = _events(pnr, flight, ctx, group[0])
        except InvalidMessage as exc:
            result.refused.append((value, exc.reason, f"{label}, PNR {ordinal}: {exc.detail}"))
            continue
        result.events.extend((event, value) for event in events)


def parse_pnrgov(raw: RawMessage, *, card_key: bytes) -> FeedResult:
    """Every PNR of one PNRGOV interchange, as a PassengerEvent per traveller or a refusal.

    ``card_key`` keys the hash of card numbers (see ``card_hash``). Never raises; every
    input gives at least one event or one refusal.
    """
    try:
        result = _parse(raw, card_key)
    except Exception as exc:  # a bug here must cost one message, not the worker
        result = FeedResult(refused=[(raw.value, "pnrgov_parser_error", type(exc).__name__)])
    if result.refused:
        # A dead letter keeps the message's bytes, but never a card number in clear.
        masked = mask_card_numbers(raw.value)
        result.refused = [(masked, reason, detail) for _, reason, detail in result.refused]
    return result


_DIGIT_RUN = re.compile(rb"(?<![0-9])[0-9](?:[ -]?[0-9]){11,18}(?![0-9])")


def mask_card_numbers(value: bytes) -> bytes:
    """The bytes with card numbers replaced by as many ``X``: every run of 12-19 digits
    (spaces or dashes allowed) in a FOP segment, and any such run elsewhere of 13 or more
    digits that passes the Luhn check. Nothing else changes.

    >>> mask_card_numbers(b"FOP+CC:::VI:5100 9988 7766 5544:0128'")
    b"FOP+CC:::VI:XXXX XXXX XXXX XXXX:0128'"
    >>> mask_card_numbers(b"IFT+4:28+PAID 4000001234567899'CTCM+447700900123'")
    b"IFT+4:28+PAID XXXXXXXXXXXXXXXX'CTCM+447700900123'"
    """
    terminator = value[8:9] if value[:3] == b"UNA" and len(value) >= 9 else b"'"

    def hide(text: bytes, in_fop: bool) -> bytes:
        def one(found: re.Match[bytes]) -> bytes:
            run = found.group(0)
            digits = bytes(c for c in run if 48 <= c <= 57)
            if in_fop or (len(digits) >= 13 and luhn_valid(digits.decode("ascii"))):
                return re.sub(rb"[0-9]", b"X", run)
            return run
        return _DIGIT_RUN.sub(one, text)

    parts = value.split(terminator)
    return terminator.join(hide(p, p.lstrip().startswith(b"FOP")) for p in parts)


def _parse(raw: RawMessage, card_key: bytes) -> FeedResult:
    result = FeedResult()
    try:
        received_at = raw.received_at()
    except InvalidMessage:
        result.refused.append((raw.value, "pnrgov_bad_timestamp", "the broker timestamp is not a time"))
        return result
    try:
        prepared_at, messages = _envelope(_read_segments(_decode(raw.value)))
    except InvalidMessage as exc:
        result.refused.append((raw.value, exc.reason, exc.detail))
        return result
    for message in messages:
        _read_message(message, prepared_at, received_at, card_key, raw.value, result)
    return result
