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

With a daily intervention *budget*, the replay runs in event-time order and learns:
outcomes (recorded, or drawn from the truth as each alert is raised) teach the yield
models when the traffic's clock reaches them (engine/feedback/). The *learning curve*
then takes each day's alerts and examines the ``budget`` best of them two ways: by the
rules' score alone, and by the learned chance of a find (the rules' score until the
model is trusted). Its precision is finds / examined among those chosen.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import ConfigError
from engine.evaluate import Evaluation, case_targets, cases_hit, evaluate
from engine.feedback.outcomes import OutcomeSource, RecordedOutcomes, SimulatedOutcomes
from engine.pipeline import PipelineResult
from engine.replay import replay_files
from engine.settings import Settings, read_config_file
from schemas import Alert, Score
from schemas.outcome import Outcome

FOUND = ("seizure", "arrest")


def load_config(path: Path | None) -> dict[str, Any]:
    """A configuration file (JSON or TOML) of settings, as ``GATEHOUND_*`` would give them:
    ``{"rules": {"passenger_late_cash_booking": {"status": "shadow"}}, "scoring": {...}}``."""
    return {} if path is None else read_config_file(path)


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

    def count(self, outcome: Outcome | None) -> None:
        """Take the outcome of one of its flags' alerts into the figures."""
        if outcome is not None and outcome.result != "not_examined":
            self.interventions += 1
            self.finds += outcome.result in FOUND
            self.nothing += outcome.result == "nothing_found"

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
class CurveDay:
    """One day of the learning curve: the budget's picks by rules alone and with learning."""

    day: str
    alerts: int
    outcomes_learned: int
    rules: tuple[int, int]  # (finds, examined) among the rules' picks
    learned: tuple[int, int]  # (finds, examined) among the learned picks

    def as_dict(self) -> dict[str, Any]:
        return {"day": self.day, "alerts": self.alerts, "outcomes_learned": self.outcomes_learned,
                "rules_precision": _share(*self.rules), "learned_precision": _share(*self.learned),
                "rules_finds": self.rules[0], "learned_finds": self.learned[0]}


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass
class Report:
    """A backtest: per-rule figures, and with truth the alert-level evaluation."""

    rules: dict[str, RuleResult]
    days: float
    events: int
    alerts: int
    evaluation: Evaluation | None = None
    outcomes: bool = False
    budget: int | None = None
    curve: list[CurveDay] = field(default_factory=list)
    #: Per typology: its alerts, and with outcomes their interventions, finds and nothing found.
    typologies: dict[str, RuleResult] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        truth = self.evaluation is not None
        out = {
            "events": self.events, "alerts": self.alerts, "days": round(self.days, 2),
            "evaluation": self.evaluation.as_dict() if self.evaluation else None,
            "rules": {r: v.as_dict(self.days, truth, self.outcomes) for r, v in sorted(self.rules.items())},
        }
        out["typologies"] = {t: v.as_dict(self.days, False, self.outcomes)
                             for t, v in sorted(self.typologies.items())}
        if self.budget is not None:
            out["learning_curve"] = {"budget_per_day": self.budget, "days": [d.as_dict() for d in self.curve]}
        return out


