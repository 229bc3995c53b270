"""Every rule the engine runs, of every kind, and every model, as ``gatehound rules``
shows them; and one rule's findings on a replayed run."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from engine.errors import ConfigError
from engine.link.rule import LINK_RULES, NETWORK_RULES
from engine.pipeline import PipelineResult
from engine.score.loader import load_rules
from engine.score.model import load_models
from engine.settings import Settings


@dataclass(frozen=True)
class RuleRow:
    """One rule: what it is called, where it runs, its status here, what it looks for."""

    id: str
    version: str
    kind: str  # event, link, network; or a model's kind: anomaly or yield
    status: str  # a rule's status, a model's role
    reads: str  # the modes of an event rule, the identifier kinds of a link rule
    title: str

    def as_dict(self) -> dict[str, str]:
        return {"id": self.id, "version": self.version, "kind": self.kind, "status": self.status,
                "reads": self.reads, "title": self.title}


def rule_rows(settings: Settings) -> list[RuleRow]:
    """Every rule, with its status after the settings' overrides, sorted by id."""
    rows = []
    for spec in load_rules().values():
        status = settings.rules.get(spec.id, {}).get("status", spec.status)
        rows.append(RuleRow(spec.id, spec.version, "event", status, ",".join(sorted(spec.modes)), spec.title))
    for link in LINK_RULES.values():
        status = settings.rules.get(link.id, {}).get("status", "live")
        rows.append(RuleRow(link.id, link.version, "link", status, ",".join(sorted(link.kinds)), link.title))
    for net in NETWORK_RULES.values():
        status = settings.rules.get(net.id, {}).get("status", "live")
        rows.append(RuleRow(net.id, net.version, "network", status, "network features", net.title))
    for model in load_models().values():
        role = settings.models.roles.get(model.id, model.role) if settings.models.enabled else "off"
        modes = ",".join(sorted(model.modes))
        rows.append(RuleRow(model.id, model.version, model.kind, role, modes, model.title))
    return sorted(rows, key=lambda r: r.id)


@dataclass(frozen=True)
class RuleFinding:
    """One finding of one rule in a run: on which event, how strong, why."""

    event_id: str
    mode: str
    key: str
    status: str
    score: float
    detail: str
    alert_id: str | None


def findings_of(rule_id: str, result: PipelineResult) -> Iterator[RuleFinding]:
    """The findings of one rule in a run: an event rule's in the scores (live and shadow),
    a link or network rule's in its alerts."""
    for f, on in result.findings():
        if f.rule_id == rule_id:
            yield RuleFinding(on.event_id, on.mode, on.key, f.status, f.score, f.detail, on.alert_id)


def known_rule(rule_id: str, settings: Settings) -> RuleRow:
    """The rule of this id, or a ConfigError naming the ones there are."""
    rows = {r.id: r for r in rule_rows(settings)}
    if rule_id not in rows:
        raise ConfigError(f"no rule {rule_id!r}; there are: {', '.join(rows)}")
    return rows[rule_id]
