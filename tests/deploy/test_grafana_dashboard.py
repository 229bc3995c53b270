"""The Grafana dashboard is a dashboard Grafana loads as provisioned, on the provisioned
Prometheus, and shows what the issue asks for."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from tests.deploy.promql import DASHBOARD, DEPLOY, dashboard_queries, metric_names, panels

PROVISIONING = DEPLOY / "grafana" / "provisioning"
COMPOSE = DEPLOY / "compose.yaml"


def dashboard() -> dict[str, Any]:
    return dict(json.loads(DASHBOARD.read_text(encoding="utf-8")))


def datasources() -> list[dict[str, Any]]:
    return list(yaml.safe_load((PROVISIONING / "datasources" / "prometheus.yaml").read_text())["datasources"])


def grafana_service() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]["grafana"])


def overlapping(boxes: list[tuple[str, dict[str, int]]]) -> list[tuple[str, str]]:
    """Pairs of panels whose grid boxes cover a common cell."""
    pairs = []
    for i, (a, pa) in enumerate(boxes):
        for b, pb in boxes[i + 1:]:
            if (pa["x"] < pb["x"] + pb["w"] and pb["x"] < pa["x"] + pa["w"]
                    and pa["y"] < pb["y"] + pb["h"] and pb["y"] < pa["y"] + pa["h"]):
                pairs.append((a, b))
    return pairs


def test_the_dashboard_is_a_current_grafana_dashboard() -> None:
    """It has a fixed uid, a schema version of Grafana 10-11, and panels with unique ids."""
    board = dashboard()
    assert board["uid"] == "gatehound" and board["title"]
    assert 36 <= board["schemaVersion"] <= 41
    ids = [p["id"] for p in panels(board)]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    assert "id" not in board or board["id"] is None, "a provisioned dashboard carries no database id"


def test_panels_fit_the_grid_without_overlapping() -> None:
    """Every panel lies within Grafana's 24 columns and none covers another."""
    boxes = [(p["title"], p["gridPos"]) for p in panels(dashboard())]
    for title, box in boxes:
        assert box["x"] >= 0 and box["w"] > 0 and box["x"] + box["w"] <= 24, title
    assert overlapping(boxes) == []
    assert overlapping([("a", {"x": 0, "y": 0, "w": 12, "h": 8}), ("b", {"x": 6, "y": 4, "w": 12, "h": 8})])


def test_every_query_runs_on_the_provisioned_prometheus() -> None:
    """Each panel and target names the provisioned Prometheus datasource by its uid."""
    [source] = datasources()
    assert source["type"] == "prometheus"
    for panel in panels(dashboard()):
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": source["uid"]}, panel["title"]
        assert panel["targets"], f"{panel['title']} has no query"
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == source["uid"], panel["title"]
            assert target["expr"].strip(), panel["title"]


def test_the_datasource_points_at_the_compose_prometheus() -> None:
    """The provisioned datasource's URL is the compose service `prometheus` on its port."""
    [source] = datasources()
    services = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]
    assert "prometheus" in services
    assert source["url"] == "http://prometheus:9090"
    assert "9090:9090" in services["prometheus"]["ports"]


def test_grafana_loads_the_dashboard_from_where_compose_mounts_it() -> None:
    """The dashboard provider's path is where compose mounts deploy/grafana/dashboards, and the
    provisioning directory is mounted where Grafana reads it."""
    provider = yaml.safe_load((PROVISIONING / "dashboards" / "gatehound.yaml").read_text())["providers"][0]
    mounts = dict(v.split(":")[:2] for v in grafana_service()["volumes"] if v.startswith("./"))
    assert mounts["./grafana/dashboards"] == provider["options"]["path"]
    assert mounts["./grafana/provisioning"] == "/etc/grafana/provisioning"
    assert (DEPLOY / "grafana" / "dashboards" / DASHBOARD.name).is_file()


@pytest.mark.parametrize("needed", [
    "gatehound_stage_events_in_total",  # throughput per stage
    "gatehound:consumer_lag_messages:sum",  # lag
    "gatehound_received_to_scored_seconds_bucket",  # latency percentiles
    "gatehound_ops_alert_delay_seconds_bucket",  # event to ops-centre latency
    "gatehound_deadletters_total",  # dead letters by reason
    "gatehound_typology_alerts_total",  # alert volume by severity and typology
    "gatehound_model_drift_total", "gatehound_model_rolling_auc",  # models
    "gatehound_fairness_ratio", "gatehound_fairness_disparities",  # fairness
    "gatehound_audit_chain_ok",  # audit chain status
    "gatehound_ops_requests_total", "gatehound_ops_sse_clients",  # ops centre
    "gatehound_screening_duration_seconds_bucket",  # screening time
    "up",  # workers up
])
def test_the_dashboard_shows(needed: str) -> None:
    """A panel queries each thing the issue asks the dashboard to show."""
    used = {name for _, expr in dashboard_queries() for name in metric_names(expr)}
    assert needed in used


def test_latency_panels_are_percentiles_of_the_histograms() -> None:
    """Latency panels use histogram_quantile over the received-to-scored and alert-delay buckets."""
    exprs = [expr for _, expr in dashboard_queries()]
    for bucket in ("gatehound_received_to_scored_seconds_bucket", "gatehound_ops_alert_delay_seconds_bucket"):
        assert any("histogram_quantile(0.99" in e and bucket in e for e in exprs), bucket
