"""Backtesting: replay recorded traffic under a configuration and measure every rule.

``backtest`` runs the workers' stages over files (engine/replay.py, the very code the
workers run) with a configuration's settings: rule statuses (live, shadow, off),
rule configs, scoring thresholds. Then, per rule:

- *flags*: the events (or vessels) the rule would send an officer to: its live
  findings on alerts, its network alerts, and its shadow findings that alone reach
  the alert threshold (what it would alert if it were live);
- *per day*: flags over the days of traffic replayed;
- with the simulation's truth: *precision* (flags on a planted case's event or
  vessel / flags) and *cases* (planted cases the rule flagged);
- with outcomes (recorded, or simulated with ``gatehound simulate-outcomes``):
  *interventions* (flags whose alert was examined), *yield* (seizures and arrests
  per 100 interventions) and the *nugatory* rate (interventions that found nothing
  / interventions). A shadow flag raised no alert, so it has no outcome.

Two configurations on the same files give two reports, and their difference per rule
(``compare``): a rule tried in shadow against the live set, a threshold moved.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import ConfigError
from engine.evaluate import Evaluation, case_targets, cases_hit, evaluate
from engine.pipeline import PipelineResult
from engine.replay import replay_files
from engine.settings import Settings
from schemas import Alert, Score
from schemas.outcome import Outcome

FOUND = ("seizure", "arrest")


def load_config(path: Path | None) -> dict[str, Any]:
    """A configuration file (JSON or TOML) of settings, as ``GATEHOUND_*`` would give them:
    ``{"rules": {"passenger_late_cash_booking": {"status": "shadow"}}, "scoring": {...}}``."""
    if path is None:
        return {}
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read the configuration ({exc})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a configuration is a mapping of settings")
    return data


def settings_for(config: dict[str, Any]) -> Settings:
    """Settings with a configuration's values over the defaults and the environment."""
    try:
        return Settings(**config)
    except ValueError as exc:
        raise ConfigError(f"the configuration does not fit the settings: {exc}") from exc


@dataclass
class RuleResult:
    """One rule's figures in a backtest."""

    status: str
    flags: int = 0
    true_flags: int = 0
    cases: set[int] = field(default_factory=set)
    interventions: int = 0
    finds: int = 0
    nothing: int = 0

    def as_dict(self, days: float, truth: bool, outcomes: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "flags": self.flags,
                               "per_day": round(self.flags / days, 2) if days else None}
        if truth:
            out["precision"] = round(self.true_flags / self.flags, 4) if self.flags else None
            out["cases"] = len(self.cases)
        if outcomes:
            out["interventions"] = self.interventions
            n = self.interventions
            out["yield_per_100"] = round(100 * self.finds / n, 1) if n else None
            out["nugatory_rate"] = round(self.nothing / n, 4) if n else None
        return out


@dataclass
class Report:
    """A backtest: per-rule figures, and with truth the alert-level evaluation."""

    rules: dict[str, RuleResult]
    days: float
    events: int
    alerts: int
    evaluation: Evaluation | None = None
    outcomes: bool = False

    def as_dict(self) -> dict[str, Any]:
        truth = self.evaluation is not None
        return {
            "events": self.events, "alerts": self.alerts, "days": round(self.days, 2),
            "evaluation": self.evaluation.as_dict() if self.evaluation else None,
            "rules": {r: v.as_dict(self.days, truth, self.outcomes) for r, v in sorted(self.rules.items())},
        }


def _flags(result: PipelineResult, threshold: float) -> Iterable[tuple[str, str, str, str | None, str]]:
    """(rule, status, event id, key, alert id or "") for every flag of the run."""
    for f, on in result.findings():
        alert_id = on.alert_id if on.alert_id is not None else ""
        if f.status == "live" and alert_id:
            yield f.rule_id, "live", on.event_id, on.key, alert_id
        elif f.status == "shadow" and f.score >= threshold:
            yield f.rule_id, "shadow", on.event_id, on.key, ""


