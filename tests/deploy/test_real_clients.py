"""Tools that are not ours read what the engine exports: a real Prometheus server (Debian's
`prometheus`) scrapes a running worker and evaluates our rules on it, and kcat (librdkafka)
reads the alerts topic. Both run on loopback against a worker on the embedded broker."""

from __future__ import annotations

import asyncio
import json
import math
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import yaml

from engine.bench.run import produce
from engine.broker import free_port
from engine.messages import RawMessage
from engine.pipeline import Pipeline, PipelineResult
from engine.settings import ScreeningSettings, Settings
from engine.simulate.traffic import TrafficGenerator
from engine.supervise import WorkerProcess, error_lines, start_worker, stop_worker
from engine.up import start_ops
from schemas import Alert
from tests.conftest import fresh_settings
from tests.deploy.promql import ALERT_RULES

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
#: Screening is on, so the screening time is exported too.
WATCHLIST = ROOT / "tests" / "fixtures" / "watchlists" / "wanted.jsonl"
MESSAGES = 800
T = TypeVar("T")


@dataclass
class Running:
    """A worker that took known traffic, the Prometheus that watched it, and what replay
    says the worker must produce."""

    settings: Settings
    worker: WorkerProcess
    ops: WorkerProcess
    prometheus: str
    sent: int
    expected: PipelineResult


def tool(name: str, package: str) -> str:
    """The path of a command the tests drive; fail (not skip) without it: CI installs it."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: it comes with Debian's `{package}` package "
                    "(scripts/system-packages.sh, `make system`)")
    return path


def eventually(probe: Callable[[], T | None], timeout_s: float, what: str) -> T:
    """Call ``probe`` until it returns something, or fail saying what never happened."""
    deadline = time.monotonic() + timeout_s
    while True:
        got = probe()
        if got is not None:
            return got
        if time.monotonic() > deadline:
            pytest.fail(f"after {timeout_s:.0f} s: {what}")
        time.sleep(0.5)


def query(url: str, promql: str) -> list[dict[str, Any]]:
    """The instant vector a PromQL query gives now, through the HTTP API."""
    body = httpx.get(f"{url}/api/v1/query", params={"query": promql}, timeout=5).json()
    assert body["status"] == "success", body
    return list(body["data"]["result"])


def query_nonempty(url: str, promql: str) -> list[dict[str, Any]] | None:
    """The query's result, or None while it is empty."""
    return query(url, promql) or None


def by_label(result: list[dict[str, Any]], label: str) -> dict[str, float]:
    """A query result's values by one of their labels."""
    return {sample["metric"].get(label, ""): float(sample["value"][1]) for sample in result}


def scrape_targets(worker: WorkerProcess, ops: WorkerProcess) -> dict[str, list[str]]:
    """What the test Prometheus scrapes, by job name (the job names of deploy/prometheus)."""
    return {
        "worker": [f"127.0.0.1:{worker.metrics_port}"],
        "ops": [f"127.0.0.1:{ops.metrics_port}"],  # the ops centre serves /metrics on its port
    }


