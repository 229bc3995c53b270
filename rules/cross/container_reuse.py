"""One container number on consignments carried by different means at the same time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from pydantic import BaseModel, Field

from engine.link.rule import Network, link_rule
from schemas.link import IdentifierKind, LinkMember


class Config(BaseModel):
    """How close the arrivals must be for the two uses to be impossible together."""

    window_days: float = Field(default=14.0, gt=0)
    score: float = Field(default=0.6, ge=0, le=1)


@link_rule(id="cross_container_reuse", version="1", kinds={"container"}, config=Config)
def container_reuse(kind: IdentifierKind, members: Sequence[LinkMember], config: Config) -> Network | None:
    """Container number declared twice at once.

    The same container number is declared on two consignments carried by different
    vessels (or flights, or vehicles), expected within days of each other. A container
    is in one place at a time: one of the declarations names a box that is not
    carrying its goods, which hides what really is.
    """
    window = timedelta(days=config.window_days)
    goods = [m for m in members if m.role == "goods" and m.carrier]
    for i, later in enumerate(goods):
        for earlier in goods[:i]:
            if (earlier.holder != later.holder and earlier.carrier != later.carrier
                    and later.occurred_at - earlier.occurred_at <= window):
                days = (later.occurred_at - earlier.occurred_at).total_seconds() / 86400
                return Network(
                    score=config.score,
                    detail=f"one container number on 2 consignments on different carriers, "
                    f"expected {days:.1f} days apart",
                    events=(earlier.event_id, later.event_id),
                    subject=later,
                )
    return None
