"""AIS silence longer than a configured gap."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, Field

from engine.score.rule import Hit, rule
from schemas import EnrichedEvent, VesselEvent


class Config(BaseModel):
    """How long a silence counts as going dark, and the score for it."""

    gap_hours: float = Field(default=6.0, gt=0)
    score: float = Field(default=0.5, ge=0, le=1)


@rule(id="vessel_ais_gap", version="1", modes={"vessel"}, config=Config)
def ais_gap(event: EnrichedEvent, config: Config) -> Iterator[Hit]:
    """Vessel went dark.

    The vessel reappears after broadcasting nothing on AIS for longer than the
    configured gap. Switching AIS off hides meetings at sea and unreported port
    calls. The gap is measured from the vessel's previous report, kept in the
    scoring stage's state.
    """
    if not isinstance(event.event, VesselEvent) or event.track is None:
        return
    gap = event.track.seconds_since_previous
    if gap is not None and gap > config.gap_hours * 3600:
        yield Hit(
            config.score,
            f"no AIS report for {gap / 3600:.1f} h before this one",
            {"gap_hours": round(gap / 3600, 2)},
        )
