"""A person, company or vessel of the event matches a watchlist entry."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, Field

from engine.score.rule import Hit, rule
from schemas import EnrichedEvent


class Config(BaseModel):
    """How a watchlist match scores, by the list it is on."""

    weight: float = Field(default=1.0, ge=0, le=1, description="Finding score = best match score × this.")
    list_weights: dict[str, float] = Field(
        default_factory=dict,
        description="Per list name, a weight replacing `weight` (e.g. lower for lost documents).",
    )


@rule(id="cross_watchlist_match", version="1", modes={"passenger", "freight", "vessel"}, config=Config)
def watchlist_match(event: EnrichedEvent, config: Config) -> Iterator[Hit]:
    """Matches a watchlist entry.

    The traveller, a trader named on the declaration, or the vessel matched an
    entry of a watchlist (sanctions, wanted persons, lost or stolen documents,
    vessels of interest) well enough to be reported: by name (allowing for
    transliteration, order, typos and sound-alikes) corroborated by date of birth,
    nationality or document, or by an exact identifier (document, IMO, MMSI). The
    screening result on the enriched event says which parts matched and how.
    """
    if not event.screening:
        return
    best = max(event.screening, key=lambda h: h.score * config.list_weights.get(h.list, config.weight))
    score = best.score * config.list_weights.get(best.list, config.weight)
    others = len(event.screening) - 1
    yield Hit(
        round(min(1.0, score), 4),
        f"{best.subject.replace('_', ' ')} matches {best.entity_schema} {best.entity_id} on list "
        f"{best.list} (match score {best.score:.2f})" + (f"; {others} more match(es)" if others else ""),
        {"list": best.list, "list_version": best.list_version, "entity_id": best.entity_id,
         "subject": best.subject, "match_score": best.score, "matches": len(event.screening)},
    )
