"""The models of one scorer, their scores, their learning and their saved state.

- Anomaly models learn from traffic: one set per (partition, mode), so a partition's
  models see the same events in the same order whichever worker owns it. They learn
  one event in ``anomaly_learn_every`` (4; chosen by event id) and score the events
  with a live finding, the ones a score can matter for: before learning them (score
  before learn). Scoring and learning every event cost more than all the rules. What an event was
  scored is remembered (the newest ``REMEMBER`` events per partition), so an event
  delivered again gets the same model scores and is not learned twice.
- Yield models learn from outcomes, which arrive hours after the alert: they score
  alerted events, and ``learn_outcome`` teaches them with the features the alert was
  scored on (engine/feedback/learner.py does the join). Until the champion has
  learned ``min_outcomes`` examples its estimate is not used.

State is saved as a pickle with an HMAC (``models.signing_key``): a checkpoint that
fails the check is refused rather than unpickled, since unpickling runs code.
"""

from __future__ import annotations

import hashlib
import hmac
import pickle
import zlib
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from engine.errors import ConfigError
from engine.score.model import LiveModel, ModelSpec, load_models
from engine.settings import ModelSettings
from schemas.decision import ModelRole, ModelScore

_MAC_BYTES = 32
#: Events per partition and mode whose model scores are kept for redeliveries: those
#: delivered again come from the batches since the last commit, a few at most.
REMEMBER = 2_000

#: What an event was scored: model scores, the yield estimate, the yield inputs.
Remembered = tuple[tuple[ModelScore, ...], float | None, dict[str, float] | None]


