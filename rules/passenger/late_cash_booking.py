"""Booked at the last minute and paid in cash."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, Field

from engine.score.rule import Hit, rule
from schemas import EnrichedEvent, PassengerEvent


class Config(BaseModel):
    """How late counts as last-minute, and which payments count as untraceable."""

    max_hours: float = Field(default=24.0, gt=0)
    payment_types: list[str] = Field(default_factory=lambda: ["cash"])
    score: float = Field(default=0.55, ge=0, le=1)


@rule(id="passenger_late_cash_booking", version="1", modes={"passenger"}, config=Config)
def late_cash_booking(event: EnrichedEvent, config: Config) -> Iterator[Hit]:
    """Last-minute booking paid in cash.

    The booking was made less than a configured number of hours before departure
    and paid in cash. Couriers are often booked late by organisers and paid in
    cash so the payment leaves no trace to them.
    """
    pax = event.event
    if not isinstance(pax, PassengerEvent) or pax.booking is None:
        return
    if pax.booking.payment_type not in config.payment_types:
        return
    hours = (pax.flight.scheduled_departure - pax.booking.booked_at).total_seconds() / 3600
    if 0 <= hours < config.max_hours:
        yield Hit(
            config.score,
            f"booked {hours:.1f} h before departure and paid {pax.booking.payment_type}",
            {"hours_before_departure": round(hours, 2), "payment_type": pax.booking.payment_type},
        )
