"""Find rules: every module under the ``rules`` package, then the ``gatehound.rules`` entry points."""

from __future__ import annotations

import importlib
import pkgutil
from importlib.metadata import entry_points

import rules as rules_package
from engine.errors import ConfigError
from engine.score.rule import REGISTRY, RuleSpec

ENTRY_POINT_GROUP = "gatehound.rules"


def load_rules() -> dict[str, RuleSpec]:
    """Import every rule module once and return the registry, sorted by id.

    Importing a rule module runs its ``@rule`` decorator, which checks it; a rule
    that fails a check stops the load with a ConfigError naming the rule.
    """
    for info in pkgutil.walk_packages(rules_package.__path__, prefix="rules."):
        importlib.import_module(info.name)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            ep.load()
        except ConfigError:
            raise
        except Exception as exc:
            raise ConfigError(f"rule entry point {ep.name} ({ep.value}) failed: {exc}") from exc
    return dict(sorted(REGISTRY.items()))
