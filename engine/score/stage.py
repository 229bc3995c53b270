"""The score stage: run every rule on every event; one score record per event, always."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel

from engine.errors import ConfigError
from engine.logs import get_logger
from engine.metrics import FINDINGS, RULE_ERRORS
from engine.score.bank import ModelBank, Remembered
from engine.score.features import Features, model_features, traffic_features
from engine.score.loader import load_rules
from engine.score.rule import RuleSpec
from engine.score.track import TrackState, apply_report, track_features
from engine.settings import ScoringSettings, Settings
from schemas import EnrichedEvent, Finding, Score, VesselEvent, stable_id
from schemas.decision import ModelScore, RuleStatus, Severity

log = get_logger(__name__)


@dataclass(frozen=True)
class ActiveRule:
    """A rule as this worker runs it: its spec, its config and its effective status."""

    spec: RuleSpec
    config: BaseModel
    status: RuleStatus


@dataclass
class ScoreResult:
    """Score records in input order, and the new track state of every vessel touched."""

    scores: list[Score] = field(default_factory=list)
    track_updates: dict[str, TrackState] = field(default_factory=dict)
    #: The yield models' inputs of every alerted event, by event id: they go on its alert.
    features: dict[str, Features] = field(default_factory=dict)


def combine(findings: Sequence[Finding]) -> float:
    """Noisy-OR of live findings: independent reasons for suspicion add up, capped at 1."""
    clear = 1.0
    for f in findings:
        if f.status == "live":
            clear *= 1.0 - f.score
    return round(1.0 - clear, 6)


def alert_id_for(event_id: str, findings: Sequence[Finding]) -> str:
    """Deterministic: the same event judged by the same rule versions gives the same id."""
    rules = sorted({f"{f.rule_id}@{f.rule_version}" for f in findings if f.status == "live"})
    return stable_id("alert", event_id, *rules)


class Scorer:
    """Holds the active rules and their configs; scores batches of enriched events."""

    def __init__(
        self, settings: Settings, registry: Mapping[str, RuleSpec] | None = None,
        models: ModelBank | None = None,
    ) -> None:
        specs = load_rules() if registry is None else registry
        active = []
        for spec in specs.values():
            overrides = settings.rules.get(spec.id, {})
            status: RuleStatus = overrides.get("status", spec.status)
            if status not in ("live", "shadow", "off"):
                raise ConfigError(f"rule {spec.id}: status must be live, shadow or off")
            if status != "off":
                active.append(ActiveRule(spec, spec.build_config(overrides), status))
        self.by_mode: dict[str, list[ActiveRule]] = {
            mode: [a for a in active if mode in a.spec.modes] for mode in ("passenger", "freight", "vessel")
        }
        self.versions_by_mode = {
            mode: {a.spec.id: a.spec.version for a in rules} for mode, rules in self.by_mode.items()
        }
        self.scoring = settings.scoring
        self.keep = settings.worker.track_history
        if models is None and settings.models.enabled:
            models = ModelBank(settings.models)
        self.models = models

    def score_batch(
        self, events: Sequence[EnrichedEvent], tracks: Mapping[str, TrackState],
        partitions: Sequence[int] | None = None,
    ) -> ScoreResult:
        """Score each event; vessel reports are judged against their track, then added to it.
        ``partitions`` (per event, 0 when None) choose the anomaly models that learn it."""
        result = ScoreResult()
        for i, enriched in enumerate(events):
            event = enriched.event
            if isinstance(event, VesselEvent):
                state = result.track_updates.get(enriched.key) or tracks.get(enriched.key)
                track = track_features(event, state)
                enriched = enriched.model_copy(update={"track": track})
                result.track_updates[enriched.key] = apply_report(state, event, self.keep, track)
            score, inputs = self.score_one(enriched, partitions[i] if partitions else 0)
            result.scores.append(score)
            if inputs is not None:
                result.features[score.event_id] = inputs
        return result

    def score_one(self, enriched: EnrichedEvent, partition: int = 0) -> tuple[Score, Features | None]:
        """Every active rule for the event's mode (a rule that raises is counted and
        skipped), then the models; an alerted event's yield-model inputs too."""
        event = enriched.event
        findings: list[Finding] = []
        for active in self.by_mode[event.mode]:
            try:
                found = active.spec.evaluate(enriched, active.config, active.status)
            except Exception as exc:  # one broken rule must not stop scoring
                RULE_ERRORS.labels(rule=active.spec.id).inc()
                log.warning("rule.failed", rule_id=active.spec.id, event_id=event.event_id,
                            error=type(exc).__name__)
                continue
            for f in found:
                FINDINGS.labels(rule=f.rule_id, status=f.status).inc()
            findings.extend(found)
        final = combine(findings)
        severity = self.severity(final)
        alerted = severity is not None and any(f.status == "live" for f in findings)
        model_scores: tuple[ModelScore, ...] = ()
        estimate, features = None, None
        if self.models is not None:
            model_scores, estimate, features = self.score_models(enriched, findings, alerted, partition)
        return Score(
            event_id=event.event_id,
            mode=event.mode,
            key=enriched.key,
            occurred_at=event.occurred_at,
            received_at=event.received_at,
            findings=tuple(findings),
            rule_versions=self.versions_by_mode[event.mode],
            final_score=final,
            severity=severity if alerted else None,
            alert_id=alert_id_for(event.event_id, findings) if alerted else None,
            model_scores=model_scores,
            yield_estimate=estimate,
        ), features

    def score_models(
        self, enriched: EnrichedEvent, findings: Sequence[Finding], alerted: bool, partition: int
    ) -> Remembered:
        """The models' scores of an event: anomaly for every event, yield for an alerted
        one (whose anomaly scores join its yield inputs). A redelivered event gets what
        it was scored the first time, and teaches nothing again."""
        assert self.models is not None
        event_id, mode = enriched.event.event_id, enriched.event.mode
        before = self.models.recall(partition, mode, event_id)
        if before is not None:
            return before
        scores = self.models.score_traffic(partition, mode, traffic_features(enriched), alerted)
        estimate, features = None, None
        if alerted:
            features = model_features(enriched, findings)
            features.update({f"anomaly:{m.model_id}": m.score for m in scores if m.role == "champion"})
            yields, estimate = self.models.score_yield(features)
            scores += yields
        scored = (tuple(scores), estimate, features)
        self.models.remember(partition, mode, event_id, scored)
        return scored

    def severity(self, final: float) -> Severity | None:
        """Band a final score; None below the alert threshold."""
        return severity_of(final, self.scoring)


def severity_of(final: float, scoring: ScoringSettings) -> Severity | None:
    """Band a final score by the configured thresholds; None below the alert threshold."""
    if final < scoring.alert_threshold:
        return None
    if final >= scoring.high_from:
        return "high"
    if final >= scoring.medium_from:
        return "medium"
    return "low"
