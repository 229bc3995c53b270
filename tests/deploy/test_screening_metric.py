"""The screening time the dashboard plots (gatehound_screening_duration_seconds) is observed
once per enrich batch that is screened, and not at all when there is nothing to screen
against."""

from __future__ import annotations

from prometheus_client import REGISTRY

from engine.enrich.stage import enrich_batch
from engine.screen import Screener
from tests.fixtures.events import normalised, passenger_doc, reference, wanted_list

COUNT = "gatehound_screening_duration_seconds_count"
TOTAL = "gatehound_screening_duration_seconds_sum"


def observed() -> tuple[float, float]:
    """(batches observed, seconds observed) so far in this process."""
    return REGISTRY.get_sample_value(COUNT) or 0.0, REGISTRY.get_sample_value(TOTAL) or 0.0


def test_a_screened_batch_is_observed_once() -> None:
    """Three events screened in one batch add one observation, of some time."""
    events = [normalised(passenger_doc(source_id=f"pax-metric-{n}")) for n in range(3)]
    before = observed()
    enriched = enrich_batch(events, reference(), wanted_list())
    after = observed()
    assert len(enriched) == 3
    assert after[0] - before[0] == 1
    assert after[1] > before[1]


def test_nothing_is_observed_without_lists_or_events() -> None:
    """No screener, an empty screener, or an empty batch: no observation."""
    events = [normalised(passenger_doc(source_id="pax-metric-none"))]
    before = observed()
    enrich_batch(events, reference(), None)
    enrich_batch(events, reference(), Screener([]))
    enrich_batch([], reference(), wanted_list())
    assert observed() == before