class ModelBank:
    """Anomaly models per (partition, mode) and the yield models, built from their files."""

    def __init__(self, settings: ModelSettings, specs: Mapping[str, ModelSpec] | None = None) -> None:
        self.settings = settings
        specs = load_models() if specs is None else specs
        unknown = sorted(set(settings.roles) - set(specs))
        if unknown:
            raise ConfigError(f"models.roles names unknown model(s): {', '.join(unknown)}")
        roles: dict[str, ModelRole] = {i: settings.roles.get(i, s.role) for i, s in specs.items()}
        self.anomaly_specs = [s for s in specs.values() if s.kind == "anomaly" and roles[s.id] != "off"]
        self._roles = roles
        self.anomaly: dict[tuple[int, str], list[LiveModel]] = {}
        self.scored: dict[tuple[int, str], OrderedDict[str, Remembered]] = {}
        self.yields = [
            LiveModel(s, roles[s.id], settings.seed)
            for s in specs.values() if s.kind == "yield" and roles[s.id] != "off"
        ]
        champions = [m for m in self.yields if m.role == "champion"]
        if len(champions) > 1:
            names = ", ".join(m.spec.id for m in champions)
            raise ConfigError(f"more than one champion yield model: {names}")
        self.champion = champions[0] if champions else None

    def _anomaly_models(self, partition: int, mode: str) -> list[LiveModel]:
        models = self.anomaly.get((partition, mode))
        if models is None:
            models = self.anomaly[(partition, mode)] = [
                LiveModel(s, self._roles[s.id], self.settings.seed)
                for s in self.anomaly_specs if mode in s.modes
            ]
        return models

    def recall(self, partition: int, mode: str, event_id: str) -> Remembered | None:
        """What an event of this partition and mode was scored before, if it was."""
        seen = self.scored.get((partition, mode))
        return None if seen is None else seen.get(event_id)

    def remember(self, partition: int, mode: str, event_id: str, scored: Remembered) -> None:
        """Keep what an event was scored, for a redelivery."""
        seen = self.scored.setdefault((partition, mode), OrderedDict())
        seen[event_id] = scored
        if len(seen) > REMEMBER:
            seen.popitem(last=False)

    def score_traffic(
        self, partition: int, mode: str, x: dict[str, float], score: bool, learn: bool
    ) -> list[ModelScore]:
        """Score an event with its partition's anomaly models (explained), then teach
        them the event: either or both."""
        out = []
        for m in self._anomaly_models(partition, mode):
            if score:
                out.append(m.model_score(x, explain=True))
            if learn:
                m.learn(x)
        return out

    def learns_from(self, event_id: str) -> bool:
        """Whether the anomaly models learn this event: one in ``anomaly_learn_every``,
        chosen by the event id, so every run and every worker learn the same events."""
        every = self.settings.anomaly_learn_every
        return every == 1 or zlib.crc32(event_id.encode("utf-8")) % every == 0

    def score_yield(self, x: dict[str, float]) -> tuple[list[ModelScore], float | None]:
        """Every yield model's score of an alerted event, and the champion's estimate
        (None until it has learned enough to be used)."""
        scores = [m.model_score(x, explain=m.role == "champion") for m in self.yields]
        estimate = None
        if self.champion is not None and self.champion.learned >= self.settings.min_outcomes:
            estimate = next(s.score for s in scores if s.model_id == self.champion.spec.id)
        return scores, estimate

    def learn_outcome(self, x: dict[str, float], found: bool) -> None:
        """Teach every yield model one outcome."""
        for m in self.yields:
            m.learn(x, found)

    def forget(self, keys: Sequence[tuple[int, str]]) -> None:
        """Drop the anomaly models (and memory) of partitions this worker gave up."""
        for key in keys:
            self.anomaly.pop(key, None)
            self.scored.pop(key, None)

    # -- saved state --

    def state(self, keys: Sequence[tuple[int, str]] | None = None, yields: bool = True) -> dict[str, Any]:
        """The anomaly models of ``keys`` ((partition, mode); all when None) with what
        their events were scored, and the yield models, as picklable values."""
        def wanted(key: tuple[int, str]) -> bool:
            return keys is None or key in keys

        return {
            "anomaly": {key: [(m.spec.id, m.learned, m.estimator) for m in models]
                        for key, models in self.anomaly.items() if wanted(key)},
            "scored": {key: seen for key, seen in self.scored.items() if wanted(key)},
            "yield": [(m.spec.id, m.learned, m.estimator) for m in self.yields] if yields else None,
        }

    def apply(self, state: Mapping[str, Any]) -> None:
        """Take state in (see ``state``); models it does not name keep theirs."""
        for key, saved_models in state.get("anomaly", {}).items():
            _restore(self._anomaly_models(*key), saved_models)
        self.scored.update(state.get("scored", {}))
        if state.get("yield") is not None:
            _restore(self.yields, state["yield"])

    def dump(self, keys: Sequence[tuple[int, str]] | None = None, yields: bool = True) -> bytes:
        """Signed state (see ``state``)."""
        return seal(self.state(keys, yields), self.settings)

    def load(self, saved: bytes) -> None:
        """Take signed state in (see ``dump``)."""
        self.apply(unseal(saved, self.settings))


def _mac(body: bytes, settings: ModelSettings) -> bytes:
    key = settings.signing_key.get_secret_value().encode("utf-8")
    return hmac.new(key, body, hashlib.sha256).digest()


def seal(state: Any, settings: ModelSettings) -> bytes:
    """State pickled, behind an HMAC of the pickle."""
    body = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
    return _mac(body, settings) + body


def unseal(saved: bytes, settings: ModelSettings) -> Any:
    """The state ``seal`` made, after checking its HMAC; ConfigError if it fails."""
    mac, body = saved[:_MAC_BYTES], saved[_MAC_BYTES:]
    if not hmac.compare_digest(mac, _mac(body, settings)):
        raise ConfigError("saved model state fails its signature check (another key, or altered)")
    return pickle.loads(body)  # signed by us, checked above


def _restore(models: Sequence[LiveModel], saved: Sequence[tuple[str, int, Any]]) -> None:
    by_id = {model_id: (learned, estimator) for model_id, learned, estimator in saved}
    for m in models:
        if m.spec.id in by_id:
            m.learned, m.estimator = by_id[m.spec.id]
