"""The command line teaches its options and replays files through the same stages."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.messages import RawMessage
from engine.pipeline import Pipeline
from engine.simulate import TrafficGenerator, write_jsonl

runner = CliRunner()


@pytest.mark.parametrize(
    ("command", "variable"),
    [
        ("worker", "GATEHOUND_KAFKA__BOOTSTRAP_SERVERS"),
        ("worker", "GATEHOUND_WORKER__METRICS_PORT"),
        ("tail", "GATEHOUND_TOPICS__PREFIX"),
        ("broker", "GATEHOUND_TOPICS__PARTITIONS"),
        ("up", "GATEHOUND_TOPICS__PARTITIONS"),
    ],
)
def test_help_shows_the_environment_variable(command: str, variable: str) -> None:
    """Each option's help names the GATEHOUND_ variable that sets it too."""
    result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert variable in result.output


def test_replay_writes_the_pipelines_alerts(tmp_path: Path) -> None:
    """`gatehound replay` writes exactly the alerts and scores the in-process pipeline gives."""
    messages = list(TrafficGenerator(seed=3, malformed_share=0.0).messages(600))
    traffic = tmp_path / "traffic.jsonl"
    write_jsonl(messages, traffic)
    alerts, scores = tmp_path / "alerts.jsonl", tmp_path / "scores.jsonl"

    result = runner.invoke(
        app, ["replay", str(traffic), "--out", str(alerts), "--scores-out", str(scores)]
    )

    assert result.exit_code == 0, result.output
    expected = Pipeline().run(RawMessage(value=m.value) for m in messages)
    got_alerts = [orjson.loads(line)["alert_id"] for line in alerts.read_text().splitlines()]
    assert got_alerts == [a.alert_id for a in expected.alerts]
    assert len(scores.read_text().splitlines()) == 600
    assert expected.alerts


def test_replay_counts_bad_lines_as_dead_letters(tmp_path: Path) -> None:
    """A line that is not an event becomes a dead letter in replay too, with its reason."""
    traffic = tmp_path / "bad.jsonl"
    traffic.write_bytes(b'{"mode": "vessel"\n[1, 2]\n')
    dead = tmp_path / "dead.jsonl"
    result = runner.invoke(
        app, ["replay", str(traffic), "--out", str(tmp_path / "a.jsonl"), "--deadletters-out", str(dead)]
    )
    assert result.exit_code == 0, result.output
    reasons = [orjson.loads(line)["reason"] for line in dead.read_text().splitlines()]
    assert reasons == ["invalid_json", "not_an_object"]


def test_replay_of_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    """A file that does not exist is named in the error, with a non-zero exit."""
    result = runner.invoke(app, ["replay", str(tmp_path / "nope.jsonl"), "--out", "x.jsonl"])
    assert result.exit_code == 2
    assert "nope.jsonl" in result.output
