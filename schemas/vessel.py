"""VesselEvent: one AIS-derived report about a vessel."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from schemas.common import Record


class Position(Record):
    """WGS 84 position."""

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class VesselEvent(Record):
    """A position report or a static/voyage data report from AIS."""

    mode: Literal["vessel"] = "vessel"
    event_id: str = Field(min_length=1, max_length=100)
    source: str = Field(max_length=20)
    source_id: str = Field(max_length=200)
    occurred_at: AwareDatetime = Field(description="Same as observed_at for AIS.")
    received_at: AwareDatetime
    report_type: Literal["position", "voyage"]
    mmsi: str = Field(pattern=r"^[0-9]{9}$")
    imo: str | None = Field(default=None, pattern=r"^[0-9]{7}$")
    name: str | None = Field(default=None, max_length=40)
    call_sign: str | None = Field(default=None, max_length=10)
    flag: str | None = Field(default=None, pattern=r"^[A-Z]{2}$", description="Flag state, ISO alpha-2.")
    ship_type: int | None = Field(default=None, ge=0, le=99)
    position: Position | None = None
    speed_knots: float | None = Field(default=None, ge=0, le=102.3)
    course: float | None = Field(default=None, ge=0, lt=360)
    heading: int | None = Field(default=None, ge=0, lt=360)
    nav_status: int | None = Field(default=None, ge=0, le=15)
    destination: str | None = Field(default=None, max_length=20)
    eta: AwareDatetime | None = None
    draught_m: float | None = Field(default=None, ge=0, le=25.5)
    observed_at: AwareDatetime
