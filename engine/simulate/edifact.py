"""Writing UN/EDIFACT (ISO 9735) interchanges: the syntax layer the simulator's PAXLST and
PNRGOV writers share.

An interchange is ``UNA`` (the service string advice: which characters separate
components, elements and segments, and which one releases them), ``UNB`` ... ``UNZ``
around one or more messages (``UNH`` ... ``UNT``), optionally inside a functional group
(``UNG`` ... ``UNE``) as PAXLST senders often do. Data characters that are also
separators are escaped with the release character.

A segment is a tag and its data elements; an element is a string, None (empty) or a
sequence of component strings (a composite). Trailing empty elements and components
are dropped, as the syntax asks.

>>> segment("NAD", "FL", None, None, ("SAMPLESON", "ALEX"))
"NAD+FL+++SAMPLESON:ALEX'"
>>> segment("FTX", "AAI", None, None, None, "O'NEIL + CO?")
"FTX+AAI++++O?'NEIL ?+ CO??'"
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

Element = str | None | Sequence[str | None]

COMPONENT, ELEMENT, DECIMAL, RELEASE, SEGMENT = ":", "+", ".", "?", "'"
UNA = f"UNA{COMPONENT}{ELEMENT}{DECIMAL}{RELEASE} {SEGMENT}"
_SPECIAL = {c: RELEASE + c for c in (RELEASE, COMPONENT, ELEMENT, SEGMENT)}


def escape(text: str) -> str:
    """A data value with every separator character released."""
    if not any(c in text for c in _SPECIAL):
        return text
    return "".join(_SPECIAL.get(c, c) for c in text)


def _element(value: Element) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return escape(value)
    parts = [escape(c) if c else "" for c in value]
    while parts and not parts[-1]:
        parts.pop()
    return COMPONENT.join(parts)


def segment(tag: str, *elements: Element) -> str:
    """One segment, terminated."""
    parts = [tag, *(_element(e) for e in elements)]
    while len(parts) > 1 and not parts[-1]:
        parts.pop()
    return ELEMENT.join(parts) + SEGMENT


@dataclass(frozen=True)
class Message:
    """One message: reference, type (e.g. ``("PAXLST", "D", "05B", "UN", "IATA")``), the
    UNH elements after the type (common access reference, status of transfer), and its
    segments between UNH and UNT."""

    reference: str
    type: tuple[str, ...]
    segments: Sequence[str]
    header_extra: Sequence[Element] = field(default=())

    def render(self) -> list[str]:
        body = [segment("UNH", self.reference, self.type, *self.header_extra), *self.segments]
        return [*body, segment("UNT", str(len(body) + 1), self.reference)]


@dataclass(frozen=True)
class Group:
    """A functional group header's parties and reference (``UNG``/``UNE``)."""

    name: str
    sender: str
    recipient: str
    reference: str


def interchange(
    messages: Sequence[Message],
    *,
    sender: str,
    recipient: str,
    prepared_at: datetime,
    reference: str,
    syntax: tuple[str, str] = ("UNOA", "4"),
    group: Group | None = None,
    with_una: bool = True,
    newlines: bool = True,
) -> bytes:
    """A whole interchange as bytes (ASCII for UNOA/UNOB, UTF-8 otherwise).

    ``newlines`` puts each segment on its own line, as many senders do; readers must
    accept both.
    """
    date, time = prepared_at.strftime("%y%m%d"), prepared_at.strftime("%H%M")
    lines = [UNA] if with_una else []
    lines.append(segment("UNB", syntax, sender, recipient, (date, time), reference))
    inner: list[str] = []
    for message in messages:
        inner += message.render()
    if group is not None:
        lines.append(
            segment("UNG", group.name, group.sender, group.recipient, (date, time), group.reference,
                    "UN", ("D", "05B"))
        )
        lines += inner
        lines.append(segment("UNE", str(len(messages)), group.reference))
    else:
        lines += inner
    lines.append(segment("UNZ", str(1 if group is not None else len(messages)), reference))
    text = ("\n" if newlines else "").join(lines) + ("\n" if newlines else "")
    encoding = "ascii" if syntax[0] in ("UNOA", "UNOB") else "utf-8"
    return text.encode(encoding, errors="replace")
