"""What the PromQL in deploy/ refers to: metric names and label matchers, read without
a PromQL parser (none is packaged for Python) by removing what is not a metric name.

>>> sorted(metric_names('sum by (stage) (rate(gatehound_x_total{mode="a"}[5m])) / on() up'))
['gatehound_x_total', 'up']
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from prometheus_client.metrics import MetricWrapperBase

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "gatehound.json"
ALERT_RULES = DEPLOY / "prometheus" / "alerts.yml"

# Words that can stand where a metric name could and are not one: aggregation operators
# (written `sum by (x) (...)` as well as `sum(...)`), keywords and set operators, literals.
KEYWORDS = frozenset({
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk",
    "quantile", "limitk", "limit_ratio", "by", "without", "on", "ignoring", "group_left", "group_right",
    "bool", "and", "or", "unless", "offset", "atan2", "inf", "nan",
})
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
# Label lists of grouping and matching clauses: `by (a, b)`, `on()`, `group_left (c)`.
_LABEL_LIST = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", re.IGNORECASE)
# Ranges, subqueries and Grafana's variables: `[5m]`, `[10m:1m]`, `[$__rate_interval]`.
_RANGE = re.compile(r"\[[^\]]*\]")
_VARIABLE = re.compile(r"\$\{?\w+\}?")
_MATCHERS = re.compile(r"\{[^{}]*\}")
# An identifier not preceded by a word character or a dot: `1e3` and `5m` are not names.
_NAME = re.compile(r"(?<![\w.:])([A-Za-z_:][\w:]*)")
_SELECTOR = re.compile(r"(?<![\w.:])([A-Za-z_:][\w:]*)\s*\{([^{}]*)\}")
_MATCHER = re.compile(r"([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)")


def _blank_strings(expr: str) -> str:
    return _STRING.sub('""', expr)


def metric_names(expr: str) -> set[str]:
    """Every metric (or recording rule) name an expression reads."""
    text = _blank_strings(expr)
    text = _LABEL_LIST.sub(" ", text)
    text = _MATCHERS.sub(" ", text)
    text = _RANGE.sub(" ", text)
    text = _VARIABLE.sub(" ", text)
    names = set()
    for match in _NAME.finditer(text):
        word = match.group(1)
        following = text[match.end():].lstrip()
        if following.startswith("("):  # a function call or `sum(...)`
            continue
        if word.lower() in KEYWORDS:
            continue
        names.add(word)
    return names


def label_matchers(expr: str) -> dict[str, set[str]]:
    """Metric name -> the label names its selectors match on, e.g. ``{stage="x"}`` -> stage."""
    found: dict[str, set[str]] = {}
    for match in _SELECTOR.finditer(_blank_strings(expr)):
        name, body = match.groups()
        if name.lower() in KEYWORDS:
            continue
        found.setdefault(name, set()).update(_MATCHER.findall(body))
    return found


def exported_series(collectors: list[MetricWrapperBase]) -> dict[str, set[str]]:
    """The series names these collectors export, each with the labels its samples carry.

    A counter ``x`` is ``x_total``; a histogram ``x`` is ``x_bucket`` (with ``le``),
    ``x_sum`` and ``x_count``; a gauge is its name. Prometheus adds ``job`` and ``instance``.
    """
    series: dict[str, set[str]] = {}
    for collector in collectors:
        for family in collector.describe():
            # prometheus_client keeps a metric's label names only on the wrapper itself.
            labels = set(collector._labelnames) | {"job", "instance"}
            if family.type == "counter":
                series[f"{family.name}_total"] = labels
            elif family.type == "histogram":
                series[f"{family.name}_bucket"] = labels | {"le"}
                series[f"{family.name}_sum"] = labels
                series[f"{family.name}_count"] = labels
            elif family.type == "summary":
                series[family.name] = labels | {"quantile"}
                series[f"{family.name}_sum"] = labels
                series[f"{family.name}_count"] = labels
            else:
                series[family.name] = labels
    return series


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel of a dashboard, those inside collapsed rows too."""
    found = []
    for panel in dashboard.get("panels", []):
        found.append(panel)
        found.extend(panel.get("panels", []))
    return found


def dashboard_queries(path: Path = DASHBOARD) -> list[tuple[str, str]]:
    """(panel title, PromQL) of every query of the dashboard."""
    dashboard = json.loads(path.read_text(encoding="utf-8"))
    return [(p.get("title", ""), t["expr"])
            for p in panels(dashboard) for t in p.get("targets", []) if "expr" in t]


def rules(path: Path = ALERT_RULES) -> list[dict[str, Any]]:
    """Every recording and alerting rule of a rules file."""
    groups = yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"]]
