"""deploy/compose.yaml names only real images and real gatehound commands, scales workers,
creates the engine's topics, and is scraped by its Prometheus. (No Docker in CI: the file is
read, and the topic script is run against a stand-in for kafka-topics.sh.)"""

from __future__ import annotations

import base64
import os
import re
import shlex
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml

import engine.cli
from engine.flow.hops import state_changelogs
from engine.settings import SINGLE_PARTITION, Settings
from tests.deploy.settings_env import names_a_setting

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
PROMETHEUS = DEPLOY / "prometheus" / "prometheus.yml"
#: Images from registries, each a real published tag (checked by hand when changed).
KNOWN_IMAGES = {"apache/kafka:3.9.0", "postgres:16", "prom/prometheus:v2.53.0", "grafana/grafana:11.1.0"}
#: The image built from the repository's Dockerfile.
OUR_IMAGE = "gatehound:local"
KAFKA_TOPICS = "/opt/kafka/bin/kafka-topics.sh"

Service = dict[str, Any]


def services() -> dict[str, Service]:
    return dict(yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"])


def env(service: str) -> dict[str, str]:
    return {k: str(v) for k, v in services()[service].get("environment", {}).items()}


def default_of(value: str) -> str:
    """The value compose gives ``${VAR:-default}`` when VAR is unset (the value itself otherwise)."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value)


def cli_command(args: list[str]) -> Any:
    """The (click) command `gatehound ARGS...` runs, sub-groups followed, or fail. Typer
    vendors its own click, so groups are told by their `commands`, not by class."""
    command: Any = typer.main.get_command(engine.cli.app)
    for word in args:
        if not hasattr(command, "commands") or word.startswith("-"):
            break
        assert word in command.commands, f"`gatehound {word}` is not a command of engine/cli.py"
        command = command.commands[word]
    return command


def options_of(command: Any) -> set[str]:
    return {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}


def run_topic_script(tmp_path: Path, existing: list[str]) -> list[list[str]]:
    """Run the `topics` service's script with kafka-topics.sh replaced by a recorder that
    lists ``existing``; return the argument lists of every create call."""
    script = services()["topics"]["command"][0]
    assert "$" not in script.replace("$$", ""), "a lone $ would be interpolated by compose"
    calls = tmp_path / "calls"
    stub = tmp_path / "kafka-topics.sh"
    listing = "\n".join(existing)
    stub.write_text(
        "#!/bin/bash\n"
        f'printf "%s\\n" "$*" >> {shlex.quote(str(calls))}\n'
        f'if [[ " $* " == *" --list "* ]]; then printf "%s\\n" {shlex.quote(listing)}; fi\n',
        encoding="utf-8",
    )
    stub.chmod(stub.stat().st_mode | stat.S_IXUSR)
    body = script.replace("$$", "$").replace(KAFKA_TOPICS, str(stub))
    partitions = default_of(env("topics")["PARTITIONS"])
    done = subprocess.run(["bash", "-c", body], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PARTITIONS": partitions})
    assert done.returncode == 0, done.stderr
    return [shlex.split(line) for line in calls.read_text().splitlines() if "--create" in line]


def flag(args: list[str], name: str) -> list[str]:
    """Every value given after ``name`` in an argument list."""
    return [args[i + 1] for i, a in enumerate(args[:-1]) if a == name]


def test_every_image_is_a_known_real_image_with_an_explicit_tag() -> None:
    """Registry images are from the known list (no `latest`); ours is built from the Dockerfile."""
    for name, service in services().items():
        image = service.get("image")
        if "build" in service:
            assert image == OUR_IMAGE, name
            assert (COMPOSE.parent / service["build"]["context"] / service["build"]["dockerfile"]).is_file()
        else:
            assert image in KNOWN_IMAGES, f"{name}: {image} is not a known image and tag"


def test_every_gatehound_command_exists_with_its_options() -> None:
    """Each command a service gives our image is a command of engine/cli.py, with options it has."""
    ours = {n: s for n, s in services().items() if s.get("image") == OUR_IMAGE}
    assert {"worker", "ops"} <= set(ours)
    for name, service in ours.items():
        args = [str(a) for a in service["command"]]
        command = cli_command(args)
        given = {a.split("=")[0] for a in args if a.startswith("--")}
        assert given <= options_of(command), f"{name}: unknown options {given - options_of(command)}"


def test_the_command_check_catches_a_made_up_command() -> None:
    """A command engine/cli.py does not have fails the check above."""
    with pytest.raises(AssertionError, match="not a command"):
        cli_command(["serve-everything"])
    assert "--rate" in options_of(cli_command(["simulate"]))


def test_workers_can_be_scaled() -> None:
    """The worker service has no container name and no host port, and serves metrics on all
    interfaces, so `--scale worker=N` runs N that Prometheus can reach."""
    worker = services()["worker"]
    assert "container_name" not in worker
    assert "ports" not in worker
    assert env("worker")["GATEHOUND_WORKER__METRICS_ADDR"] == "0.0.0.0"
    assert env("worker")["GATEHOUND_WORKER__METRICS_PORT"] in [str(p) for p in worker["expose"]]


def test_health_checks_ask_each_role_on_its_own_port() -> None:
    """The image's health check URL is the worker's metrics port and the ops centre's /healthz."""
    assert env("worker")["HEALTHCHECK_URL"] == (
        f"http://127.0.0.1:{env('worker')['GATEHOUND_WORKER__METRICS_PORT']}/metrics")
    assert env("ops")["HEALTHCHECK_URL"] == f"http://127.0.0.1:{env('ops')['GATEHOUND_OPS__PORT']}/healthz"
    ops_port = env("ops")["GATEHOUND_OPS__PORT"]
    assert f"{ops_port}:{ops_port}" in services()["ops"]["ports"]


def test_prometheus_scrapes_every_worker_and_the_ops_centre() -> None:
    """Workers are found by DNS (an A record per replica) on their metrics port; the ops
    centre is scraped on its web port; the alert rules are loaded from the mounted directory."""
    config = yaml.safe_load(PROMETHEUS.read_text(encoding="utf-8"))
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    [dns] = jobs["worker"]["dns_sd_configs"]
    assert dns["names"] == ["worker"] and dns["type"] == "A"
    assert dns["port"] == int(env("worker")["GATEHOUND_WORKER__METRICS_PORT"])
    [static] = jobs["ops"]["static_configs"]
    assert static["targets"] == [f"ops:{env('ops')['GATEHOUND_OPS__PORT']}"]
    assert "alerts.yml" in config["rule_files"]
    prometheus = services()["prometheus"]
    assert "./prometheus:/etc/prometheus:ro" in prometheus["volumes"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]


def test_kafka_runs_in_kraft_mode_where_the_engine_looks_for_it() -> None:
    """The broker is its own KRaft controller, with a well-formed cluster id, and advertises the
    address the engine's services bootstrap from."""
    kafka = env("kafka")
    assert set(kafka["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert len(base64.urlsafe_b64decode(kafka["CLUSTER_ID"] + "==")) == 16
    assert f"PLAINTEXT://{env('worker')['GATEHOUND_KAFKA__BOOTSTRAP_SERVERS']}" in kafka[
        "KAFKA_ADVERTISED_LISTENERS"].split(",")
    assert kafka["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    for name in ("worker", "ops", "simulator"):
        assert services()[name]["depends_on"]["topics"]["condition"] == "service_completed_successfully"


def test_the_topic_script_creates_every_topic_the_engine_uses(tmp_path: Path) -> None:
    """Run for real (against a recorder): every engine topic and state changelog is created,
    outcomes with one partition, the others with the workers' partition count; keyed state
    (changelogs, models, watchlists) is compacted, everything else has a retention."""
    assert env("topics")["PARTITIONS"] == env("worker")["GATEHOUND_TOPICS__PARTITIONS"]
    partitions = default_of(env("worker")["GATEHOUND_TOPICS__PARTITIONS"])
    settings = Settings(topics={"partitions": int(partitions)})  # type: ignore[arg-type]
    wanted = set(settings.topics.all_names()) | set(state_changelogs(settings))
    created = {flag(args, "--topic")[0]: args for args in run_topic_script(tmp_path, existing=[])}
    assert set(created) == wanted
    compacted = {"models", "watchlists", *state_changelogs(settings)}
    for topic, args in created.items():
        expected = "1" if topic in SINGLE_PARTITION else partitions
        assert flag(args, "--partitions") == [expected], topic
        configs = flag(args, "--config")
        if topic in compacted:
            assert "cleanup.policy=compact" in configs, topic
        else:
            assert any(c.startswith("retention.ms=") for c in configs), topic


def test_the_topic_script_leaves_existing_topics_alone(tmp_path: Path) -> None:
    """A second run creates only what is missing."""
    created = run_topic_script(tmp_path, existing=["alerts", "scores"])
    names = {flag(args, "--topic")[0] for args in created}
    assert names and not names & {"alerts", "scores"}


def test_every_variable_set_names_a_setting() -> None:
    """Each GATEHOUND_* variable given to a service is a setting the engine reads."""
    for name, service in services().items():
        for variable in service.get("environment", {}):
            if variable.startswith("GATEHOUND_"):
                assert names_a_setting(variable), f"{name}: {variable} is not a setting"
