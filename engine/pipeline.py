"""All stages in one process, no broker: what ``gatehound replay`` and tests run.

It runs the very hops the workers run (engine/flow/hops.py), including the
serialisation between them, so the same input gives the same alerts; only the
transport differs: a list instead of a topic.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from engine.feedback.learner import Learner
from engine.feedback.outcomes import OutcomeSource
from engine.flow.hops import DecideHop, Normalised, NormaliseHop
from engine.keys import entity_key
from engine.link.features import NetworkHop
from engine.link.hop import LinkHop
from engine.messages import RawMessage
from engine.settings import Settings
from schemas import Alert, DeadLetter, Finding, Score
from schemas.link import NetworkFeatures


@dataclass
class PipelineResult:
    """Everything a run produced, in input order."""

    scores: list[Score] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    deadletters: list[DeadLetter] = field(default_factory=list)
    #: The links topic's records (Link JSON), when the pipeline was asked to keep them.
    links: list[bytes] = field(default_factory=list)
    #: Network features as the network hop sent them (an event's last is its current).
    features: list[NetworkFeatures] = field(default_factory=list)

    def extend(self, other: PipelineResult) -> None:
        """Append another batch's output."""
        self.scores.extend(other.scores)
        self.alerts.extend(other.alerts)
        self.deadletters.extend(other.deadletters)
        self.links.extend(other.links)
        self.features.extend(other.features)

    def findings(self) -> Iterator[tuple[Finding, Score | Alert]]:
        """Every rule finding of the run with what carries it: an event rule's (live and
        shadow) on its score record, a link or network rule's on its alert."""
        for s in self.scores:
            for f in s.findings:
                yield f, s
        for a in self.alerts:
            if a.key.startswith(("link:", "network:")):
                for f in a.findings:
                    yield f, a

    def final_features(self) -> dict[str, NetworkFeatures]:
        """Each event's current network features."""
        return {f.event_id: f for f in self.features}


class Pipeline:
    """normalise hop -> decide hop -> link hop <-> network hop, in process, with their
    state in memory; with ``outcomes``, a learner that teaches the yield models as the
    traffic's clock reaches each outcome (engine/feedback/)."""

    def __init__(
        self, settings: Settings | None = None, keep_links: bool = False,
        outcomes: OutcomeSource | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.keep_links = keep_links
        self.normalise = NormaliseHop(self.settings)
        self.decide = DecideHop(self.settings)
        self.link = LinkHop(self.settings)
        self.network = NetworkHop(self.settings)
        self.outcomes = outcomes
        bank = self.decide.scorer.models
        self.learner = Learner(bank) if outcomes is not None and bank is not None else None

    def run_batch(self, messages: Sequence[RawMessage]) -> PipelineResult:
        """Push one batch of raw messages through every hop."""
        return self.decide_batch(self.normalise.run(messages))

    def decide_batch(self, normalised: Normalised) -> PipelineResult:
        """Push one batch of normalised events through the hops after normalise."""
        hop = [
            RawMessage(
                value=value, key=entity_key(ev).encode("utf-8"), topic=f"events.{ev.mode}", partition=0
            )
            for ev, value in zip(normalised.events, normalised.encoded, strict=True)
        ]
        decided = self.decide.run(hop)
        links = [RawMessage(value=v, key=k, topic="links", partition=0) for k, v in decided.links]
        result = PipelineResult(
            scores=decided.scores, alerts=decided.alerts,
            deadletters=normalised.deadletters + decided.deadletters,
            links=[v for _, v in decided.links] if self.keep_links else [],
        )
        # Views go to the network hop, whose notes come back to the link hop, until
        # nothing changes (a note changes views, not summaries: two rounds at most).
        while links:
            linked = self.link.run(links)
            result.alerts += linked.alerts
            result.deadletters += linked.deadletters
            networked = self.network.run([
                RawMessage(value=v, key=k, topic="network", partition=0)
                for k, v in (*linked.views, *linked.notices)
            ])
            result.alerts += [a for a, _ in networked.alerts]
            result.deadletters += networked.deadletters
            result.features += [f for f, _, _ in networked.features]
            links = [RawMessage(value=n.model_dump_json().encode(), key=n.identifier.encode(), topic="links",
                                partition=0) for n in networked.notes]
        self._learn(result)
        return result

    def _learn(self, result: PipelineResult) -> None:
        """Give the outcome source the batch's alerts, then learn what is known by the
        latest event time of the batch."""
        if self.outcomes is None or self.learner is None or not result.scores:
            return
        now = max(s.occurred_at for s in result.scores)
        event_time = {s.event_id: s.occurred_at for s in result.scores}
        for alert in result.alerts:
            self.outcomes.alerted(alert, event_time.get(alert.event_id, now))
            self.learner.alert(alert)
        for outcome in self.outcomes.due(now):
            self.learner.outcome(outcome)

    def run_in_time_order(self, messages: Iterable[RawMessage], batch_size: int = 500) -> PipelineResult:
        """Normalise everything, then push the events through in the order they happened:
        files hold one feed each, and learning from outcomes needs one clock."""
        normalised = self.normalise.run(list(messages))
        order = sorted(range(len(normalised.events)),
                       key=lambda i: (normalised.events[i].occurred_at, normalised.events[i].event_id))
        total = PipelineResult(deadletters=list(normalised.deadletters))
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            total.extend(self.decide_batch(Normalised(
                events=[normalised.events[i] for i in chunk], encoded=[normalised.encoded[i] for i in chunk],
            )))
        return total

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
