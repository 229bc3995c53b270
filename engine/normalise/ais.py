"""AIS in NMEA 0183: ``!AIVDM``/``!AIVDO`` sentences in, ``VesselEvent``s out.

One Kafka message on ``raw.vessel`` may carry a burst of sentences, one per line,
each optionally behind an IEC 61162-450 tag block (``\\s:station,c:1700000000*hh\\``).
pyais does the syntax: checksums, the six-bit payload, the message layouts, any
talker (``!AI``, ``!AB``, ``!BS``, ``!SA``...) and channel (``A``/``B``, ``1``/``2``
or none). Here:

- fragments of a multi-sentence message are assembled by (sequential id, channel)
  within the Kafka message, so fragments interleaved across channels come apart
  right; a group left incomplete is refused;
- message types 1, 2, 3 (class A position), 18, 19 (class B position) and 27
  (long-range position, as satellite receivers hear it) become ``position``
  reports; 5 (static and voyage data) and 24 (class B static data) become
  ``voyage`` reports; any other type (base stations, aids to navigation, binary
  and safety messages...) is refused as unsupported;
- AIS "not available" values (lat 91, lon 181, speed 102.3 or 63 in type 27,
  course 360, heading 511, IMO 0, ETA month 0...) become absent fields;
- the flag state comes from the MMSI's maritime identification digits (ships'
  MMSIs start with 2-7); an IMO number that fails its check digit is left out;
- the report is timed by the tag block's ``c:`` timestamp when there is one (a
  ``c:`` before 2000 or more than a day after the broker's time is some counter,
  not a receive time, and is passed over), else by the receive time the USCG's
  receivers append after the checksum (``...,0*5C,s28089,d-103,...,1242958962``:
  those trailing fields are cut off before pyais reads the sentence), else by the
  broker's timestamp, with the second of the minute the position report itself
  gives;
- a ``$xxVSI`` line (VDL signal information) in the tag-block group (``g:2-2-17``)
  of a VDM goes with that VDM's event or refusal; a VSI outside such a group is
  refused as an unsupported sentence.

Each sentence group gives one event or one refusal (reason and the group's own
bytes), so one bad sentence in a burst does not cost the good ones.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pyais.exceptions import AISBaseException
from pyais.messages import AISSentence, NMEAMessage, NMEASentenceFactory, TagBlock
from pyais.util import get_country
from pydantic import ValidationError

from engine.errors import InvalidMessage
from engine.messages import FeedResult, RawMessage, describe_validation_error
from schemas import VesselEvent, stable_id
from schemas.codes import imo_valid
from schemas.vessel import Position

POSITION_TYPES = frozenset({1, 2, 3, 18, 19, 27})
VOYAGE_TYPES = frozenset({5, 24})
#: Longest sentence group taken (a type 5 message is two sentences of ~80 bytes).
MAX_GROUP_BYTES = 2_048
#: A tag-block ``c:`` time before this is no receive time (a counter, a relative time).
_EARLIEST_STAMP = datetime(2000, 1, 1, tzinfo=UTC)
#: VDL signal information, sent in a tag-block group with the VDM it describes.
_VSI = re.compile(rb"^\$..VSI,")
#: Speed "not available": 102.3 knots, or 63 in type 27's six bits.
_NO_SPEED = {**dict.fromkeys((1, 2, 3, 18, 19), 102.3), 27: 63}
#: A tag block's group parameter ``g:<line>-<lines>-<id>``: the id.
_TAG_GROUP = re.compile(rb"^\\(?:[^\\]*,)?g:\d+-\d+-(\w+)")
#: A sentence followed by the fields USCG receivers append after the checksum.
_USCG_TRAILER = re.compile(rb"^(.*\*[0-9A-Fa-f]{2})((?:,[^,*]*)+)$")


def looks_like_nmea(value: bytes) -> bool:
    """True when a message starts like an NMEA sentence or a tag block, not like JSON."""
    head = value[:16].lstrip()[:1]  # no copy of a large message
    return head in (b"!", b"\\")


def flag_of(mmsi: str) -> str | None:
    """ISO alpha-2 flag state from a ship's MMSI (first digit 2-7), else None."""
    if mmsi[0] not in "234567":
        return None
    code, _ = get_country(int(mmsi[:3]))
    return None if code == "NA" else code



