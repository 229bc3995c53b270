"""All stages in one process, no broker: what ``gatehound replay`` and tests run.

The Faust agents call exactly these stage functions, one hop per topic; here the
hops are plain function calls. Same input, same alerts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from engine.alert import build_alerts
from engine.enrich import ReferenceData, enrich_batch
from engine.messages import RawMessage
from engine.normalise import normalise_batch
from engine.score.stage import Scorer
from engine.score.track import TrackState
from engine.settings import Settings
from schemas import Alert, DeadLetter, Score


@dataclass
class PipelineResult:
    """Everything a run produced, in input order."""

    scores: list[Score] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    deadletters: list[DeadLetter] = field(default_factory=list)

    def extend(self, other: PipelineResult) -> None:
        """Append another batch's output."""
        self.scores.extend(other.scores)
        self.alerts.extend(other.alerts)
        self.deadletters.extend(other.deadletters)


class Pipeline:
    """normalise -> enrich -> score -> alert, in process, with in-memory track state."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.reference = ReferenceData(self.settings.reference)
        self.scorer = Scorer(self.settings)
        self.titles = {a.spec.id: a.spec.title for rules in self.scorer.by_mode.values() for a in rules}
        self.tracks: dict[str, TrackState] = {}

    def run_batch(self, messages: Sequence[RawMessage]) -> PipelineResult:
        """Push one batch of raw messages through every stage."""
        normalised = normalise_batch(messages, self.settings.worker.max_message_bytes)
        enriched = enrich_batch(normalised.events, self.reference)
        scored = self.scorer.score_batch(enriched, self.tracks)
        self.tracks.update(scored.track_updates)
        return PipelineResult(
            scores=scored.scores,
            alerts=build_alerts(scored.scores, self.titles),
            deadletters=normalised.deadletters,
        )

    def run(self, messages: Iterable[RawMessage], batch_size: int = 500) -> PipelineResult:
        """Push a whole stream through, batch by batch."""
        total = PipelineResult()
        batch: list[RawMessage] = []
        for raw in messages:
            batch.append(raw)
            if len(batch) >= batch_size:
                total.extend(self.run_batch(batch))
                batch = []
        if batch:
            total.extend(self.run_batch(batch))
        return total
