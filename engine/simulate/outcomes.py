"""Outcomes for a simulated run: what officers would have found, drawn from the truth.

For each alert of a run on simulator traffic, an ``Outcome`` as an officer would record
it: most alerts are examined; an alert on a case that hides something (every planted
case, and the share of background signals the truth marks ``contraband``: see
engine/simulate/feeds.py) mostly finds something (a seizure for goods or a vessel, an
arrest for a traveller); any other mostly finds nothing, with a small share of chance
finds. Each draw is seeded by the run's seed and the alert id, so the outcome of an
alert does not depend on which other alerts the run raised or their order: two
configurations compared on the same traffic get the same outcome for the alerts they
share.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from engine.evaluate import case_targets, cases_hit
from schemas import Alert
from schemas.outcome import Outcome, Seizure


@dataclass(frozen=True)
class OutcomeRates:
    """How likely each result is (shares, 0-1)."""

    examined: float = 0.9
    find_when_case: float = 0.85
    find_by_chance: float = 0.03


def hides_something(truth: list[dict[str, Any]], by_target: dict[str, list[int]], alert: Alert) -> bool:
    """Whether any case the alert detects hides something (a truth line without
    ``contraband`` is a planted case: it does)."""
    return any(truth[i].get("contraband", True) for i in cases_hit(by_target, alert.event_id, alert.key))


def draw_outcome(alert: Alert, hidden: bool, at: datetime, seed: int, rates: OutcomeRates) -> Outcome:
    """One alert's outcome, recorded 2 to 48 hours after ``at``; ``hidden``: whether its
    case hides something."""
    rng = random.Random(f"{seed}:{alert.alert_id}")
    recorded_at = at + timedelta(hours=rng.uniform(2, 48))
    officer = f"sim-officer-{rng.randrange(1, 25):02d}"
    if rng.random() >= rates.examined:
        result = "not_examined"
    else:
        found = rng.random() < (rates.find_when_case if hidden else rates.find_by_chance)
        result = ("arrest" if alert.mode == "passenger" else "seizure") if found else "nothing_found"
    seizures = (Seizure(goods="simulated goods", quantity=round(rng.uniform(1, 500), 1), unit="kg"),) if (
        result == "seizure") else ()
    return Outcome(alert_id=alert.alert_id, result=result, recorded_at=recorded_at,  # type: ignore[arg-type]
                   recorded_by=officer, seizures=seizures, notes="simulated")


def simulate_outcomes(
    alerts: Iterable[Alert], truth: list[dict[str, Any]], seed: int = 1, rates: OutcomeRates | None = None
) -> list[Outcome]:
    """One outcome per alert (by id, once), in alert-id order, recorded after the alert was raised."""
    rates = rates or OutcomeRates()
    by_target = case_targets(truth)
    seen: dict[str, Alert] = {}
    for alert in alerts:
        seen.setdefault(alert.alert_id, alert)
    return [draw_outcome(alert, hides_something(truth, by_target, alert), alert.raised_at, seed, rates)
            for _, alert in sorted(seen.items())]
