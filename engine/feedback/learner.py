"""Outcomes teach the yield models: each is joined to what its alert was scored on.

An outcome arrives hours after its alert, keyed by alert id. The alert carries the
features the yield models scored (``Alert.features``) and their scores; the learner
keeps them by alert id until the outcome comes (an outcome that comes first waits for
its alert), then teaches every yield model: a seizure or an arrest is a find, nothing
found is not, not examined teaches nothing. Each alert is learned once, however often
its alert or outcome is delivered, so at-least-once delivery cannot teach twice.

While learning it keeps, per yield model, the scores it gave before learning and the
outcomes that followed: a rolling AUC over the latest ``window`` of them, and an
ADWIN detector on the model's error, whose detections count as drift.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass

from river import drift

from engine.metrics import MODEL_AUC, MODEL_DRIFT, MODEL_LEARNED, OUTCOMES
from engine.score.bank import ModelBank
from schemas import Alert, Outcome

FOUND = ("seizure", "arrest")


@dataclass(frozen=True, slots=True)
class _Scored:
    features: dict[str, float]
    scores: dict[str, float]


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

    def __init__(self, bank: ModelBank, window: int = 500, keep_alerts: int = 200_000) -> None:
        self.bank = bank
        self.window = window
        self.keep_alerts = keep_alerts
        self._scored: OrderedDict[str, _Scored] = OrderedDict()
        self._waiting: dict[str, bool] = {}
        self.learned: set[str] = set()
        self.history: dict[str, deque[tuple[float, bool]]] = {}
        self._adwin: dict[str, drift.ADWIN] = {}
        self.drifts: dict[str, int] = {}

    def alert(self, alert: Alert) -> None:
        """Remember what an alert was scored on; learn at once if its outcome came first."""
        if alert.alert_id in self.learned or not alert.features:
            return
        scores = {m.model_id: m.score for m in alert.model_scores if m.kind == "yield"}
        self._scored[alert.alert_id] = _Scored(dict(alert.features), scores)
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
            MODEL_LEARNED.labels(model=model_id).inc()
        self.bank.learn_outcome(scored.features, found)
        self.learned.add(alert_id)

    def auc(self, model_id: str) -> float | None:
        """A yield model's rolling AUC (see the module docstring)."""
        return rolling_auc(self.history.get(model_id, deque()))
