"""The model extension point: one file per model under ``models/``, like rules.

A model file registers a function that builds a River estimator from a seed::

    @model(id="yield_logistic", version="1", kind="yield", modes={"passenger", "freight", "vessel"})
    def build(seed: int) -> Any:
        \"\"\"Chance that examining an alert finds something.

        Logistic regression over the features of engine/score/features.py.\"\"\"
        return compose.Pipeline(preprocessing.StandardScaler(), linear_model.LogisticRegression())

Two kinds:

- ``anomaly``: scored then taught on every event of its modes (``score_one`` and
  ``learn_one(x)``); its score is how unusual the event is, 0-1;
- ``yield``: scored on alerted events (``predict_proba_one``), taught by the
  outcomes of interventions (``learn_one(x, found)``); its score is the chance of a find.

A model's role is ``champion`` (used: its yield estimate ranks alerts), ``challenger``
(scored and recorded beside the champion, never used) or ``off``; settings override
it (``GATEHOUND_MODELS__ROLES='{"yield_tree": "champion"}'``). Models see only the
features engine/score/features.py builds, so the protected-attribute guard checks
that module and each model file alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from engine.errors import ConfigError
from engine.score import features as features_module
from engine.score.loader import import_components
from engine.score.rule import check_component, protected_names_read, register_once
from schemas.decision import Contribution, ModelKind, ModelRole, ModelScore

ENTRY_POINT_GROUP = "gatehound.models"

Estimator = Any
BuildFunc = Callable[[int], Estimator]


@dataclass(frozen=True)
class ModelSpec:
    """A registered model: what it is and how to build a fresh one."""

    id: str
    version: str
    kind: ModelKind
    role: ModelRole
    modes: frozenset[str]
    build: BuildFunc
    title: str
    explanation: str
    module: str


#: Every model loaded in this process, by id.
MODEL_REGISTRY: dict[str, ModelSpec] = {}


def model(
    *, id: str, version: str, kind: ModelKind, modes: Iterable[str], role: ModelRole = "champion"
) -> Callable[[BuildFunc], BuildFunc]:
    """Register a model's build function. Refuses models without a docstring, that read
    protected data, or whose estimator lacks the methods its kind needs."""

    def register(build: BuildFunc) -> BuildFunc:
        spec = make_model_spec(build, id=id, version=version, kind=kind, modes=modes, role=role)
        register_once(MODEL_REGISTRY, spec, "model")
        return build

    return register


def make_model_spec(
    build: BuildFunc, *, id: str, version: str, kind: str, modes: Iterable[str], role: str
) -> ModelSpec:
    """Check a model's build function and describe it; ConfigError on anything unfit to run."""
    checked = check_component(build, "model", id, modes)
    if kind not in ("anomaly", "yield"):
        raise ConfigError(f"{checked.where}: kind must be anomaly or yield")
    if role not in ("champion", "challenger", "off"):
        raise ConfigError(f"{checked.where}: role must be champion, challenger or off")
    needs = ("score_one", "learn_one") if kind == "anomaly" else ("predict_proba_one", "learn_one")
    estimator = build(1)
    missing = [m for m in needs if not callable(getattr(estimator, m, None))]
    if missing:
        raise ConfigError(f"{checked.where}: a {kind} model's estimator needs {', '.join(missing)}")
    return ModelSpec(
        id=id, version=str(version), kind=kind, role=role, modes=checked.modes,  # type: ignore[arg-type]
        build=build, title=checked.title, explanation=checked.explanation, module=build.__module__,
    )


def check_features_module() -> None:
    """The feature builders may not read protected characteristics either."""
    for name in ("traffic_features", "model_features"):
        read = protected_names_read(getattr(features_module, name))
        if read:
            names = ", ".join(sorted(read))
            raise ConfigError(f"engine.score.features.{name} reads protected characteristics ({names})")


def load_models() -> dict[str, ModelSpec]:
    """Import every module of the ``models`` package and the ``gatehound.models`` entry
    points once; the registry sorted by id."""
    import models as models_package

    check_features_module()
    import_components(models_package, ENTRY_POINT_GROUP, "model")
    return dict(sorted(MODEL_REGISTRY.items()))


class LiveModel:
    """One running model: the estimator and how many examples it has learned."""

    def __init__(self, spec: ModelSpec, role: ModelRole, seed: int) -> None:
        self.spec = spec
        self.role = role
        self.estimator = spec.build(seed)
        self.learned = 0

    @property
    def version(self) -> str:
        """The file's version and the examples learned: equal versions score alike."""
        return f"{self.spec.version}+{self.learned}"

    def score(self, x: dict[str, float]) -> float:
        """Anomaly: how unusual, 0-1; yield: the chance of a find."""
        if self.spec.kind == "anomaly":
            value = float(self.estimator.score_one(x))
        else:
            value = float(self.estimator.predict_proba_one(x).get(True, 0.0))
        return min(1.0, max(0.0, round(value, 6)))

    def learn(self, x: dict[str, float], found: bool | None = None) -> None:
        """Teach one example: an event (anomaly) or an outcome (yield)."""
        if self.spec.kind == "anomaly":
            self.estimator.learn_one(x)
        else:
            self.estimator.learn_one(x, bool(found))
        self.learned += 1

    def explain(self, x: dict[str, float], score: float, top: int = 3) -> tuple[Contribution, ...]:
        """The inputs that moved the score most: the score minus the score without each."""
        effects = [(name, round(score - self.score({k: v for k, v in x.items() if k != name}), 4))
                   for name in x if x[name]]
        effects.sort(key=lambda e: (-abs(e[1]), e[0]))
        return tuple(Contribution(feature=name, effect=effect) for name, effect in effects[:top] if effect)

    def model_score(self, x: dict[str, float], explain: bool = True) -> ModelScore:
        """This model's score record for one input."""
        value = self.score(x)
        # Built without validation: every field is ours and already in range (score is
        # clamped), and this runs for every event.
        return ModelScore.model_construct(
            model_id=self.spec.id, model_version=self.version, kind=self.spec.kind, role=self.role,
            score=value, top_features=self.explain(x, value) if explain else (),
        )