@contextmanager
def prometheus_server(targets: dict[str, list[str]], workdir: Path) -> Iterator[str]:
    """A Prometheus server on a free loopback port, scraping ``targets`` every second with
    our alert rules loaded, its data in ``workdir``; yields its base URL, then stops it."""
    binary = tool("prometheus", "prometheus")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(ALERT_RULES)],
        "scrape_configs": [{"job_name": job, "static_configs": [{"targets": hosts}]}
                           for job, hosts in targets.items()],
    }
    config_path = workdir / "prometheus.yml"
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    log_path = workdir / "prometheus.log"
    url = f"http://127.0.0.1:{free_port()}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [binary, f"--config.file={config_path}", f"--storage.tsdb.path={workdir / 'data'}",
             f"--web.listen-address={url.removeprefix('http://')}", "--storage.tsdb.retention.time=1h"],
            stdout=log, stderr=subprocess.STDOUT,
        )

    def ready() -> bool | None:
        if process.poll() is not None:
            pytest.fail(f"prometheus exited: {log_path.read_text()[-2000:]}")
        try:
            return httpx.get(f"{url}/-/ready", timeout=2).status_code == 200 or None
        except httpx.TransportError:
            return None

    try:
        eventually(ready, 20, "Prometheus never became ready")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def running(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """One worker (metrics on a loopback port, screening on) scraped by Prometheus while it
    takes simulated traffic in two halves, so its counters rise between scrapes."""
    base = fresh_settings(kafka_bootstrap)
    settings = base.model_copy(update={"screening": ScreeningSettings(watchlists=[str(WATCHLIST)])})
    messages = list(TrafficGenerator(seed=11, malformed_share=0.02).messages(MESSAGES))
    expected = Pipeline(settings).run(
        RawMessage(value=m.value, key=m.key, topic=m.topic_base) for m in messages)
    assert expected.alerts, "the seeded traffic must raise alerts for the kcat test to mean much"
    worker = start_worker(settings, 1, tmp_path_factory.mktemp("worker"),
                          {"GATEHOUND_SCREENING__WATCHLISTS": json.dumps([str(WATCHLIST)])})
    ops, _ = start_ops(settings, tmp_path_factory.mktemp("ops"))
    try:
        with prometheus_server(scrape_targets(worker, ops), tmp_path_factory.mktemp("prometheus")) as url:
            half = len(messages) // 2
            asyncio.run(produce(settings, messages[:half]))
            # Rates need a series to rise between two scrapes: let Prometheus see the first
            # half scored and dead-lettered before the second half moves the counters on.
            for series in ("gatehound_received_to_scored_seconds_count", "gatehound_deadletters_total"):
                eventually(partial(query_nonempty, url, f"sum({series}) > 0"), 40,
                           f"Prometheus never saw {series} from the first half of the traffic")
            asyncio.run(produce(settings, messages[half:]))
            yield Running(settings, worker, ops, url, len(messages), expected)
    finally:
        stop_worker(ops)
        stop_worker(worker)


def test_prometheus_scrapes_the_worker_and_sees_every_stage(running: Running) -> None:
    """Prometheus finds the worker up, and its counters per stage account for all traffic sent:
    every raw message into normalise, every valid event out of decide."""
    prometheus = running.prometheus
    scored = len(running.expected.scores)

    def all_counted() -> dict[str, dict[str, float]] | None:
        seen_in = by_label(
            query(prometheus, 'sum by (stage) (gatehound_stage_events_in_total{job="worker"})'), "stage")
        seen_out = by_label(
            query(prometheus, 'sum by (stage) (gatehound_stage_events_out_total{job="worker"})'), "stage")
        done = seen_in.get("normalise") == running.sent and seen_out.get("decide") == scored
        return {"in": seen_in, "out": seen_out} if done else None

    seen = eventually(all_counted, 40,
                      f"Prometheus never counted {running.sent} messages in and {scored} scored")
    assert {"normalise", "decide"} <= set(seen["in"])
    assert by_label(query(prometheus, 'up{job="worker"}'), "job") == {"worker": 1.0}
    assert query(prometheus, "gatehound_screening_duration_seconds_count > 0"), "screening time not exported"
    # The latency SLO's boundary in alerts.yml is a bucket the worker really exports.
    assert query(prometheus, 'gatehound_received_to_scored_seconds_bucket{le="1.0"}')
    assert error_lines(running.worker.log_path) == []


def test_prometheus_scrapes_the_ops_centre(running: Running) -> None:
    """Prometheus finds the ops centre up; it has stored every alert the worker raised, has
    checked the audit chain, and reports its own requests."""
    prometheus = running.prometheus
    alerts = len({a.alert_id for a in running.expected.alerts})

    def stored() -> float | None:
        result = query(prometheus, 'sum(gatehound_ops_alerts_stored_total{job="ops"})')
        return float(result[0]["value"][1]) if result and float(result[0]["value"][1]) == alerts else None

    eventually(stored, 40, f"Prometheus never saw the ops centre store {alerts} alerts")
    assert by_label(query(prometheus, 'up{job="ops"}'), "job") == {"ops": 1.0}
    assert by_label(query(prometheus, "gatehound_audit_chain_ok"), "job") == {"ops": 1.0}
    assert query(prometheus, 'gatehound_ops_requests_total{route="/metrics"}'), "its own requests not counted"
    assert error_lines(running.ops.log_path) == []


def test_prometheus_evaluates_our_rules_on_the_worker_s_metrics(running: Running) -> None:
    """The alert rules load in a real server, evaluate without errors, and the recording
    rules give values from the worker's series."""
    prometheus = running.prometheus

    def value_of(promql: str) -> float | None:
        result = query(prometheus, promql)
        value = float(result[0]["value"][1]) if result else math.nan
        return None if math.isnan(value) else value

    slow = eventually(lambda: value_of("gatehound:received_to_scored_slow:ratio_rate5m"), 30,
                      "the latency recording rule never had a value")
    assert 0.0 <= slow <= 1.0
    dead = eventually(lambda: value_of("gatehound:deadletter:ratio_rate10m"), 30,
                      "the dead-letter recording rule never had a value")
    assert 0.0 < dead < 0.05, "the traffic's 2% malformed messages, seen as a share"
    groups = httpx.get(f"{prometheus}/api/v1/rules", timeout=5).json()["data"]["groups"]
    assert {g["name"] for g in groups} >= {"gatehound-pipeline", "gatehound-processes"}
    broken = [(r["name"], r.get("lastError")) for g in groups for r in g["rules"] if r["health"] == "err"]
    assert broken == []


def kcat_command(bootstrap: str, topic: str) -> list[str]:
    """kcat reading a topic from its start to its end, one message value per line."""
    command = [tool("kcat", "kcat"), "-b", bootstrap, "-C", "-t", topic, "-e", "-q"]
    if os.environ.get("GATEHOUND_TEST_BOOTSTRAP"):
        return [*command, "-o", "beginning"]
    # The embedded broker (Tansu) answers ApiVersions v3 with tagged fields that
    # librdkafka 2.0 (Debian's kcat) misreads, and ListOffsets v0 short. So against it
    # kcat speaks the protocol versions it used before ApiVersions existed, and starts at
    # offset 0 instead of asking where the beginning is. Apache Kafka needs neither.
    return [*command, "-o", "0", "-X", "api.version.request=false", "-X", "broker.version.fallback=0.9.0"]


def test_kcat_reads_the_alerts_and_each_is_a_valid_alert(running: Running) -> None:
    """kcat reads every alert replay expects from the alerts topic, once, and each line
    validates against schemas.Alert."""
    command = kcat_command(running.settings.kafka.bootstrap_servers, running.settings.topics.name("alerts"))
    want = {a.alert_id for a in running.expected.alerts}

    def read_all() -> list[bytes] | None:
        done = subprocess.run(command, capture_output=True, timeout=30)
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        lines = [line for line in done.stdout.splitlines() if line.strip()]
        return lines if len(lines) >= len(want) else None

    lines = eventually(read_all, 40, f"kcat never read the {len(want)} alerts replay raises")
    alerts = [Alert.model_validate_json(line) for line in lines]
    assert {a.alert_id for a in alerts} == want
    assert len(alerts) == len(want), "an alert was produced twice"
