"""Each rule in rules/: a case that fires and a near miss that does not, with default config."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from engine.score.loader import load_rules
from schemas import EnrichedEvent, Finding
from schemas.codes import iso6346_valid
from tests.fixtures.events import (
    RECEIVED,
    enriched,
    freight_doc,
    passenger_doc,
    reference,
    vessel_doc,
    with_track,
)

NOW = RECEIVED - timedelta(minutes=1)


def run(rule_id: str, event: EnrichedEvent, **config: Any) -> list[Finding]:
    """Findings of one registered rule on one event, with its defaults plus ``config``."""
    spec = load_rules()[rule_id]
    return spec.evaluate(event, spec.build_config(config), "live")


def goods(**item: Any) -> list[dict[str, Any]]:
    """One goods item: the base consignment's item with some fields replaced."""
    return [{**freight_doc()["goods"][0], **item}]


def moved(minutes: float, degrees_north: float, **now: Any) -> EnrichedEvent:
    """A report ``degrees_north`` of the previous fix, observed ``minutes`` after it."""
    before = vessel_doc(NOW - timedelta(minutes=minutes), position={"lat": 50.0, "lon": -1.0})
    return with_track(
        vessel_doc(NOW, position={"lat": 50.0 + degrees_north, "lon": -1.0}, **now), [before]
    )


# --- passenger_document_expiry: scheduled arrival is 2025-03-02 ------------------------------


def test_document_expired_before_arrival_fires() -> None:
    """A passport that expired the day before the scheduled arrival is flagged with the days."""
    [hit] = run(
        "passenger_document_expiry", enriched(passenger_doc(document={"expiry": "2025-03-01"}))
    )
    assert hit.score == 0.7
    assert hit.evidence["days_expired_at_arrival"] == 1


def test_document_expiring_on_arrival_day_does_not_fire() -> None:
    """A passport still valid on the day of arrival is not flagged."""
    assert (
        run("passenger_document_expiry", enriched(passenger_doc(document={"expiry": "2025-03-02"})))
        == []
    )


def test_document_without_expiry_or_document_does_not_fire() -> None:
    """No document or no expiry date gives nothing to judge."""
    assert (
        run("passenger_document_expiry", enriched(passenger_doc(document={"expiry": None}))) == []
    )
    assert run("passenger_document_expiry", enriched(passenger_doc(document=None))) == []


def test_document_expiry_grace_days_tolerate_recent_expiry() -> None:
    """With grace_days=2 a passport expired one day before arrival is tolerated."""
    event = enriched(passenger_doc(document={"expiry": "2025-03-01"}))
    assert run("passenger_document_expiry", event, grace_days=2) == []


# --- passenger_late_cash_booking: departure 2025-03-01T18:00Z --------------------------------


def _booked(at: str, payment: str = "cash") -> EnrichedEvent:
    return enriched(passenger_doc(booking={"booked_at": at, "payment_type": payment}))


def test_cash_booking_just_under_a_day_ahead_fires() -> None:
    """A cash booking 23.5 h before departure is last-minute."""
    [hit] = run("passenger_late_cash_booking", _booked("2025-02-28T18:30:00+00:00"))
    assert hit.evidence == {"hours_before_departure": 23.5, "payment_type": "cash"}


def test_cash_booking_just_over_a_day_ahead_does_not_fire() -> None:
    """A cash booking 24.5 h before departure is not last-minute."""
    assert run("passenger_late_cash_booking", _booked("2025-02-28T17:30:00+00:00")) == []


def test_late_card_booking_does_not_fire() -> None:
    """A booking six hours ahead paid by card leaves a trace and is not flagged."""
    assert run("passenger_late_cash_booking", _booked("2025-03-01T12:00:00+00:00", "card")) == []


def test_booking_after_departure_does_not_fire() -> None:
    """A booking time after departure is bad data, not a last-minute booking."""
    assert run("passenger_late_cash_booking", _booked("2025-03-01T19:00:00+00:00")) == []


def test_late_booking_payment_types_are_configurable() -> None:
    """Adding voucher to payment_types flags a late voucher booking too."""
    event = _booked("2025-03-01T12:00:00+00:00", "voucher")
    assert run("passenger_late_cash_booking", event) == []
    assert len(run("passenger_late_cash_booking", event, payment_types=["cash", "voucher"])) == 1


