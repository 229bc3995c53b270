"""Raw feed files in: which format a file holds, and the Kafka messages it makes.

Border data comes as files as often as on a wire: a day's PAXLST interchanges, an
AIS receiver's log, an export of declarations. ``gatehound ingest`` publishes them to
the ``raw.*`` topic of their feed and ``gatehound replay`` runs them in process;
both read them here, so both cut a file into the same messages:

========== ================== ===================================================
format     topic              one message is
========== ================== ===================================================
paxlst     raw.passenger      one EDIFACT interchange (UNA/UNB ... UNZ)
pnrgov     raw.passenger      one EDIFACT interchange
ais        raw.vessel         one AIS report: a sentence, or the fragments of a
                              multi-sentence message, with their tag block(s)
                              and the other lines of their tag-block group
declaration raw.freight       one JSON document: a whole file holding one object,
                              or one line of a JSON-lines file
events     raw.<its mode>     one line of JSON-lines normalised events
watchlist  watchlists         one FollowTheMoney entity (its list: its first
                              dataset, else the file's name); ingest only
========== ================== ===================================================

The format is found from the file's first bytes when not given: ``UNA``/``UNB``
and the message type in ``UNH`` for EDIFACT, ``!``, ``$`` or a tag block for NMEA
(after any ``#`` comment lines, as receiver logs and decoders' sample files begin),
and the keys of the first JSON document for the rest. A simulator's ``truth.jsonl`` and
``watchlist.jsonl`` (FollowTheMoney entities) are recognised as not being traffic.

Message keys follow the topics' conventions: the interchange reference for
EDIFACT, the MMSI for AIS (so one vessel's reports keep their order), the
declaration id and the source id for JSON.

In an AIS file, ``#`` comment lines are the file's, not the receiver's: they are
skipped. The fragments of a message go together by sequential id and channel, also
when a dual-channel receiver interleaves two messages' fragments; lines of one
IEC 61162-450 tag-block group (``g:1-2-17``, ``g:2-2-17``: a VDM and the VSI signal
report that goes with it) stay in one message.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import orjson

from engine.errors import GatehoundError
from engine.messages import RawMessage, edifact_message_type, looks_like_edifact

Format = Literal["paxlst", "pnrgov", "ais", "declaration", "events"]
FORMATS: tuple[Format, ...] = ("paxlst", "pnrgov", "ais", "declaration", "events")
#: Files a simulation writes beside its traffic, which are not traffic.
NOT_TRAFFIC = ("truth", "watchlist")
TOPIC_OF: dict[str, str] = {
    "paxlst": "raw.passenger",
    "pnrgov": "raw.passenger",
    "ais": "raw.vessel",
    "declaration": "raw.freight",
}
_MODES = ("passenger", "freight", "vessel")
_SNIFF = 4096
_FRAGMENTS = re.compile(rb"^!..VD[MO],(\d),(\d),(\d*),([^,]*),")
#: A tag block's group parameter: the line's number in its group, the group's lines, its id.
_TAG_GROUP = re.compile(rb"^\\(?:[^\\]*,)?g:(\d+)-(\d+)-(\w+)")
#: Lines within which an AIS message's next fragment must come, else it is cut off.
FRAGMENT_WINDOW = 50


class UnknownFormat(GatehoundError):
    """A file whose format cannot be told from its first bytes."""


@dataclass(frozen=True, slots=True)
class FileMessage:
    """One message cut from a file: where it goes, its key and its bytes."""

    topic_base: str
    key: bytes | None
    value: bytes

    def raw(self, topic_prefix: str = "") -> RawMessage:
        """As a stage reads it (no partition, offset or broker time: it came from a file)."""
        return RawMessage(value=self.value, key=self.key, topic=topic_prefix + self.topic_base)


def sniff(head: bytes) -> str | None:
    """The format of a file from its first bytes: one of FORMATS, "truth", "watchlist", or None."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    while text.startswith(b"#"):  # comment lines heading an NMEA log
        text = text.partition(b"\n")[2].lstrip(b" \t\r\n")
    if looks_like_edifact(text):
        return edifact_message_type(text)
    if text.startswith((b"!", b"\\", b"$")):
        return "ais"
    if not text.startswith(b"{"):
        return None
    first_line = text.split(b"\n", 1)[0]
    try:
        doc = orjson.loads(first_line)
    except orjson.JSONDecodeError:
        # A pretty-printed document: look for its keys in the text itself.
        doc = {k: True for k in ("declaration_id", "case_id") if f'"{k}"'.encode() in text}
    if not isinstance(doc, dict):
        return None
    if "case_id" in doc:
        return "truth"
    if "schema" in doc and "properties" in doc:  # FollowTheMoney entities: a watchlist
        return "watchlist"
    if "declaration_id" in doc and "mode" not in doc:
        return "declaration"
    if doc.get("mode") in _MODES:
        return "events"
    return None


