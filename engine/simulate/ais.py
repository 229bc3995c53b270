"""Writing AIS: a ``VesselEvent`` as NMEA 0183 ``!AIVDM`` sentences behind a tag block.

The inverse of engine/normalise/ais.py, for the simulator and the tests. pyais encodes
the six-bit payload and the sentence checksum; a position report becomes a class A
position report (type 1), a voyage report becomes static and voyage data (type 5,
two sentences). The IEC 61162-450 tag block carries the receiving station and the
time of reception (``c:``, Unix seconds), which the parser uses as the report time.
"""

from __future__ import annotations

from functools import reduce
from typing import Any

from pyais import encode_dict

from schemas import VesselEvent


def tag_block(station: str, unix_seconds: int) -> str:
    r"""``\s:station,c:seconds*hh\``: the checksum is the XOR of the characters between
    the backslash and the asterisk.

    >>> tag_block("r1", 1780000000)
    '\\s:r1,c:1780000000*71\\'
    """
    body = f"s:{station},c:{unix_seconds}"
    checksum = reduce(lambda acc, ch: acc ^ ord(ch), body, 0)
    return f"\\{body}*{checksum:02X}\\"


def ais_sentences(event: VesselEvent, *, station: str = "sim", seq_id: int = 0) -> list[str]:
    """The sentences of one report, the tag block on the first; ``seq_id`` (0-9) tells the
    fragments of one multi-sentence message from another's on the same channel."""
    fields: dict[str, Any] = {"mmsi": int(event.mmsi)}
    if event.report_type == "position":
        fields.update(type=1, second=event.observed_at.second)
        if event.position is not None:
            fields.update(lat=event.position.lat, lon=event.position.lon)
        else:
            fields.update(lat=91.0, lon=181.0)  # "not available"
        fields.update(
            speed=event.speed_knots if event.speed_knots is not None else 102.3,
            course=event.course if event.course is not None else 360.0,
            heading=event.heading if event.heading is not None else 511,
            status=event.nav_status if event.nav_status is not None else 15,
        )
    else:
        fields.update(
            type=5,
            imo=int(event.imo) if event.imo else 0,
            shipname=event.name or "",
            callsign=event.call_sign or "",
            ship_type=event.ship_type or 0,
            destination=event.destination or "",
            draught=event.draught_m or 0.0,
        )
        if event.eta is not None:
            fields.update(month=event.eta.month, day=event.eta.day,
                          hour=event.eta.hour, minute=event.eta.minute)
    sentences = encode_dict(fields, talker_id="AI", sentence_type="VDM", radio_channel="A", seq_id=seq_id)
    prefix = tag_block(station, int(event.observed_at.timestamp()))
    return [prefix + sentences[0], *sentences[1:]]
