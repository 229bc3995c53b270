"""An event one link from a flagged event of another mode (network features)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from engine.link.rule import network_rule
from schemas.link import NetworkFeatures


class Config(BaseModel):
    """How strongly such a link scores."""

    score: float = Field(default=0.6, ge=0, le=1)


@network_rule(id="cross_flagged_across_modes", version="1", config=Config)
def flagged_across_modes(features: NetworkFeatures, config: Config) -> tuple[float, str] | None:
    """Linked to a flagged event of another mode.

    The event shares an entity (a person, a document, a trader, a phone, an email, an
    address, a card, a vessel, a vehicle, a container) with an event of another
    transport mode that raised an alert of its own: the traveller whose phone is a
    flagged consignee's, the consignment carried by a flagged vessel. A vessel is not
    alerted for a consignment it carries: goods misdeclared by a trader say nothing of
    the ship. The features on the alert say how large the network is and how many
    modes it spans.
    """
    others = [m for m in features.flagged_neighbour_modes if m != features.mode]
    if features.flagged_distance != 1 or not others or features.mode == "vessel":
        return None
    return (
        config.score,
        f"shares an entity with a flagged {' and '.join(others)} event; {features.component_size} event(s) "
        f"within two links across {len(features.modes)} mode(s)",
    )