def file_format(path: Path) -> str:
    """The format of a file, or UnknownFormat saying what was seen."""
    with path.open("rb") as fh:
        head = fh.read(_SNIFF)
    found = sniff(head)
    if found is None:
        raise UnknownFormat(
            f"{path}: cannot tell its format from its first bytes; give --format "
            f"({', '.join(FORMATS)})"
        )
    return found


def read_file(path: Path, fmt: str | None = None) -> Iterator[FileMessage]:
    """The messages of one file, in file order."""
    fmt = fmt or file_format(path)
    data = path.read_bytes()
    if fmt in ("paxlst", "pnrgov"):
        for value in split_interchanges(data):
            yield FileMessage(TOPIC_OF[fmt], _interchange_ref(value), value)
    elif fmt == "ais":
        for value in split_ais(data):
            yield FileMessage("raw.vessel", _mmsi_key(value), value)
    elif fmt == "declaration":
        for value in _json_documents(data):
            yield FileMessage("raw.freight", _json_key(value, "declaration_id"), value)
    elif fmt == "events":
        for value in _lines(data):
            yield FileMessage(_events_topic(value), _json_key(value, "source_id"), value)
    elif fmt == "watchlist":
        for value in _lines(data):
            yield FileMessage("watchlists", _json_key(value, "id"), _with_dataset(value, path.stem))
    else:
        raise UnknownFormat(f"{path}: {fmt} is not a traffic format ({', '.join(FORMATS)})")


def split_interchanges(data: bytes) -> Iterator[bytes]:
    """EDIFACT interchanges one after another (with or without newlines between segments),
    each from its UNA or UNB to the end of its UNZ segment.

    The separators come from each interchange's UNA; a released terminator (``?'``)
    does not end a segment. Text after the last UNZ, or an interchange with no UNZ,
    is yielded as it is, for the parser to refuse.
    """
    pos, size = 0, len(data)
    while pos < size:
        while pos < size and data[pos] in b" \t\r\n":
            pos += 1
        if pos >= size:
            return
        start = pos
        terminator, release = ord("'"), ord("?")
        if data.startswith(b"UNA", pos) and pos + 9 <= size:
            release, terminator = data[pos + 6], data[pos + 8]
            pos += 9
        end = _end_of_unz(data, pos, terminator, release)
        yield data[start:end].strip()
        pos = end


def _end_of_unz(data: bytes, pos: int, terminator: int, release: int) -> int:
    """Index just past the terminator of the first UNZ segment from ``pos``; or, for an
    interchange cut short, where the next one begins (a UNA or UNB segment, or a line
    starting with one); or the end of the data."""
    size = len(data)
    # This interchange's own UNB is no boundary: start after its terminator.
    i = pos
    while i < size and data[i] != terminator:
        i += 2 if data[i] == release else 1
    seg_start = i = i + 1
    while i < size:
        ch = data[i]
        if ch == release:
            i += 2
            continue
        if ch == terminator:
            if data[seg_start:i].lstrip().startswith(b"UNZ"):
                return i + 1
            seg_start = i + 1
            if data[seg_start:seg_start + 8].lstrip().startswith((b"UNA", b"UNB")):
                return seg_start
        elif ch == 10 and data.startswith((b"UNA", b"UNB+"), i + 1):
            return i + 1
        i += 1
    return size


