"""Alert priority: severity weighted by how soon the arrival is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.alert.priority import UNKNOWN_URGENCY, arrival_of, priority, urgency
from engine.pipeline import Pipeline
from engine.settings import Settings
from tests.fixtures.events import freight_doc, normalised, passenger_doc, raw_message, vessel_doc

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("hours", "expected"), [(-3, 1.0), (0.5, 1.0), (1, 1.0), (7, 0.5), (73, 6 / 78)])
def test_urgency_halves_six_hours_after_the_last_hour(hours: float, expected: float) -> None:
    assert urgency(NOW + timedelta(hours=hours), NOW) == pytest.approx(expected)


def test_an_unknown_arrival_counts_as_some_way_off() -> None:
    assert urgency(None, NOW) == UNKNOWN_URGENCY


def test_a_flight_landing_soon_comes_before_goods_due_in_three_days() -> None:
    """A medium alert 40 minutes out ranks above a high one three days out; at the same
    distance, severity decides."""
    soon = priority("medium", NOW + timedelta(minutes=40), NOW)
    later = priority("high", NOW + timedelta(days=3), NOW)
    assert soon > later
    assert priority("high", NOW, NOW) > priority("medium", NOW, NOW) > priority("low", NOW, NOW)
    assert 0 <= later <= soon <= 100


def test_the_arrival_of_each_mode() -> None:
    pax = normalised(passenger_doc())
    assert arrival_of(pax) == datetime(2025, 3, 2, 6, 0, tzinfo=UTC)
    goods = normalised(freight_doc())
    assert arrival_of(goods) == datetime(2025, 3, 20, 12, 0, tzinfo=UTC)
    assert arrival_of(normalised(vessel_doc())) is None


def test_alerts_carry_their_arrival_and_priority() -> None:
    """Scored in the pipeline: a risky traveller's alert names the flight's arrival and a
    priority from it."""
    doc = passenger_doc(source_id="pax-risky", document={"expiry": "2025-02-01"},
                        booking={"booked_at": "2025-03-01T12:00:00+00:00", "payment_type": "cash"})
    [alert] = Pipeline(Settings()).run([raw_message(doc)]).alerts
    assert alert.arrives_at == datetime(2025, 3, 2, 6, 0, tzinfo=UTC)
    assert alert.priority == priority(alert.severity, alert.arrives_at, alert.raised_at) > 0
