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
from engine.score.typology import judge
from engine.settings import ScoringSettings, Settings, default_typologies
from schemas import EnrichedEvent, Finding, Score, TrackFeatures, VesselEvent, stable_id
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
    #: What each vessel report was judged on, by event id.
    tracks: dict[str, TrackFeatures] = field(default_factory=dict)


def alert_id_for(event_id: str, typology_id: str, findings: Sequence[Finding]) -> str:
    """Deterministic: the same event judged by the same typology and rule versions gives the same id."""
    rules = sorted({f"{f.rule_id}@{f.rule_version}" for f in findings if f.status == "live"})
    return stable_id("alert", event_id, typology_id, *rules)


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
        self.typologies = settings.typologies or default_typologies(settings.scoring)
        for typology_id, t in self.typologies.items():
            unknown = sorted(set(t.rules) - set(specs) - {"*"})
            if unknown:
                raise ConfigError(f"typology {typology_id}: unknown rule(s) {', '.join(unknown)}")
            known = set()
            if models is not None:
                known = {m.spec.id for m in models.yields} | {s.id for s in models.anomaly_specs}
            unknown = sorted(set(t.models) - known)
            if unknown:
                raise ConfigError(f"typology {typology_id}: unknown or unused model(s) {', '.join(unknown)}")

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
                track = result.tracks[event.event_id] = track_features(event, state)
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
        candidate = any(f.status == "live" for f in findings)
        model_scores: tuple[ModelScore, ...] = ()
        estimate, features = None, None
        if self.models is not None:
            model_scores, estimate, features = self.score_models(enriched, findings, candidate, partition)
        verdicts = judge(self.typologies, event.mode, findings, model_scores, estimate)
        best = verdicts[0] if verdicts else None
        alerted = best is not None and best.severity is not None
        return Score(
            event_id=event.event_id,
            mode=event.mode,
            key=enriched.key,
            occurred_at=event.occurred_at,
            received_at=event.received_at,
            findings=tuple(findings),
            rule_versions=self.versions_by_mode[event.mode],
            final_score=best.score if best else 0.0,
            severity=best.severity if best else None,
            alert_id=alert_id_for(event.event_id, best.typology_id, findings) if best and alerted else None,
            model_scores=model_scores,
            yield_estimate=estimate,
            typologies=tuple(verdicts),
        ), features if alerted else None

    def score_models(
        self, enriched: EnrichedEvent, findings: Sequence[Finding], candidate: bool, partition: int
    ) -> Remembered:
        """The models' scores of a candidate (an event with a live finding): anomaly and
        yield, the anomaly scores among the yield inputs; and the anomaly models learn
        their share of all events (engine/score/bank.py). A redelivered event gets what
        it was scored the first time, and teaches nothing again."""
        assert self.models is not None
        event_id, mode = enriched.event.event_id, enriched.event.mode
        learn = self.models.learns_from(event_id)
        if not (candidate or learn):
            return (), None, None
        before = self.models.recall(partition, mode, event_id)
        if before is not None:
            return before
        scores = self.models.score_traffic(partition, mode, traffic_features(enriched), candidate, learn)
        estimate, features = None, None
        if candidate:
            features = model_features(enriched, findings)
            features.update({f"anomaly:{m.model_id}": m.score for m in scores if m.role == "champion"})
            yields, estimate = self.models.score_yield(features)
            scores += yields
        scored = (tuple(scores), estimate, features)
        self.models.remember(partition, mode, event_id, scored)
        return scored


def severity_of(final: float, scoring: ScoringSettings) -> Severity | None:
    """Band a final score by the configured thresholds; None below the alert threshold."""
    if final < scoring.alert_threshold:
        return None
    if final >= scoring.high_from:
        return "high"
    if final >= scoring.medium_from:
        return "medium"
    return "low"