# --- passenger_high_risk_route ---------------------------------------------------------------


def test_journey_through_high_risk_country_fires() -> None:
    """A journey starting in Tehran is flagged with the country score and the country named."""
    doc = passenger_doc(flight={"departure_airport": "IST"}, route=["IKA", "IST", "LHR"])
    [hit] = run("passenger_high_risk_route", enriched(doc))
    assert hit.score == 0.4
    assert hit.evidence == {"countries": "IR"}


def test_journey_ending_in_high_risk_country_does_not_fire() -> None:
    """Arriving in a listed country is not itself a risk of the journey."""
    doc = passenger_doc(
        flight={"departure_airport": "LHR", "arrival_airport": "IKA"}, route=["LHR", "IKA"]
    )
    assert run("passenger_high_risk_route", enriched(doc)) == []


def test_configured_high_risk_route_fires_with_route_score() -> None:
    """A journey on a configured route is flagged with the route score and the route named."""
    event = enriched(passenger_doc(), reference(high_risk_routes=["JFK-LHR"]))
    [hit] = run("passenger_high_risk_route", event)
    assert hit.score == 0.5
    assert "JFK-LHR" in hit.detail


def test_ordinary_journey_does_not_fire() -> None:
    """JFK to London touches no listed country and no listed route."""
    assert run("passenger_high_risk_route", enriched(passenger_doc())) == []


# --- freight_container_check_digit -----------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "CSQU3054383",
        "csqu3054383",
        "CSQU 305438 3",
        "TCNU7200794",
        "TOLU4734787",
        "GYOU4047990",
        "ZEPU0037255",
    ],
)
def test_known_valid_container_number_passes_iso6346(number: str) -> None:
    """Real numbers (CSQU3054383 is the standard's example) are valid however spaced or cased."""
    assert iso6346_valid(number)


@pytest.mark.parametrize(
    "number",
    ["CSQU3054384", "TCNU7200795", "CSQU305438", "CSQU30543833", "1SQU3054383", "CSQU3054Z83", ""],
)
def test_wrong_check_digit_or_shape_fails_iso6346(number: str) -> None:
    """A wrong check digit, a letter among the digits, or a wrong length makes a number invalid."""
    assert not iso6346_valid(number)


def test_unknown_equipment_category_fails_iso6346() -> None:
    """CSQA3054383 has a correct check digit but no container category letter (U, J, Z or R)."""
    assert not iso6346_valid("CSQA3054383")


def test_invalid_container_number_fires() -> None:
    """A consignment with one invalid container among two names the invalid one."""
    event = enriched(freight_doc(goods=goods(containers=["CSQU3054383", "CSQU3054384"])))
    [hit] = run("freight_container_check_digit", event)
    assert hit.evidence == {"invalid_containers": "CSQU3054384"}
    assert "1 of 2" in hit.detail


def test_valid_container_number_does_not_fire() -> None:
    """A consignment whose container numbers all check out is not flagged."""
    assert run("freight_container_check_digit", enriched(freight_doc())) == []


def test_consignment_without_containers_does_not_fire() -> None:
    """Loose or road freight with no container numbers gives nothing to check."""
    assert (
        run("freight_container_check_digit", enriched(freight_doc(goods=goods(containers=[]))))
        == []
    )


# --- freight_value_per_kg: tobacco (HS 24) band 2-200 USD/kg, factor 3 ----------------------


@pytest.mark.parametrize(
    ("value", "mass", "currency"),
    [(100.0, 10000.0, "EUR"), (650.0, 1000.0, "USD"), (700.0, 1.0, "USD")],
    ids=["far-under", "just-under", "over"],
)
def test_tobacco_outside_the_band_fires(value: float, mass: float, currency: str) -> None:
    """Tobacco declared below a third of 2 USD/kg, or above three times 200 USD/kg, is flagged."""
    event = enriched(
        freight_doc(
            goods=goods(hs_code="240220", value=value, gross_mass_kg=mass, currency=currency)
        )
    )
    [hit] = run("freight_value_per_kg", event)
    assert hit.evidence["hs_chapter"] == "24"


