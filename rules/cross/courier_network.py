"""Several bookings on one route within days share a phone, an email or a card."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from pydantic import BaseModel, Field

from engine.link.rule import Network, link_rule
from schemas.link import IdentifierKind, LinkMember


class Config(BaseModel):
    """How many bookings, within how many days, make a network."""

    min_bookings: int = Field(default=3, ge=2)
    window_days: float = Field(default=7.0, gt=0)
    score: float = Field(default=0.8, ge=0, le=1)


@link_rule(id="cross_courier_network", version="1", kinds={"phone", "email", "card"}, config=Config)
def courier_network(kind: IdentifierKind, members: Sequence[LinkMember], config: Config) -> Network | None:
    """Travellers on separate bookings share contact or payment details.

    Several bookings on the same route, made and flown within days of each other,
    give the same phone, email or payment card. Organisers of couriers book many
    travellers with their own contact details or card; unrelated travellers do not
    share them.
    """
    window = timedelta(days=config.window_days)
    by_route: dict[str, list[LinkMember]] = {}
    for m in members:  # oldest first
        if m.role == "booking" and m.route is not None:
            by_route.setdefault(m.route, []).append(m)
    for route, uses in sorted(by_route.items()):
        for end, last in enumerate(uses):
            recent = [m for m in uses[: end + 1] if last.occurred_at - m.occurred_at <= window]
            bookings = {m.holder for m in recent}
            if len(bookings) < config.min_bookings:
                continue
            days = (last.occurred_at - recent[0].occurred_at).total_seconds() / 86400
            return Network(
                score=config.score,
                detail=f"{len(bookings)} separate bookings on {route} within {days:.1f} days share a {kind}",
                events=tuple(dict.fromkeys(m.event_id for m in recent)),
                # The earliest of them: the one least likely to change with arrival order.
                subject=recent[0],
                scope=route,
            )
    return None
