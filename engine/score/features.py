"""What models see of an event: named numbers, built in this one place.

Models never read events. They get the dict ``model_features`` makes, so the
protected-attribute guard has one function to check: it may not touch a
traveller's nationality, sex or date of birth (engine/score/model.py refuses to
load otherwise, and tests/conformance/test_models_conformance.py proves it). A
category becomes a one-hot name (``departs:LOS``); a number keeps its name. No
feature holds a personal value: airports, countries of dispatch, flag states,
HS chapters and rule ids are not about a person.

Two groups:

- *anomaly* features (``traffic_features``): numbers only, as anomaly models learn
  from every event of a mode;
- *yield* features (``model_features``): the anomaly features, the categories, and
  the live rule findings (``rule:<id>`` = its score), which the yield model weighs
  against the outcomes of interventions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from schemas import EnrichedEvent, Finding, FreightEvent, PassengerEvent, VesselEvent

Features = dict[str, float]


def _log1p(x: float) -> float:
    return round(math.log1p(max(0.0, x)), 4)


def traffic_features(enriched: EnrichedEvent) -> Features:
    """The numbers of an event that say how usual it is for its mode."""
    event = enriched.event
    if isinstance(event, PassengerEvent):
        out: Features = {"route_legs": float(max(1, len(event.route) - 1))}
        booking = event.booking
        if booking is not None:
            hours = (event.flight.scheduled_departure - booking.booked_at).total_seconds() / 3600
            out["log_hours_booked_ahead"] = _log1p(hours)
            out["party_size"] = float(1 + len(booking.co_travellers))
            out["bags"] = float(booking.bags or 0)
        if event.document is not None and event.document.expiry is not None:
            days = (event.document.expiry - event.flight.scheduled_arrival.date()).days
            out["log_document_days_left"] = _log1p(days)
        return out
    if isinstance(event, FreightEvent):
        mass = sum(g.gross_mass_kg for g in event.goods)
        value = sum(g.value for g in event.goods)
        return {
            "log_gross_mass_kg": _log1p(mass),
            "log_value": _log1p(value),
            "log_value_per_kg": _log1p(value / mass) if mass else 0.0,
            "goods_items": float(len(event.goods)),
            "routing_countries": float(len(event.routing_countries)),
        }
    assert isinstance(event, VesselEvent)
    out = {"speed_knots": float(event.speed_knots or 0.0)}
    track = enriched.track
    if track is not None and track.seconds_since_previous is not None:
        out["log_minutes_since_previous"] = _log1p(track.seconds_since_previous / 60)
    if track is not None and track.implied_speed_knots is not None:
        out["log_implied_speed_knots"] = _log1p(track.implied_speed_knots)
    return out


def model_features(enriched: EnrichedEvent, findings: Sequence[Finding]) -> Features:
    """Everything a yield model may weigh: traffic numbers, categories, live findings."""
    event = enriched.event
    out = traffic_features(enriched)
    out[f"mode:{event.mode}"] = 1.0
    for f in findings:
        if f.status == "live":
            out[f"rule:{f.rule_id}"] = max(out.get(f"rule:{f.rule_id}", 0.0), f.score)
    if isinstance(event, PassengerEvent):
        out[f"departs:{event.flight.departure_airport}"] = 1.0
        if event.route and event.route[0] != event.flight.departure_airport:
            out[f"journey_from:{event.route[0]}"] = 1.0
        if event.booking is not None:
            out[f"paid:{event.booking.payment_type or 'unknown'}"] = 1.0
            out["travelling_alone"] = float(not event.booking.co_travellers)
        out["crew"] = float(event.traveller.role == "crew")
    elif isinstance(event, FreightEvent):
        out[f"transport:{event.mode_of_transport}"] = 1.0
        out[f"dispatched_from:{event.consignor.country or 'unknown'}"] = 1.0
        for chapter in sorted({g.hs_code[:2] for g in event.goods}):
            out[f"hs_chapter:{chapter}"] = 1.0
        out["consignee_has_trader_id"] = float(bool(event.consignee.trader_id))
    else:
        assert isinstance(event, VesselEvent)
        out[f"flag:{event.flag or 'unknown'}"] = 1.0
        out[f"ship_type:{(event.ship_type or 0) // 10}x"] = 1.0
    if enriched.screening:
        out["watchlist_hits"] = float(len(enriched.screening))
    return out
