"""Score an engine run against a simulation's ground truth.

``truth.jsonl`` (written by ``gatehound simulate``) has one planted case per line; each
case's ``expect`` lists the events a good engine flags (``event_id``) or the vessels
(``key``, e.g. ``mmsi:235000123``) any of whose reports it flags. An alert *detects*
a case when its event id or key is one of the case's; it is a *true alert* when it
detects at least one case. Then:

- recall of a kind = cases of that kind detected / cases of that kind;
- alert precision = true alerts / alerts (the rest are the nugatory interventions
  a run would have sent officers to).

Alerts are counted once per ``alert_id``, so a file with a replay's repeats in it
scores the same as one without.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from engine.errors import GatehoundError


class BadInput(GatehoundError):
    """A truth or alerts file that cannot be read as such."""


@dataclass
class KindResult:
    """The cases of one kind, and how many of them some alert detected."""

    cases: int = 0
    detected: int = 0

    @property
    def recall(self) -> float:
        """Share of the cases detected (0 when there are none)."""
        return self.detected / self.cases if self.cases else 0.0


@dataclass
class Evaluation:
    """Recall per case kind and alert precision of one run."""

    kinds: dict[str, KindResult] = field(default_factory=dict)
    alerts: int = 0
    true_alerts: int = 0

    @property
    def precision(self) -> float:
        """Share of the alerts that detect some case (0 with no alerts)."""
        return self.true_alerts / self.alerts if self.alerts else 0.0

    def as_dict(self) -> dict[str, Any]:
        """The figures as plain JSON-ready values."""
        return {
            "kinds": {
                k: {"cases": r.cases, "detected": r.detected, "recall": round(r.recall, 4)}
                for k, r in sorted(self.kinds.items())
            },
            "alerts": self.alerts,
            "true_alerts": self.true_alerts,
            "precision": round(self.precision, 4),
        }


def read_jsonl(path: Path, what: str) -> list[dict[str, Any]]:
    """Every line of a JSON-lines file as an object, or BadInput naming the line."""
    records = []
    with path.open("rb") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                doc = orjson.loads(line)
            except orjson.JSONDecodeError:
                raise BadInput(f"{path}:{number}: not JSON; expected {what}") from None
            if not isinstance(doc, dict):
                raise BadInput(f"{path}:{number}: not a JSON object; expected {what}")
            records.append(doc)
    return records


def case_targets(cases: list[dict[str, Any]]) -> dict[str, list[int]]:
    """Which cases (by index) each target names: ``event_id:<id>`` and ``key:<key>``."""
    by_target: dict[str, list[int]] = {}
    for index, case in enumerate(cases):
        if not isinstance(case.get("kind"), str) or not isinstance(case.get("expect"), list):
            raise BadInput(f"case {index + 1}: a truth case needs a kind and an expect list")
        for target in case["expect"]:
            for name in ("event_id", "key"):
                if isinstance(target, dict) and isinstance(target.get(name), str):
                    by_target.setdefault(f"{name}:{target[name]}", []).append(index)
    return by_target


def cases_hit(by_target: dict[str, list[int]], event_id: object, key: object) -> list[int]:
    """The cases an alert (or any flag) on this event id or key detects."""
    return by_target.get(f"event_id:{event_id}", []) + by_target.get(f"key:{key}", [])


def evaluate(truth: Iterable[dict[str, Any]], alerts: Iterable[dict[str, Any]]) -> Evaluation:
    """Match alerts to cases by event id or key."""
    result = Evaluation()
    cases = list(truth)
    by_target = case_targets(cases)
    for case in cases:
        result.kinds.setdefault(case["kind"], KindResult()).cases += 1
    detected: set[int] = set()
    seen: set[str] = set()
    for alert in alerts:
        alert_id = alert.get("alert_id")
        if not isinstance(alert_id, str):
            raise BadInput("an alert without an alert_id: is this an alerts file?")
        if alert_id in seen:
            continue
        seen.add(alert_id)
        hits = cases_hit(by_target, alert.get("event_id"), alert.get("key"))
        result.alerts += 1
        if hits:
            result.true_alerts += 1
            detected.update(hits)
    for index in detected:
        result.kinds[cases[index]["kind"]].detected += 1
    return result


def render(result: Evaluation) -> str:
    """A plain table: one row per kind, then the precision line."""
    width = max([len("kind"), *(len(k) for k in result.kinds)])
    lines = [f"{'kind':<{width}}  cases  detected  recall"]
    for kind, r in sorted(result.kinds.items()):
        lines.append(f"{kind:<{width}}  {r.cases:>5}  {r.detected:>8}  {r.recall:>6.1%}")
    lines.append(
        f"alerts: {result.alerts}, detecting a case: {result.true_alerts}, "
        f"precision: {result.precision:.1%}"
    )
    return "\n".join(lines)