def parse_ais(raw: RawMessage) -> FeedResult:
    """Every sentence group of one message, as a VesselEvent or a refusal. Raises
    InvalidMessage only for a broker timestamp that is no time (the whole message is
    refused then); nothing else is raised."""
    # Read once, outside the per-group refusals: a message whose broker time is no time is
    # refused whole (invalid_timestamp), as the normalise stage does for any message.
    received = raw.received_at()
    result = FeedResult()
    # (sequential id, channel) -> the fragments so far and their lines.
    pending: dict[tuple[int | None, str], list[_Line]] = {}
    # Tag-block group id -> where its VDM's event or refusal went, and VSI lines waiting for it.
    owners: dict[bytes, tuple[list[Any], int]] = {}
    companions: dict[bytes, list[bytes]] = {}

    def settle(target: list[Any], lines: list[bytes]) -> None:
        """Record a group's outcome as the owner of its tag-block groups; take in their VSIs."""
        index = len(target) - 1
        for group in {g for g in (_tag_group(line) for line in lines) if g is not None}:
            owners[group] = (target, index)
            for vsi in companions.pop(group, []):
                _attach(target, index, vsi)

    def refuse(lines: list[bytes], reason: str, detail: str) -> None:
        result.refused.append((b"\n".join(lines), reason, detail))
        settle(result.refused, lines)

    for line in raw.value.splitlines():
        if not line.strip():
            continue
        if _VSI.match(_without_tag_block(line)):
            group = _tag_group(line)
            if group is None:
                refuse([line], "ais_unsupported_sentence", "a VSI signal report outside a tag-block group")
            elif group in owners:
                _attach(*owners[group], line)
            else:
                companions.setdefault(group, []).append(line)
            continue
        try:
            sentence = _sentence(line)
        except InvalidMessage as exc:
            refuse([line], exc.reason, exc.detail)
            continue
        if sentence.sentence.frag_cnt == 1:
            group_lines = [sentence]
        else:
            slot = (sentence.sentence.seq_id, sentence.sentence.channel)
            parts = pending.get(slot, [])
            repeated = any(p.sentence.frag_num == sentence.sentence.frag_num for p in parts)
            if parts and (repeated or parts[0].sentence.frag_cnt != sentence.sentence.frag_cnt):
                # A fragment seen already, or another count: the earlier group never finished.
                refuse([p.raw for p in parts], "ais_incomplete_multipart",
                       f"{len(parts)} of {parts[0].sentence.frag_cnt} fragments, then a new message began")
                parts = []
            parts.append(sentence)
            pending[slot] = parts
            if len(parts) < sentence.sentence.frag_cnt:
                continue
            del pending[slot]
            group_lines = parts
        lines = [g.raw for g in group_lines]
        try:
            result.events.append((_event(received, group_lines), b"\n".join(lines)))
            settle(result.events, lines)
        except InvalidMessage as exc:
            refuse(lines, exc.reason, exc.detail)
    for parts in pending.values():
        refuse([p.raw for p in parts], "ais_incomplete_multipart",
               f"{len(parts)} of {parts[0].sentence.frag_cnt} fragments in the message")
    for vsi_lines in companions.values():
        result.refused.append((b"\n".join(vsi_lines), "ais_unsupported_sentence",
                               "a VSI signal report whose tag-block group has no VDM in the message"))
    return result


@dataclass(frozen=True, slots=True)
class _Line:
    """A sentence as read: pyais's sentence, the line's bytes, and a USCG receive time."""

    sentence: AISSentence
    raw: bytes
    received: datetime | None


def _attach(target: list[Any], index: int, line: bytes) -> None:
    """Add a companion line to the bytes of an event or refusal already recorded."""
    entry = target[index]
    if isinstance(entry[0], bytes):  # a refusal: (bytes, reason, detail)
        target[index] = (entry[0] + b"\n" + line, *entry[1:])
    else:  # an event: (event, bytes)
        target[index] = (entry[0], entry[1] + b"\n" + line)


