"""Outcomes teach the yield models: each is joined to what its alert was scored on.

An outcome arrives hours after its alert, keyed by alert id. The alert carries the
features the yield models scored (``Alert.features``) and their scores; the learner
keeps them by alert id until the outcome comes (an outcome that comes first waits for
its alert), then teaches every yield model: a seizure or an arrest is a find, nothing
found is not, not examined teaches nothing. Each alert is learned once, however often
its alert or outcome is delivered, so at-least-once delivery cannot teach twice.

While learning it keeps, per yield model, the scores it gave before learning and the
outcomes that followed: over the latest ``window`` of them a rolling AUC and the
precision at the daily budget (finds among the ``models.daily_budget`` best scored),
champion and challenger alike, and an ADWIN detector on the model's error, whose
detections count as drift. Each outcome also counts for the rules behind its alert
and the typology that raised it.

``dump`` seals the yield models with what the learner must not forget across a
restart (the alerts learned, outcomes still waiting for their alert, the metrics'
windows); the alerts' features are not in it: they come back from the ``alerts``
topic.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any

from river import drift

from engine.metrics import (
    MODEL_AUC,
    MODEL_DRIFT,
    MODEL_LEARNED,
    MODEL_PRECISION_AT_BUDGET,
    OUTCOMES,
    RULE_OUTCOMES,
    TYPOLOGY_OUTCOMES,
)
from engine.score.bank import ModelBank, seal, unseal
from schemas import Alert, Outcome

FOUND = ("seizure", "arrest")


@dataclass(frozen=True, slots=True)
class _Scored:
    features: dict[str, float]
    scores: dict[str, float]
    typology: str | None


def precision_at(pairs: deque[tuple[float, bool]] | list[tuple[float, bool]], budget: int) -> float | None:
    """Finds among the ``budget`` best-scored (ties by order of arrival); None when empty."""
    if not pairs:
        return None
    chosen = sorted(enumerate(pairs), key=lambda p: (-p[1][0], p[0]))[:budget]
    return sum(found for _, (_, found) in chosen) / len(chosen)


def rolling_auc(pairs: deque[tuple[float, bool]] | list[tuple[float, bool]]) -> float | None:
    """The chance a find was scored above a non-find (ties count half); None without both."""
    finds = sorted(s for s, found in pairs if found)
    others = sorted(s for s, found in pairs if not found)
    if not finds or not others:
        return None
    wins, i, j = 0.0, 0, 0
    for s in finds:  # merge walk: others below s win, equal ones half
        while i < len(others) and others[i] < s:
            i += 1
        j = max(j, i)
        while j < len(others) and others[j] == s:
            j += 1
        wins += i + (j - i) / 2
    return wins / (len(finds) * len(others))


class Learner:
    """Joins outcomes to their alerts' features and teaches a bank's yield models."""

    #: Alert ids kept as learned, and outcomes kept waiting for their alert: both go in
    #: every state record on ``models``, which must stay well under a Kafka message's 1 MB.
    KEEP_IDS = 10_000

    def __init__(self, bank: ModelBank, window: int = 500, keep_alerts: int = 200_000) -> None:
        self.bank = bank
        self.window = window
        self.keep_alerts = keep_alerts
        self._scored: OrderedDict[str, _Scored] = OrderedDict()
        self._waiting: dict[str, bool] = {}
        self.learned: OrderedDict[str, None] = OrderedDict()
        self.history: dict[str, deque[tuple[float, bool]]] = {}
        self._adwin: dict[str, drift.ADWIN] = {}
        self.drifts: dict[str, int] = {}

    def alert(self, alert: Alert) -> None:
        """Remember what an alert was scored on; learn at once if its outcome came first.
        An alert with nothing to learn from (a link or network alert) releases its outcome."""
        if alert.alert_id in self.learned:
            return
        if not alert.features:
            self._waiting.pop(alert.alert_id, None)
            return
        scores = {m.model_id: m.score for m in alert.model_scores if m.kind == "yield"}
        typology = alert.typology.typology_id if alert.typology else None
        self._scored[alert.alert_id] = _Scored(dict(alert.features), scores, typology)
        while len(self._scored) > self.keep_alerts:
            self._scored.popitem(last=False)
        found = self._waiting.pop(alert.alert_id, None)
        if found is not None:
            self._learn(alert.alert_id, found)

    def outcome(self, outcome: Outcome) -> None:
        """Take an outcome in: learn from it now, or when its alert is seen."""
        OUTCOMES.labels(result=outcome.result).inc()
        if outcome.result == "not_examined" or outcome.alert_id in self.learned:
            return
        found = outcome.result in FOUND
        if outcome.alert_id in self._scored:
            self._learn(outcome.alert_id, found)
        else:
            self._waiting[outcome.alert_id] = found
            while len(self._waiting) > self.KEEP_IDS:  # an outcome whose alert never came
                del self._waiting[next(iter(self._waiting))]

    def _learn(self, alert_id: str, found: bool) -> None:
        scored = self._scored.pop(alert_id)
        for model in self.bank.yields:
            model_id = model.spec.id
            before = scored.scores.get(model_id)
            if before is not None:
                pairs = self.history.setdefault(model_id, deque(maxlen=self.window))
                pairs.append((before, found))
                detector = self._adwin.get(model_id)
                if detector is None:
                    detector = self._adwin[model_id] = drift.ADWIN()  # type: ignore[no-untyped-call]
                detector.update(abs(float(found) - before))  # type: ignore[no-untyped-call]
                if detector.drift_detected:
                    self.drifts[model_id] = self.drifts.get(model_id, 0) + 1
                    MODEL_DRIFT.labels(model=model_id).inc()
                auc = rolling_auc(pairs)
                if auc is not None:
                    MODEL_AUC.labels(model=model_id).set(auc)
                at_budget = precision_at(pairs, self.bank.settings.daily_budget)
                if at_budget is not None:
                    MODEL_PRECISION_AT_BUDGET.labels(model=model_id).set(at_budget)
            MODEL_LEARNED.labels(model=model_id).inc()
        result = "find" if found else "nothing_found"
        for name in scored.features:
            if name.startswith("rule:"):
                RULE_OUTCOMES.labels(rule=name.removeprefix("rule:"), result=result).inc()
        if scored.typology is not None:
            TYPOLOGY_OUTCOMES.labels(typology=scored.typology, result=result).inc()
        self.bank.learn_outcome(scored.features, found)
        self.learned[alert_id] = None
        while len(self.learned) > self.KEEP_IDS:
            self.learned.popitem(last=False)

    @property
    def waiting(self) -> int:
        """Outcomes waiting for their alert."""
        return len(self._waiting)

    def dump(self) -> bytes:
        """The yield models and the learner's memory, sealed (see the module docstring)."""
        state: dict[str, Any] = {
            "bank": self.bank.state(keys=[], yields=True),
            "learned": list(self.learned), "waiting": dict(self._waiting),
            "history": {k: list(v) for k, v in self.history.items()},
            "adwin": self._adwin, "drifts": dict(self.drifts),
        }
        return seal(state, self.bank.settings)

    def load(self, saved: bytes) -> None:
        """Carry on from a ``dump``."""
        state = unseal(saved, self.bank.settings)
        self.bank.apply(state["bank"])
        self.learned = OrderedDict.fromkeys(state["learned"])
        self._waiting = dict(state["waiting"])
        self.history = {k: deque(v, maxlen=self.window) for k, v in state["history"].items()}
        self._adwin = state["adwin"]
        self.drifts = dict(state["drifts"])

    def auc(self, model_id: str) -> float | None:
        """A yield model's rolling AUC (see the module docstring)."""
        return rolling_auc(self.history.get(model_id, deque()))
