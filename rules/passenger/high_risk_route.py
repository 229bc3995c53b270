"""Travel from or through a high-risk country, or along a high-risk route."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, Field

from engine.score.rule import Hit, rule
from schemas import EnrichedEvent, PassengerEvent


class Config(BaseModel):
    """Scores for a country on the list and for a listed route."""

    country_score: float = Field(default=0.4, ge=0, le=1)
    route_score: float = Field(default=0.5, ge=0, le=1)


@rule(id="passenger_high_risk_route", version="1", modes={"passenger"}, config=Config)
def high_risk_route(event: EnrichedEvent, config: Config) -> Iterator[Hit]:
    """Journey from or through a high-risk origin.

    The itinerary starts in or passes through a country on the configured
    high-risk list, or follows a configured high-risk route. The lists are
    reference data (engine settings), not this rule's code.
    """
    if not isinstance(event.event, PassengerEvent):
        return
    ref = event.reference
    # The destination is where the traveller is met by us, not a risk factor.
    upstream = [c for c in ref.high_risk_countries if c != ref.arrival_country]
    if ref.high_risk_routes:
        yield Hit(
            config.route_score,
            f"itinerary follows high-risk route(s) {', '.join(ref.high_risk_routes)}",
            {"routes": ",".join(ref.high_risk_routes)},
        )
    elif upstream:
        yield Hit(
            config.country_score,
            f"itinerary starts in or passes through {', '.join(upstream)}",
            {"countries": ",".join(upstream)},
        )
