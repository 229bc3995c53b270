"""Where a replay's outcomes come from, and when each becomes known.

A live engine learns an outcome when an officer records it, hours after the alert.
A replay has to pace outcomes the same way against the traffic's own clock (the
events' times), so that each alert is scored before anything learned from its own
outcome or later ones:

- ``RecordedOutcomes``: outcomes from a file; each is known from its ``recorded_at``;
- ``SimulatedOutcomes``: drawn per alert from a simulation's truth as the alert is
  raised (the same draw ``gatehound simulate-outcomes`` makes), known the drawn delay
  after the alert's event.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

from engine.evaluate import case_targets
from engine.simulate.outcomes import OutcomeRates, draw_outcome, hides_something
from schemas import Alert, Outcome


class OutcomeSource(Protocol):
    """Outcomes as a replay meets them."""

    def alerted(self, alert: Alert, at: datetime) -> None:
        """An alert was raised by an event of time ``at``."""

    def due(self, now: datetime) -> list[Outcome]:
        """Outcomes known by ``now`` and not given before, in the order they became known."""


class _Queue:
    def __init__(self) -> None:
        self._heap: list[tuple[datetime, str, Outcome]] = []

    def push(self, at: datetime, outcome: Outcome) -> None:
        heapq.heappush(self._heap, (at, outcome.alert_id, outcome))

    def due(self, now: datetime) -> list[Outcome]:
        out = []
        while self._heap and self._heap[0][0] <= now:
            out.append(heapq.heappop(self._heap)[2])
        return out


class RecordedOutcomes(_Queue):
    """Outcomes from a file, each known from when it was recorded."""

    def __init__(self, outcomes: Iterable[Outcome]) -> None:
        super().__init__()
        for o in outcomes:
            self.push(o.recorded_at, o)

    def alerted(self, alert: Alert, at: datetime) -> None:
        """Recorded outcomes do not depend on the alerts."""


class SimulatedOutcomes(_Queue):
    """An outcome drawn for each alert from the truth, known its delay after the event."""

    def __init__(
        self, truth: Sequence[dict[str, Any]], seed: int = 1, rates: OutcomeRates | None = None
    ) -> None:
        super().__init__()
        self.truth = list(truth)
        self.by_target = case_targets(self.truth)
        self.seed = seed
        self.rates = rates or OutcomeRates()
        self.drawn: dict[str, Outcome] = {}

    def alerted(self, alert: Alert, at: datetime) -> None:
        """Draw the alert's outcome (once per alert id)."""
        if alert.alert_id in self.drawn:
            return
        outcome = draw_outcome(alert, hides_something(self.truth, self.by_target, alert), at, self.seed,
                               self.rates)
        self.drawn[alert.alert_id] = outcome
        self.push(outcome.recorded_at, outcome)