def split_ais(data: bytes) -> Iterator[bytes]:
    """One message per AIS report: a single sentence, or all fragments of one message
    (with the lines of its tag-block group), in the order the reports begin.

    Receivers interleave the fragments of messages on channels A and B: fragments go
    together by sequential id and channel, as the parser assembles them. A fragment run
    broken off (its next fragment not within ``FRAGMENT_WINDOW`` lines, or a new run
    with the same id begun) is yielded as it is, for the parser to refuse.
    """
    slots: deque[_Slot] = deque()
    open_runs: dict[bytes, _Slot] = {}
    for number_in_file, line in enumerate(_lines(data)):
        if line.startswith(b"#"):
            continue  # a comment in the file, not a sentence
        sentence = line.rsplit(b"\\", 1)[-1] if line.startswith(b"\\") else line
        found = _FRAGMENTS.match(sentence)
        count, number = (int(found.group(1)), int(found.group(2))) if found else (1, 1)
        key = b"f:" + found.group(3) + b"," + found.group(4) if found and count > 1 else None
        tagged = _TAG_GROUP.match(line)
        if tagged:  # a tag-block group may hold more lines than the sentence has fragments
            number, count = int(tagged.group(1)), max(count, int(tagged.group(2)))
            key = b"g:" + tagged.group(3)
        if key is None:
            slots.append(_Slot([line], done=True, last=number_in_file))
        else:
            slot = open_runs.pop(key, None)
            if slot is not None and number == 1:  # a new run with the same id: the old one broke off
                slot.done, slot = True, None
            if slot is None:
                slot = _Slot([], done=False, last=number_in_file)
                slots.append(slot)
            slot.lines.append(line)
            slot.last = number_in_file
            if number >= count:
                slot.done = True
            else:
                open_runs[key] = slot
        for key, slot in list(open_runs.items()):
            if number_in_file - slot.last > FRAGMENT_WINDOW:
                slot.done = True
                del open_runs[key]
        while slots and slots[0].done:
            yield b"\n".join(slots.popleft().lines)
    for slot in slots:
        yield b"\n".join(slot.lines)


@dataclass(slots=True)
class _Slot:
    """An AIS message being cut from a file: its lines so far, whether it is complete, and
    the file line its last fragment came on."""

    lines: list[bytes]
    done: bool
    last: int


def _lines(data: bytes) -> Iterator[bytes]:
    for line in data.splitlines():
        line = line.strip()
        if line:
            yield line


def _json_documents(data: bytes) -> Iterator[bytes]:
    """A file holding one JSON document (pretty-printed or not), or JSON lines."""
    text = data.strip()
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        yield from _lines(data)  # JSON lines, or something the parser will refuse line by line
    else:
        yield text


def _interchange_ref(value: bytes) -> bytes | None:
    """The interchange control reference (UNB element 5), as the key."""
    element, terminator = b"+", b"'"
    if value.startswith(b"UNA") and len(value) >= 9:
        element, terminator = value[4:5], value[8:9]
    unb = value.find(b"UNB")
    if unb < 0:
        return None
    header = value[unb:unb + 200].split(terminator, 1)[0]
    parts = header.split(element)
    return parts[5][:35] if len(parts) > 5 and parts[5] else None


def _mmsi_key(value: bytes) -> bytes | None:
    line = value.split(b"\n", 1)[0]
    sentence = line.rsplit(b"\\", 1)[-1]
    fields = sentence.split(b",")
    if len(fields) < 6 or len(fields[5]) < 7:
        return None
    bits = "".join(f"{_six_bit(c):06b}" for c in fields[5][:7])
    return str(int(bits[8:38], 2)).zfill(9).encode()


def _six_bit(c: int) -> int:
    value = c - 48
    return value - 8 if value > 40 else value


def _json_key(value: bytes, field: str) -> bytes | None:
    try:
        doc = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    found = doc.get(field) if isinstance(doc, dict) else None
    return found.encode() if isinstance(found, str) else None


def _with_dataset(value: bytes, name: str) -> bytes:
    """An FtM entity that names no dataset gets the file's name as its list."""
    try:
        doc = orjson.loads(value)
    except orjson.JSONDecodeError:
        return value  # the worker logs and skips it
    if not isinstance(doc, dict) or doc.get("datasets"):
        return value
    return orjson.dumps({**doc, "datasets": [name]})


def _events_topic(value: bytes) -> str:
    try:
        doc = orjson.loads(value)
    except orjson.JSONDecodeError:
        doc = None
    mode = doc.get("mode") if isinstance(doc, dict) else None
    # A line of no known mode still goes somewhere, to be refused there.
    return f"raw.{mode}" if mode in _MODES else "raw.passenger"
