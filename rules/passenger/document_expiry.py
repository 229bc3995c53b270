"""Travel document expired, or expiring before the traveller arrives."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, Field

from engine.score.rule import Hit, rule
from schemas import EnrichedEvent, PassengerEvent


class Config(BaseModel):
    """Scores for a document that is no longer valid on arrival."""

    expired_score: float = Field(default=0.7, ge=0, le=1)
    grace_days: int = Field(default=0, ge=0, description="Days after expiry still tolerated.")


@rule(id="passenger_document_expiry", version="1", modes={"passenger"}, config=Config)
def document_expiry(event: EnrichedEvent, config: Config) -> Iterator[Hit]:
    """Travel document not valid on arrival.

    The document the traveller reported expires before the scheduled arrival of
    the flight. Genuine travellers rarely fly on an expired document; it can
    point to a fraudulently obtained or borrowed identity.
    """
    pax = event.event
    if not isinstance(pax, PassengerEvent) or pax.document is None or pax.document.expiry is None:
        return
    arrival = pax.flight.scheduled_arrival.date()
    days = (arrival - pax.document.expiry).days
    if days > config.grace_days:
        yield Hit(
            config.expired_score,
            f"document expired {days} day(s) before the scheduled arrival",
            {"days_expired_at_arrival": days, "document_type": pax.document.type},
        )
