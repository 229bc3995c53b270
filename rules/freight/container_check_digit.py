"""Container number failing the ISO 6346 check digit."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, Field

from engine.score.rule import Hit, rule
from schemas import EnrichedEvent, FreightEvent
from schemas.codes import iso6346_valid


class Config(BaseModel):
    """Score for a consignment with at least one invalid container number."""

    score: float = Field(default=0.6, ge=0, le=1)


@rule(id="freight_container_check_digit", version="1", modes={"freight"}, config=Config)
def container_check_digit(event: EnrichedEvent, config: Config) -> Iterator[Hit]:
    """Container number is not a valid ISO 6346 number.

    Every real container number carries a check digit. A number that fails it was
    mistyped or made up; made-up numbers hide which container really carries the goods.
    """
    if not isinstance(event.event, FreightEvent):
        return
    numbers = [c for item in event.event.goods for c in item.containers]
    bad = [c for c in numbers if not iso6346_valid(c)]
    if bad:
        yield Hit(
            config.score,
            f"{len(bad)} of {len(numbers)} container number(s) fail the ISO 6346 check",
            {"invalid_containers": ",".join(bad[:10])},
        )
