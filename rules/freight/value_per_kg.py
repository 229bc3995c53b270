"""Declared value per kilogram far outside the norm for the goods' HS chapter."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, Field

from engine.score.rule import Hit, rule
from schemas import EnrichedEvent, FreightEvent


class Band(BaseModel):
    """Plausible declared value per kg, in USD, for one HS chapter."""

    low: float = Field(gt=0)
    high: float = Field(gt=0)


def _default_bands() -> dict[str, Band]:
    # Deliberately wide, order-of-magnitude bands for a few chapters that matter to
    # customs fraud; an agency replaces them with its own trade statistics.
    raw = {
        "09": (1.0, 40.0),     # coffee, tea, spices
        "24": (2.0, 200.0),    # tobacco
        "61": (4.0, 150.0),    # knitted apparel
        "62": (4.0, 200.0),    # woven apparel
        "64": (4.0, 250.0),    # footwear
        "71": (20.0, 100000.0),  # precious stones and metals
        "84": (2.0, 2000.0),   # machinery
        "85": (3.0, 5000.0),   # electrical equipment
        "87": (2.0, 300.0),    # vehicles and parts
        "94": (1.0, 100.0),    # furniture
    }
    return {ch: Band(low=lo, high=hi) for ch, (lo, hi) in raw.items()}


class Config(BaseModel):
    """Bands per HS chapter, currency rates to USD, and how far out counts."""

    bands: dict[str, Band] = Field(default_factory=_default_bands)
    usd_per_unit: dict[str, float] = Field(
        default_factory=lambda: {"USD": 1.0, "EUR": 1.08, "GBP": 1.27, "CNY": 0.14, "JPY": 0.0067}
    )
    factor: float = Field(default=3.0, ge=1, description="How many times outside the band.")
    score: float = Field(default=0.5, ge=0, le=1)


@rule(id="freight_value_per_kg", version="1", modes={"freight"}, config=Config)
def value_per_kg(event: EnrichedEvent, config: Config) -> Iterator[Hit]:
    """Declared value per kilogram implausible for the goods.

    A goods item's declared value per kilogram lies far below or above the usual
    band for its HS chapter. Undervaluation evades duty; a value out of line with
    the goods can also mean the goods are not what the declaration says.
    """
    if not isinstance(event.event, FreightEvent):
        return
    odd = []
    for item in event.event.goods:
        band = config.bands.get(item.hs_code[:2])
        rate = config.usd_per_unit.get(item.currency)
        if band is None or rate is None:
            continue
        per_kg = item.value * rate / item.gross_mass_kg
        if per_kg < band.low / config.factor or per_kg > band.high * config.factor:
            odd.append((item.hs_code[:2], per_kg, band))
    if odd:
        chapter, per_kg, band = odd[0]
        yield Hit(
            config.score,
            f"{len(odd)} item(s) declared at an implausible value per kg; chapter {chapter} "
            f"at {per_kg:.2f} USD/kg against a usual {band.low:g}-{band.high:g}",
            {"hs_chapter": chapter, "usd_per_kg": round(per_kg, 4), "items": len(odd)},
        )
