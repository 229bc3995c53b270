"""A traveller shares a phone, an email or an address with a flagged consignment's trader."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from pydantic import BaseModel, Field

from engine.link.rule import Network, link_rule
from schemas.link import IdentifierKind, LinkMember


class Config(BaseModel):
    """How close in time the journey and the consignment must be."""

    window_days: float = Field(default=7.0, gt=0)
    score: float = Field(default=0.75, ge=0, le=1)


@link_rule(id="cross_traveller_flagged_trader", version="1", kinds={"phone", "email", "address"},
           config=Config)
def traveller_flagged_trader(
    kind: IdentifierKind, members: Sequence[LinkMember], config: Config
) -> Network | None:
    """Traveller linked to the trader of a flagged consignment.

    A traveller's booking gives the same phone, email or address as the consignee,
    consignor or notify party of a consignment that raised an alert, within days of
    each other. A courier travelling to meet goods, or a trader's people travelling
    with them, shows up as this link across the two modes.
    """
    window = timedelta(days=config.window_days)
    trips = [m for m in members if m.role == "booking"]
    flagged = [m for m in members if m.mode == "freight" and m.flagged]
    pairs = [(t, f) for t in trips for f in flagged if abs(t.occurred_at - f.occurred_at) <= window]
    if not pairs:
        return None
    traveller, goods = max(pairs, key=lambda p: (p[0].occurred_at, p[0].event_id))
    return Network(
        score=config.score,
        detail=f"a traveller's booking and the {goods.role.replace('_', ' ')} of a flagged consignment "
        f"share a {kind}, {abs(traveller.occurred_at - goods.occurred_at).days} day(s) apart",
        events=(traveller.event_id, goods.event_id),
        subject=traveller,
    )