@pytest.mark.parametrize(
    ("value", "mass"), [(700.0, 1000.0), (500.0, 1.0)], ids=["just-above-low", "just-below-high"]
)
def test_tobacco_inside_the_widened_band_does_not_fire(value: float, mass: float) -> None:
    """0.7 and 500 USD/kg of tobacco lie inside the band widened by the factor."""
    event = enriched(freight_doc(goods=goods(hs_code="240220", value=value, gross_mass_kg=mass)))
    assert run("freight_value_per_kg", event) == []


def test_value_is_converted_to_usd_before_judging() -> None:
    """600 GBP/kg of tobacco is about 760 USD/kg: over the limit, though 600 USD/kg is not."""
    gbp = enriched(
        freight_doc(goods=goods(hs_code="2402", value=600.0, gross_mass_kg=1.0, currency="GBP"))
    )
    usd = enriched(
        freight_doc(goods=goods(hs_code="2402", value=600.0, gross_mass_kg=1.0, currency="USD"))
    )
    assert len(run("freight_value_per_kg", gbp)) == 1
    assert run("freight_value_per_kg", usd) == []


def test_unknown_chapter_or_currency_is_not_judged() -> None:
    """Goods of a chapter or currency without a configured band or rate are left alone."""
    live_animals = enriched(
        freight_doc(goods=goods(hs_code="0102", value=1.0, gross_mass_kg=10000.0))
    )
    francs = enriched(
        freight_doc(goods=goods(hs_code="2402", value=1.0, gross_mass_kg=10000.0, currency="CHF"))
    )
    assert run("freight_value_per_kg", live_animals) == []
    assert run("freight_value_per_kg", francs) == []


# --- vessel_implausible_speed -----------------------------------------------------------------


def test_implausible_reported_speed_fires() -> None:
    """A reported speed of 80 knots exceeds the 50-knot limit."""
    [hit] = run("vessel_implausible_speed", enriched(vessel_doc(NOW, speed_knots=80.0)))
    assert hit.evidence == {"reported_knots": 80.0}


def test_fast_but_possible_reported_speed_does_not_fire() -> None:
    """A reported 49 knots is fast but possible."""
    assert run("vessel_implausible_speed", enriched(vessel_doc(NOW, speed_knots=49.0))) == []


def test_implausible_implied_speed_fires() -> None:
    """Sixty nautical miles in half an hour (about 120 knots) is no ship's speed."""
    [hit] = run("vessel_implausible_speed", moved(minutes=30, degrees_north=1.0))
    assert hit.evidence["implied_knots"] == pytest.approx(120.0, rel=5e-3)


def test_fast_but_possible_implied_speed_does_not_fire() -> None:
    """Sixty nautical miles in 61 minutes (about 59 knots) is under the limit."""
    event = moved(minutes=61, degrees_north=1.0)
    assert event.track is not None and 58 < (event.track.implied_speed_knots or 0) < 60
    assert run("vessel_implausible_speed", event) == []


def test_reported_and_implied_speed_together_give_one_finding() -> None:
    """A report both too fast in itself and too far from its last fix is flagged once."""
    [hit] = run("vessel_implausible_speed", moved(minutes=30, degrees_north=1.0, speed_knots=80.0))
    assert "reported_knots" in hit.evidence


def test_jump_over_a_very_short_interval_is_jitter() -> None:
    """A big implied speed over less than a minute is GPS jitter, not a finding."""
    event = moved(minutes=0.5, degrees_north=0.05)
    assert event.track is not None and (event.track.implied_speed_knots or 0) > 60
    assert run("vessel_implausible_speed", event) == []


# --- vessel_ais_gap: 6 hours by default ------------------------------------------------------


def _silent_for(hours: float) -> EnrichedEvent:
    return with_track(vessel_doc(NOW), [vessel_doc(NOW - timedelta(hours=hours))])


def test_ais_gap_longer_than_configured_fires() -> None:
    """Seven hours without a report is longer than the 6-hour gap."""
    [hit] = run("vessel_ais_gap", _silent_for(7))
    assert hit.evidence == {"gap_hours": 7.0}


def test_ais_gap_shorter_than_configured_does_not_fire() -> None:
    """Five hours without a report is within the 6-hour gap."""
    assert run("vessel_ais_gap", _silent_for(5)) == []


def test_first_report_has_no_gap() -> None:
    """A vessel's first report, with no track, is not a gap."""
    assert run("vessel_ais_gap", enriched(vessel_doc(NOW))) == []
