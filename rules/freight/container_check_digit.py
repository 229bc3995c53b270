"""Container number failing the ISO 6346 check digit."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import BaseModel, Field

from engine.score.rule import Hit, rule
from schemas import EnrichedEvent, FreightEvent

_FORMAT = re.compile(r"^[A-Z]{3}[UJZR]\d{7}$")


def _letter_values() -> dict[str, int]:
    # ISO 6346: A=10 upwards, skipping multiples of 11 (11, 22, 33).
    values, n = {}, 10
    for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        if n % 11 == 0:
            n += 1
        values[letter] = n
        n += 1
    return values


_VALUES = _letter_values()


def iso6346_valid(number: str) -> bool:
    """True when a container number has the ISO 6346 shape and a correct check digit."""
    number = number.replace(" ", "").upper()
    if not _FORMAT.match(number):
        return False
    total = sum(
        (_VALUES[ch] if ch.isalpha() else int(ch)) * (2**i) for i, ch in enumerate(number[:10])
    )
    return bool(total % 11 % 10 == int(number[10]))


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