def _without_tag_block(line: bytes) -> bytes:
    return line.rsplit(b"\\", 1)[-1] if line.startswith(b"\\") else line


def _tag_group(line: bytes) -> bytes | None:
    found = _TAG_GROUP.match(line)
    return found.group(1) if found else None


def _sentence(line: bytes) -> _Line:
    if len(line) > MAX_GROUP_BYTES:
        raise InvalidMessage("ais_invalid_sentence", f"a line of {len(line)} bytes, limit {MAX_GROUP_BYTES}")
    text, received = line, None
    uscg = _USCG_TRAILER.match(line)
    if uscg:  # the USCG's receivers append their own fields after the checksum
        text = uscg.group(1)
        received = _uscg_time(uscg.group(2))
    try:
        sentence = NMEASentenceFactory.produce(text)
    except AISBaseException as exc:
        raise InvalidMessage(
            "ais_invalid_sentence", f"{type(exc).__name__}: not an AIS NMEA sentence"
        ) from None
    except Exception as exc:  # pyais raising something else on odd bytes
        raise InvalidMessage("ais_invalid_sentence", type(exc).__name__) from None
    if not isinstance(sentence, AISSentence):
        raise InvalidMessage("ais_unsupported_sentence", f"a {type(sentence).__name__}, not !xxVDM/!xxVDO")
    if not sentence.is_valid:
        raise InvalidMessage(
            "ais_bad_checksum", f"checksum {sentence.checksum:02X} does not match the sentence"
        )
    return _Line(sentence, line, received)


def _uscg_time(fields: bytes) -> datetime | None:
    """The receive time a USCG trailer ends with (Unix seconds), if it has one."""
    last = fields.rsplit(b",", 1)[-1]
    if not last.isdigit() or len(last) != 10:
        return None
    return datetime.fromtimestamp(int(last), tz=UTC)


def _event(received: datetime, lines: list[_Line]) -> VesselEvent:
    ordered = sorted((line.sentence for line in lines), key=lambda s: s.frag_num)
    # Feeds put the tag block on the first fragment, or on each; take the first there is.
    tag_block = next((p.tag_block for p in ordered if p.tag_block is not None), None)
    message = NMEAMessage.assemble_from_iterable(ordered)
    try:
        decoded = message.decode()
    except AISBaseException as exc:
        raise InvalidMessage("ais_undecodable", type(exc).__name__) from None
    except Exception as exc:  # a payload too short for its type, and the like
        raise InvalidMessage("ais_undecodable", type(exc).__name__) from None
    msg_type = int(decoded.msg_type)
    if msg_type not in POSITION_TYPES and msg_type not in VOYAGE_TYPES:
        raise InvalidMessage("ais_unsupported_type", f"message type {msg_type}")
    fields: dict[str, Any] = decoded.asdict()
    mmsi = f"{int(fields['mmsi']):09d}"
    if len(mmsi) != 9:
        raise InvalidMessage("ais_invalid_mmsi", "the MMSI has more than nine digits")
    stamped = _tag_time(tag_block, received) or next((x.received for x in lines if x.received), None)
    second = fields.get("second") if msg_type in POSITION_TYPES else None
    observed = stamped or _with_second(received, second)
    report = _report(msg_type, fields, observed)
    digest = hashlib.sha256(message.payload + b"|" + observed.isoformat().encode()).hexdigest()[:32]
    try:
        return VesselEvent(
            event_id=stable_id("vessel", "ais", digest),
            source="ais",
            source_id=digest,
            occurred_at=observed,
            received_at=received,
            observed_at=observed,
            mmsi=mmsi,
            flag=flag_of(mmsi),
            **report,
        )
    except ValidationError as exc:
        raise InvalidMessage("invalid_schema", describe_validation_error(exc)) from None