def learning_curve(result: PipelineResult, outcomes: dict[str, Outcome], budget: int) -> list[CurveDay]:
    """Per day of event time: precision among the ``budget`` alerts chosen by the rules'
    score and among those chosen by the learned chance of a find (see the module docstring)."""
    event_time = {s.event_id: s.occurred_at for s in result.scores}
    days: dict[str, dict[str, Alert]] = {}
    for a in result.alerts:
        at = event_time.get(a.event_id)
        if at is not None:
            days.setdefault(at.date().isoformat(), {}).setdefault(a.alert_id, a)
    learned_by: dict[str, int] = {}
    for a in result.alerts:
        champion = [m for m in a.model_scores if m.kind == "yield" and m.role == "champion"]
        if champion and a.event_id in event_time:
            day = event_time[a.event_id].date().isoformat()
            learned = int(champion[0].model_version.rpartition("+")[2] or 0)
            learned_by[day] = max(learned_by.get(day, 0), learned)

    def picks(alerts: list[Alert], key: Any) -> tuple[int, int]:
        chosen = sorted(alerts, key=key)[:budget]
        known = [outcomes[a.alert_id] for a in chosen if a.alert_id in outcomes]
        examined = [o for o in known if o.result != "not_examined"]
        return sum(o.result in FOUND for o in examined), len(examined)

    curve = []
    for day, by_id in sorted(days.items()):
        alerts = list(by_id.values())
        curve.append(CurveDay(
            day=day, alerts=len(alerts), outcomes_learned=learned_by.get(day, 0),
            rules=picks(alerts, lambda a: (-a.score, a.alert_id)),
            learned=picks(alerts, lambda a: (-(a.yield_estimate if a.yield_estimate is not None else a.score),
                                            a.alert_id)),
        ))
    return curve


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
        r.count(outcome_of.get(alert_id))
    typologies: dict[str, RuleResult] = {}
    for alert in {a.alert_id: a for a in result.alerts}.values():
        if alert.typology is not None:
            t = typologies.setdefault(alert.typology.typology_id, RuleResult("typology"))
            t.flags += 1
            t.count(outcome_of.get(alert.alert_id))
    alerts = [a.model_dump(mode="json") for a in result.alerts]
    return Report(
        rules=rules, days=_days(result.scores), events=len(result.scores),
        alerts=len({a["alert_id"] for a in alerts}),
        evaluation=None if truth is None else evaluate(truth, alerts), outcomes=outcomes is not None,
        typologies=typologies,
    )


def _days(scores: Sequence[Score]) -> float:
    """The span of the traffic, in days (at least one)."""
    if not scores:
        return 0.0
    times = [s.occurred_at for s in scores]
    return max(1.0, (max(times) - min(times)).total_seconds() / 86400)


def backtest(
    files: Sequence[Path], config: dict[str, Any], truth: list[dict[str, Any]] | None = None,
    outcomes: Sequence[Outcome] | None = None, budget: int | None = None, seed: int = 1,
) -> tuple[Report, list[Alert]]:
    """Replay the files under a configuration and measure it; the alerts too. With a
    ``budget``, learn from the outcomes (drawn from the truth when none are given) and
    draw the learning curve."""
    settings = settings_for(config)
    source: OutcomeSource | None = None
    if budget is not None:
        if outcomes is not None:
            source = RecordedOutcomes(outcomes)
        elif truth is not None:
            source = SimulatedOutcomes(truth, seed)
        else:
            raise ConfigError("a budget needs outcomes to learn from: give --outcomes or --truth")
    result = replay_files(list(files), settings, outcomes=source)
    if isinstance(source, SimulatedOutcomes):
        outcomes = list(source.drawn.values())
    report = measure(result, settings, truth, outcomes)
    if budget is not None:
        report.budget = budget
        report.curve = learning_curve(result, {o.alert_id: o for o in outcomes or ()}, budget)
    return report, result.alerts


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
        for typology, t in sorted(rep.typologies.items()):
            d = t.as_dict(rep.days, False, rep.outcomes)
            figures = f"typology {typology}: {d['flags']} alerts, {d['per_day']} a day"
            if rep.outcomes and d["interventions"]:
                figures += (f", {d['interventions']} interventions, yield {d['yield_per_100']}/100, "
                            f"nugatory {d['nugatory_rate']:.1%}")
            out.append(figures)
        if rep.budget is not None:
            out.append(render_curve(rep))
    return "\n".join(out)


def render_curve(report: Report) -> str:
    """The learning curve as a table: precision at the daily budget, rules alone and learned."""
    def pct(finds: int, examined: int) -> str:
        return f"{finds / examined:.0%} ({finds}/{examined})" if examined else "-"

    head = ["day", "alerts", "outcomes learned", "rules alone", "rules + learning"]
    rows = [[d.day, str(d.alerts), str(d.outcomes_learned), pct(*d.rules), pct(*d.learned)]
            for d in report.curve]
    total_rules = (sum(d.rules[0] for d in report.curve), sum(d.rules[1] for d in report.curve))
    total_learned = (sum(d.learned[0] for d in report.curve), sum(d.learned[1] for d in report.curve))
    rows.append(["all", str(sum(d.alerts for d in report.curve)), "", pct(*total_rules), pct(*total_learned)])
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    lines = [f"precision at a budget of {report.budget} interventions a day (finds / examined):",
             "  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)
