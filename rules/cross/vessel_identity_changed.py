"""A listed vessel sails under a new name or flag: same IMO or MMSI, another identity."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, Field

from engine.score.rule import Hit, rule
from schemas import EnrichedEvent


class Config(BaseModel):
    """How strongly a changed identity scores."""

    score: float = Field(default=0.95, ge=0, le=1)


@rule(id="cross_vessel_identity_changed", version="1", modes={"vessel"}, config=Config)
def vessel_identity_changed(event: EnrichedEvent, config: Config) -> Iterator[Hit]:
    """Listed vessel under a new name or flag.

    A ship whose IMO number or MMSI is on a watchlist (sanctions, vessels of
    interest) reports a name unlike any the list gives it, or a flag the list does
    not know: renaming and reflagging are how a sanctioned ship goes on trading.
    The listing matched on the identifier; the screening result says what changed.
    """
    for hit in event.screening:
        if hit.subject != "vessel" or not hit.changed:
            continue
        what = " and ".join(hit.changed)
        yield Hit(
            config.score,
            f"vessel listed as {hit.entity_id} on {hit.list} (matched by its number) reports a new {what}",
            {"list": hit.list, "list_version": hit.list_version, "entity_id": hit.entity_id,
             "changed": ",".join(hit.changed)},
        )
        return
