"""Every registered model meets the model contract; the loader refuses models that do not."""

from __future__ import annotations

from typing import Any

import pytest
from river import linear_model

from engine.errors import ConfigError
from engine.score.features import model_features, traffic_features
from engine.score.model import LiveModel, ModelSpec, check_features_module, load_models, make_model_spec
from engine.score.rule import PROTECTED_NAMES
from schemas import EnrichedEvent, Finding
from tests.fixtures.events import fixture_events

MODELS = load_models()


def inputs(spec: ModelSpec) -> list[tuple[str, dict[str, float]]]:
    """What the model would be given for each fixture event of its modes."""
    finding = Finding(rule_id="passenger_late_cash_booking", score=0.6, detail="fixture")
    out = []
    for name, e in sorted(fixture_events().items()):
        if e.event.mode in spec.modes:
            x = traffic_features(e) if spec.kind == "anomaly" else model_features(e, [finding])
            out.append((name, x))
    return out


def test_there_are_models_of_both_kinds() -> None:
    """The registry holds an anomaly model and a champion yield model (and a challenger)."""
    kinds = {(s.kind, s.role) for s in MODELS.values()}
    assert {("anomaly", "champion"), ("yield", "champion"), ("yield", "challenger")} <= kinds


@pytest.mark.parametrize("model_id", sorted(MODELS))
def test_model_scores_fixtures_in_range_and_deterministically(model_id: str) -> None:
    """Scores are in [0, 1], learning changes nothing about that, and two models built with
    one seed and taught alike score alike."""
    spec = MODELS[model_id]
    a, b = LiveModel(spec, spec.role, seed=7), LiveModel(spec, spec.role, seed=7)
    xs = inputs(spec)
    assert xs, f"no fixture event for {model_id}'s modes"
    for i, (_, x) in enumerate(xs * 3):
        for m in (a, b):
            assert 0.0 <= m.score(x) <= 1.0
            m.learn(x, i % 2 == 0) if spec.kind == "yield" else m.learn(x)
    assert [a.score(x) for _, x in xs] == [b.score(x) for _, x in xs]
    assert a.version == f"{spec.version}+{3 * len(xs)}"


@pytest.mark.parametrize("model_id", sorted(MODELS))
def test_model_has_an_explanation_for_officers(model_id: str) -> None:
    """The docstring gives a title and plain-words explanation."""
    spec = MODELS[model_id]
    assert spec.title and spec.explanation and len(spec.explanation) > len(spec.title)


def test_no_feature_names_a_protected_characteristic() -> None:
    """The guard's other half: no fixture event yields a feature named after a protected field."""
    for e in fixture_events().values():
        names = set(model_features(e, [])) | set(traffic_features(e))
        assert not {n for n in names for p in PROTECTED_NAMES if p in n}


def test_feature_builders_pass_the_guard() -> None:
    """engine/score/features.py reads no protected field (checked again at every load)."""
    check_features_module()


def _bad_model(seed: int) -> Any:
    """Reads a traveller's nationality: must be refused."""
    return linear_model.LogisticRegression() if "nationality" else None


def test_loader_refuses_a_model_that_reads_nationality() -> None:
    """A deliberately bad model file is refused at registration, naming the field."""
    with pytest.raises(ConfigError, match="protected characteristics \\(nationality\\)"):
        make_model_spec(_bad_model, id="bad_model", version="1", kind="yield", modes={"passenger"},
                        role="challenger")


def _no_doc(seed: int) -> Any:
    return linear_model.LogisticRegression()


def _anomaly_without_score(seed: int) -> Any:
    """A classifier claimed to be an anomaly model."""
    return linear_model.LogisticRegression()


@pytest.mark.parametrize(("build", "options", "message"), [
    (_no_doc, {}, "needs a docstring"),
    (_anomaly_without_score, {"kind": "anomaly"}, "needs score_one"),
    (_anomaly_without_score, {"role": "boss"}, "role must be"),
    (_anomaly_without_score, {"id": "Bad-Id"}, "snake_case"),
    (_anomaly_without_score, {"modes": {"rail"}}, "modes must be"),
])
def test_loader_refuses_unfit_models(build: Any, options: dict[str, Any], message: str) -> None:
    """Each broken part of the contract is refused with a reason."""
    kwargs: dict[str, Any] = {"id": "unfit_model", "version": "1", "kind": "yield", "modes": {"freight"},
                              "role": "champion", **options}
    with pytest.raises(ConfigError, match=message):
        make_model_spec(build, **kwargs)


def test_fixture_events_cover_every_mode() -> None:
    """The conformance inputs above reach every mode a model may declare."""
    modes = {e.event.mode for e in fixture_events().values()}
    assert modes == {"passenger", "freight", "vessel"}
    assert all(isinstance(e, EnrichedEvent) for e in fixture_events().values())
