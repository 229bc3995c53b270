"""Every metric the dashboard and the alert rules query is one engine/metrics.py declares,
with the labels it has: a renamed metric breaks this test, not a dashboard in production."""

from __future__ import annotations

import pytest
from prometheus_client.metrics import MetricWrapperBase

import engine.metrics
from tests.deploy.promql import dashboard_queries, exported_series, label_matchers, metric_names, rules

#: Series Prometheus makes itself.
BUILT_IN = {"up": {"job", "instance"}}


def declared() -> dict[str, set[str]]:
    """Series engine/metrics.py exports (name -> labels), and Prometheus's own."""
    collectors = [v for v in vars(engine.metrics).values() if isinstance(v, MetricWrapperBase)]
    return {**exported_series(collectors), **BUILT_IN}


def recorded() -> set[str]:
    """Names of the recording rules in deploy/prometheus/alerts.yml."""
    return {r["record"] for r in rules() if "record" in r}


def undeclared(expr: str, known: dict[str, set[str]], recordings: set[str]) -> set[str]:
    """Names an expression reads that are neither exported nor recorded."""
    return {n for n in metric_names(expr) if n not in known and n not in recordings}


def unknown_labels(expr: str, known: dict[str, set[str]]) -> set[str]:
    """``metric:label`` for each label a selector matches on that its metric does not have."""
    return {
        f"{name}:{label}"
        for name, labels in label_matchers(expr).items() if name in known
        for label in labels - known[name]
    }


def all_expressions() -> list[tuple[str, str]]:
    """(where, PromQL) of every dashboard query and every rule."""
    found = [(f"dashboard panel {title!r}", expr) for title, expr in dashboard_queries()]
    for rule in rules():
        found.append((f"rule {rule.get('alert') or rule.get('record')}", rule["expr"]))
    return found


def test_the_extractor_keeps_metric_names_and_drops_functions_keywords_and_labels() -> None:
    """Functions, aggregations, grouping labels, matchers, ranges and numbers are not metric names."""
    expr = (
        'histogram_quantile(0.99, sum by (le, mode) (rate(gatehound_received_to_scored_seconds_bucket'
        '{mode=~"pass.*", le!="+Inf"}[$__rate_interval]))) > 1e3 * 2.5 '
        'and on (mode) max without (instance) (gatehound:lag:sum offset 5m) '
        'or absent(up{job="worker"} == bool 1) unless topk(3, x_total[10m:1m])'
    )
    latency = "gatehound_received_to_scored_seconds_bucket"
    assert metric_names(expr) == {latency, "gatehound:lag:sum", "up", "x_total"}
    assert label_matchers(expr) == {latency: {"mode", "le"}, "up": {"job"}}


def test_a_metric_engine_metrics_does_not_declare_is_caught() -> None:
    """A made-up name, and a counter queried without its _total suffix, are both reported."""
    known, recordings = declared(), recorded()
    assert undeclared('sum(rate(gatehound_made_up_total{stage="x"}[5m]))', known, recordings) == {
        "gatehound_made_up_total"
    }
    assert undeclared("rate(gatehound_deadletters[5m])", known, recordings) == {"gatehound_deadletters"}
    assert undeclared("rate(gatehound_deadletters_total[5m])", known, recordings) == set()


def test_a_label_the_metric_does_not_have_is_caught() -> None:
    """Matching dead letters on ``mode`` (they carry stage and reason) is reported."""
    known = declared()
    assert unknown_labels('gatehound_deadletters_total{mode="vessel"}', known) == {
        "gatehound_deadletters_total:mode"
    }
    assert unknown_labels('gatehound_deadletters_total{stage="normalise", job="worker"}', known) == set()


def test_the_screening_histogram_is_declared() -> None:
    """The screening time the dashboard plots is exported as a histogram."""
    known = declared()
    assert {f"gatehound_screening_duration_seconds_{s}" for s in ("bucket", "sum", "count")} <= set(known)


@pytest.mark.parametrize(("where", "expr"), all_expressions(), ids=lambda v: str(v)[:60])
def test_every_query_reads_only_declared_metrics(where: str, expr: str) -> None:
    """Each dashboard query and rule reads metrics engine/metrics.py exports, or recording rules."""
    assert metric_names(expr), f"{where}: no metric found in {expr!r}"
    missing = undeclared(expr, declared(), recorded())
    assert not missing, f"{where} reads {sorted(missing)}, which engine/metrics.py does not export"


@pytest.mark.parametrize(("where", "expr"), all_expressions(), ids=lambda v: str(v)[:60])
def test_every_query_matches_only_labels_its_metrics_have(where: str, expr: str) -> None:
    """Each label matcher names a label its metric has (or job, instance, le)."""
    wrong = unknown_labels(expr, declared())
    assert not wrong, f"{where} matches on labels the metric does not have: {sorted(wrong)}"
