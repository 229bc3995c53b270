"""Find rules and models: every module under the ``rules`` (``models``) package, then the
``gatehound.rules`` (``gatehound.models``) entry points."""

from __future__ import annotations

import importlib
import pkgutil
from importlib.metadata import entry_points
from types import ModuleType

import rules as rules_package
from engine.errors import ConfigError
from engine.score.rule import REGISTRY, RuleSpec

ENTRY_POINT_GROUP = "gatehound.rules"


def import_components(package: ModuleType, group: str, what: str) -> None:
    """Import every module of a package and every entry point of a group, once.

    Importing a module runs its decorator, which checks it; one that fails a check
    stops the load with a ConfigError naming it.
    """
    for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
        importlib.import_module(info.name)
    for ep in entry_points(group=group):
        try:
            ep.load()
        except ConfigError:
            raise
        except Exception as exc:
            raise ConfigError(f"{what} entry point {ep.name} ({ep.value}) failed: {exc}") from exc


def load_rules() -> dict[str, RuleSpec]:
    """Every rule module imported once; the registry, sorted by id."""
    import_components(rules_package, ENTRY_POINT_GROUP, "rule")
    return dict(sorted(REGISTRY.items()))