def _tag_time(tag_block: TagBlock | None, received: datetime) -> datetime | None:
    """The tag block's ``c:`` time; None without one, or when it cannot be a receive time
    (before 2000 or more than a day after the message's own): some sources put a counter
    there, and the report is then timed as if it had no tag block."""
    if tag_block is None:
        return None
    try:
        tag_block.init()
        stamp = tag_block.receiver_timestamp
    except Exception:
        raise InvalidMessage("ais_invalid_tag_block", "the tag block cannot be read") from None
    if stamp is None:
        return None
    try:
        seconds = float(stamp)
        if seconds > 1e11:  # milliseconds
            seconds /= 1000
        at = datetime.fromtimestamp(seconds, tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise InvalidMessage("ais_invalid_tag_block", "the c: timestamp is not a time") from None
    return at if _EARLIEST_STAMP <= at <= received + timedelta(days=1) else None


def _with_second(received: datetime, second: object) -> datetime:
    """The receive time, moved to the second of the minute the report gives (0-59)."""
    if not isinstance(second, int) or not 0 <= second <= 59:
        return received
    at = received.replace(second=second, microsecond=0)
    return at - timedelta(minutes=1) if at > received + timedelta(seconds=1) else at


def _text(value: object, limit: int) -> str | None:
    if not isinstance(value, str):
        return None
    cleaned = value.replace("@", " ").strip()
    return cleaned[:limit] or None


def _report(msg_type: int, f: dict[str, Any], observed: datetime) -> dict[str, Any]:
    if msg_type in POSITION_TYPES:
        lat, lon = f.get("lat"), f.get("lon")
        speed, course, heading = f.get("speed"), f.get("course"), f.get("heading")
        status = f.get("status")
        return {
            "report_type": "position",
            "position": Position(lat=lat, lon=lon)
            if isinstance(lat, float | int) and isinstance(lon, float | int)
            and -90 <= lat <= 90 and -180 <= lon <= 180 else None,
            "speed_knots": speed if isinstance(speed, float | int) and 0 <= speed < _NO_SPEED[msg_type]
            else None,
            "course": course if isinstance(course, float | int) and 0 <= course < 360 else None,
            "heading": heading if isinstance(heading, int) and 0 <= heading < 360 else None,
            "nav_status": int(status) if status is not None and 0 <= int(status) <= 14 else None,
            "name": _text(f.get("shipname"), 40),
            "ship_type": _ship_type(f.get("ship_type")),
        }
    if msg_type == 24:
        return {
            "report_type": "voyage",
            "name": _text(f.get("shipname"), 40),
            "call_sign": _text(f.get("callsign"), 10),
            "ship_type": _ship_type(f.get("ship_type")),
        }
    imo = f.get("imo")
    draught = f.get("draught")
    return {
        "report_type": "voyage",
        "imo": f"{imo:07d}" if isinstance(imo, int) and imo_valid(imo) else None,
        "name": _text(f.get("shipname"), 40),
        "call_sign": _text(f.get("callsign"), 10),
        "ship_type": _ship_type(f.get("ship_type")),
        "destination": _text(f.get("destination"), 20),
        "draught_m": draught if isinstance(draught, float | int) and 0 < draught <= 25.5 else None,
        "eta": _eta(f, observed),
    }


def _ship_type(value: object) -> int | None:
    return int(value) if value is not None and 1 <= int(value) <= 99 else None  # type: ignore[call-overload]


def _eta(f: dict[str, Any], observed: datetime) -> datetime | None:
    """The next month/day/hour/minute after the report (AIS gives no year); None if unset."""
    values = [v for v in (f.get(k) for k in ("month", "day", "hour", "minute")) if isinstance(v, int)]
    if len(values) != 4:
        return None
    month, day, hour, minute = values
    if not (1 <= month <= 12 and 1 <= day <= 31 and 0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    for year in (observed.year, observed.year + 1):
        try:
            eta = datetime(year, month, day, hour, minute, tzinfo=UTC)
        except ValueError:
            return None  # 31 February and the like
        if eta >= observed - timedelta(days=1):
            return eta
    return None