def measure(
    result: PipelineResult, settings: Settings, truth: list[dict[str, Any]] | None = None,
    outcomes: Sequence[Outcome] | None = None,
) -> Report:
    """The figures of one run (see the module docstring)."""
    by_target = case_targets(truth) if truth is not None else {}
    outcome_of = {o.alert_id: o for o in outcomes or ()}
    rules: dict[str, RuleResult] = {}
    seen: set[tuple[str, str]] = set()
    for rule, status, event_id, key, alert_id in _flags(result, settings.scoring.alert_threshold):
        if (rule, alert_id or event_id) in seen:
            continue
        seen.add((rule, alert_id or event_id))
        r = rules.setdefault(rule, RuleResult(status))
        r.flags += 1
        hit = cases_hit(by_target, event_id, key)
        r.true_flags += bool(hit)
        r.cases.update(hit)
        outcome = outcome_of.get(alert_id)
        if outcome is not None and outcome.result != "not_examined":
            r.interventions += 1
            r.finds += outcome.result in FOUND
            r.nothing += outcome.result == "nothing_found"
    alerts = [a.model_dump(mode="json") for a in result.alerts]
    return Report(
        rules=rules, days=_days(result.scores), events=len(result.scores),
        alerts=len({a["alert_id"] for a in alerts}),
        evaluation=None if truth is None else evaluate(truth, alerts), outcomes=outcomes is not None,
    )


def _days(scores: Sequence[Score]) -> float:
    """The span of the traffic, in days (at least one)."""
    if not scores:
        return 0.0
    times = [s.occurred_at for s in scores]
    return max(1.0, (max(times) - min(times)).total_seconds() / 86400)


def backtest(
    files: Sequence[Path], config: dict[str, Any], truth: list[dict[str, Any]] | None = None,
    outcomes: Sequence[Outcome] | None = None,
) -> tuple[Report, list[Alert]]:
    """Replay the files under a configuration and measure it; the alerts too."""
    settings = settings_for(config)
    result = replay_files(list(files), settings)
    return measure(result, settings, truth, outcomes), result.alerts


def render(report: Report, other: Report | None = None, names: tuple[str, str] = ("A", "B")) -> str:
    """A plain table per rule; with a second report, both side by side and the change."""
    truth, outcomes = report.evaluation is not None, report.outcomes
    head = ["rule", "status", "flags", "per day"] + (["precision", "cases"] if truth else []) + (
        ["interv.", "yield/100", "nugatory"] if outcomes else [])
    lines: list[list[str]] = []
    rules = sorted(set(report.rules) | set(other.rules if other else ()))

    def cells(r: RuleResult | None, rep: Report) -> list[str]:
        if r is None:
            return ["off", "0", "0"] + (["-", "0"] if truth else []) + (["0", "-", "-"] if outcomes else [])
        d = r.as_dict(rep.days, truth, outcomes)
        row = [d["status"], str(d["flags"]), f"{d['per_day']:.1f}" if d["per_day"] is not None else "-"]
        if truth:
            row += [f"{d['precision']:.1%}" if d["precision"] is not None else "-", str(d["cases"])]
        if outcomes:
            row += [str(d["interventions"]),
                    f"{d['yield_per_100']:.1f}" if d["yield_per_100"] is not None else "-",
                    f"{d['nugatory_rate']:.1%}" if d["nugatory_rate"] is not None else "-"]
        return row

    if other is None:
        lines = [[rule, *cells(report.rules.get(rule), report)] for rule in rules]
    else:
        head = ["rule"] + [f"{names[0]} {h}" for h in head[1:]] + [f"{names[1]} {h}" for h in head[1:]] + [
            "flags +/-"]
        for rule in rules:
            a, b = report.rules.get(rule), other.rules.get(rule)
            change = (b.flags if b else 0) - (a.flags if a else 0)
            lines.append([rule, *cells(a, report), *cells(b, other), f"{change:+d}"])
    widths = [max(len(h), *(len(row[i]) for row in lines)) if lines else len(h) for i, h in enumerate(head)]
    out = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))]
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in lines]
    for label, rep in ((names[0], report), (names[1], other)) if other else ((None, report),):
        if rep is None:
            continue
        prefix = f"{label}: " if label else ""
        line = f"{prefix}{rep.events} events over {rep.days:.1f} day(s), {rep.alerts} alerts"
        if rep.evaluation is not None:
            line += (f", alert precision {rep.evaluation.precision:.1%}, "
                     f"cases detected {sum(k.detected for k in rep.evaluation.kinds.values())}"
                     f"/{sum(k.cases for k in rep.evaluation.kinds.values())}")
        out.append(line)
    return "\n".join(out)
