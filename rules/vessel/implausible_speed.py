"""Vessel reporting a speed, or jumping a distance, no ship can do."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, Field

from engine.score.rule import Hit, rule
from schemas import EnrichedEvent, VesselEvent


class Config(BaseModel):
    """Speed limits in knots for a reported and an implied speed."""

    max_reported_knots: float = Field(default=50.0, gt=0)
    max_implied_knots: float = Field(default=60.0, gt=0)
    min_gap_seconds: float = Field(
        default=60.0, ge=0, description="Ignore jumps over shorter intervals (GPS jitter)."
    )
    score: float = Field(default=0.6, ge=0, le=1)


@rule(id="vessel_implausible_speed", version="1", modes={"vessel"}, config=Config)
def implausible_speed(event: EnrichedEvent, config: Config) -> Iterator[Hit]:
    """Implausible vessel speed.

    The vessel reports a speed over ground no merchant ship reaches, or its
    position moved further since its last report than any ship could. Both are
    signs of AIS spoofing or an identity shared between two transmitters.
    """
    vessel = event.event
    if not isinstance(vessel, VesselEvent):
        return
    if vessel.speed_knots is not None and vessel.speed_knots > config.max_reported_knots:
        yield Hit(
            config.score,
            f"reported speed {vessel.speed_knots:.1f} kn exceeds {config.max_reported_knots:g} kn",
            {"reported_knots": vessel.speed_knots},
        )
        return
    track = event.track
    if track is None or track.implied_speed_knots is None:
        return
    if (track.seconds_since_previous or 0) < config.min_gap_seconds:
        return
    if track.implied_speed_knots > config.max_implied_knots:
        yield Hit(
            config.score,
            f"moved at an implied {track.implied_speed_knots:.0f} kn since the previous fix",
            {"implied_knots": track.implied_speed_knots},
        )
