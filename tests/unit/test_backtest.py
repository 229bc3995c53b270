"""Backtesting and simulated outcomes: per-rule figures under a configuration, two
configurations compared, outcomes drawn from the truth, link and network rule statuses."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from engine.backtest import backtest, load_config, render
from engine.cli import app
from engine.errors import ConfigError
from engine.evaluate import read_jsonl
from engine.link.hop import link_rules
from engine.settings import Settings
from engine.simulate.feeds import FILES, FeedSimulator, write_simulation
from engine.simulate.outcomes import simulate_outcomes
from schemas import Alert

runner = CliRunner()


Simulation = tuple[list[Path], list[dict[str, object]]]


@pytest.fixture(scope="module")
def simulation(tmp_path_factory: pytest.TempPathFactory) -> Simulation:
    out = tmp_path_factory.mktemp("sim") / "d"
    write_simulation(out, FeedSimulator(seed=3, cases_per_10k=60), count=1500)
    files = [out / "watchlist.jsonl", *(out / name for name in FILES.values())]
    return files, read_jsonl(out / "truth.jsonl", "truth")


def test_each_rule_is_measured_against_the_truth(simulation: Simulation) -> None:
    files, truth = simulation
    report, alerts = backtest(files, {}, truth)
    assert report.evaluation is not None and report.evaluation.alerts == report.alerts == len(alerts)
    cash = report.rules["passenger_late_cash_booking"]
    assert cash.status == "live" and cash.flags > 0 and cash.true_flags == cash.flags and cash.cases
    assert "cross_courier_network" in report.rules  # link alerts count for their rule
    figures = report.as_dict()["rules"]["passenger_late_cash_booking"]
    assert figures["precision"] == 1.0 and figures["per_day"] > 0


def test_a_rule_in_shadow_still_flags_but_raises_no_alert(simulation: Simulation) -> None:
    """The shadow rule's would-be alerts are counted; the run's alerts lose them; the
    comparison shows both."""
    files, truth = simulation
    live, _ = backtest(files, {}, truth)
    shadow, _ = backtest(files, {"rules": {"passenger_late_cash_booking": {"status": "shadow"}}}, truth)
    assert shadow.rules["passenger_late_cash_booking"].status == "shadow"
    cash = "passenger_late_cash_booking"
    assert shadow.rules[cash].flags == live.rules[cash].flags
    assert shadow.alerts < live.alerts
    off, _ = backtest(files, {"rules": {"passenger_late_cash_booking": {"status": "off"}}}, truth)
    assert "passenger_late_cash_booking" not in off.rules
    table = render(live, off, ("live", "off"))
    [row] = [line for line in table.splitlines() if line.startswith("passenger_late_cash_booking")]
    assert f"-{live.rules['passenger_late_cash_booking'].flags}" in row and " off " in row


def test_outcomes_are_drawn_from_the_truth_per_alert(simulation: Simulation) -> None:
    """Same seed, same outcome for an alert whatever else the run raised; planted alerts
    mostly find something, the rest mostly nothing; yield and nugatory rate follow."""
    files, truth = simulation
    _, alerts = backtest(files, {}, truth)
    outcomes = simulate_outcomes(alerts, truth, seed=4)
    assert len(outcomes) == len({a.alert_id for a in alerts})
    assert simulate_outcomes(alerts[::-1][: len(alerts) // 2], truth, seed=4)[0] in outcomes
    results = {o.result for o in outcomes}
    assert {"arrest", "seizure"} & results and all(o.recorded_by.startswith("sim-officer-") for o in outcomes)
    report, _ = backtest(files, {}, truth, outcomes)
    rules = report.as_dict()["rules"]
    courier, expiry = rules["cross_courier_network"], rules["passenger_document_expiry"]
    assert courier["interventions"] > 0 and courier["yield_per_100"] > 50 and courier["nugatory_rate"] < 0.5
    # An expired passport is a real finding but seldom hides anything (3 % in the simulation).
    assert expiry["interventions"] > 0 and expiry["nugatory_rate"] > 0.5
    general = report.as_dict()["typologies"]["general"]
    assert general["flags"] == sum(1 for a in {a.alert_id: a for a in alerts}.values() if a.typology)
    assert general["interventions"] > 0 and "typology general:" in render(report)


def test_link_and_network_rules_are_live_or_off() -> None:
    ids = {spec.id for spec, _ in link_rules(Settings(rules={"cross_courier_network": {"status": "off"}}))}
    assert "cross_courier_network" not in ids and "cross_container_reuse" in ids
    with pytest.raises(ConfigError, match="live or off"):
        link_rules(Settings(rules={"cross_courier_network": {"status": "shadow"}}))


def test_a_configuration_file_is_json_or_toml(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('{"scoring": {"alert_threshold": 0.7}}')
    (tmp_path / "b.toml").write_text('[rules.passenger_late_cash_booking]\nstatus = "shadow"\n')
    assert load_config(tmp_path / "a.json") == {"scoring": {"alert_threshold": 0.7}}
    assert load_config(tmp_path / "b.toml")["rules"]["passenger_late_cash_booking"]["status"] == "shadow"
    (tmp_path / "c.json").write_text("[1, 2]")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(tmp_path / "c.json")


def test_the_commands_compare_two_configurations(simulation: Simulation, tmp_path: Path) -> None:
    """simulate-outcomes writes one outcome per alert; backtest prints both runs and the
    change, and writes the figures as JSON; a bad configuration is a clear error."""
    files, _ = simulation
    truth = files[1].parent / "truth.jsonl"
    alerts = tmp_path / "a.jsonl"
    assert runner.invoke(app, ["replay", *map(str, files), "--out", str(alerts)]).exit_code == 0
    outcomes = tmp_path / "o.jsonl"
    made = runner.invoke(app, ["simulate-outcomes", "--truth", str(truth), "--alerts", str(alerts),
                               "--out", str(outcomes)])
    assert made.exit_code == 0, made.output
    alert_ids = {orjson.loads(x)["alert_id"] for x in alerts.open("rb")}
    assert len(outcomes.read_text().splitlines()) == len(alert_ids)
    trial = tmp_path / "trial.json"
    trial.write_text(json.dumps({"rules": {"passenger_document_expiry": {"status": "shadow"}}}))
    figures = tmp_path / "f.json"
    args = ["--truth", str(truth), "--outcomes", str(outcomes), "--compare", str(trial)]
    args += ["--json", str(figures)]
    result = runner.invoke(app, ["backtest", *map(str, files), *args])
    assert result.exit_code == 0, result.output
    assert "default flags" in result.output and "trial.json flags" in result.output
    body = json.loads(figures.read_text())
    assert body["trial.json"]["rules"]["passenger_document_expiry"]["status"] == "shadow"
    bad = tmp_path / "bad.json"
    bad.write_text('{"scoring": {"alert_threshold": 7}}')
    refused = runner.invoke(app, ["backtest", *map(str, files), "--config", str(bad)])
    assert refused.exit_code == 2 and "alert_threshold" in refused.output


def test_rules_list_shows_every_kind_of_rule_with_its_status_here() -> None:
    listed = runner.invoke(app, ["rules", "list", "--json"], env={
        "GATEHOUND_RULES__PASSENGER_LATE_CASH_BOOKING__STATUS": "shadow",
        "GATEHOUND_MODELS__ROLES": '{"yield_tree": "off"}'})
    assert listed.exit_code == 0, listed.output
    rows = {r["id"]: r for r in map(json.loads, listed.output.splitlines())}
    assert rows["passenger_late_cash_booking"]["status"] == "shadow"
    assert (rows["yield_tree"]["kind"], rows["yield_tree"]["status"]) == ("yield", "off")
    assert (rows["yield_logistic"]["status"], rows["anomaly_halfspace"]["kind"]) == ("champion", "anomaly")
    some = ("cross_courier_network", "cross_flagged_across_modes", "vessel_ais_gap")
    kinds = {rows[r]["kind"] for r in some}
    assert kinds == {"link", "network", "event"}
    assert all(r["title"] for r in rows.values())


def test_rules_test_prints_one_rules_findings(simulation: Simulation) -> None:
    files, _ = simulation
    result = runner.invoke(app, ["rules", "test", "passenger_late_cash_booking", *map(str, files)])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("passenger-")]
    assert lines and all(" live " in line for line in lines)
    assert "passenger_late_cash_booking (event rule, live):" in result.output
    network = runner.invoke(app, ["rules", "test", "cross_courier_network", *map(str, files)])
    assert network.exit_code == 0 and "link rule" in network.output
    unknown = runner.invoke(app, ["rules", "test", "no_such_rule", *map(str, files)])
    assert unknown.exit_code == 2 and "there are:" in unknown.output


def test_a_link_rule_refuses_an_unknown_config_key() -> None:
    with pytest.raises(ConfigError, match="unknown config key"):
        link_rules(Settings(rules={"cross_courier_network": {"min_booking": 2}}))


def test_the_learning_curve_picks_the_budget_by_rules_and_by_learning() -> None:
    """Per day, the budget's best alerts by rule score and by learned chance; precision is
    finds among the examined ones picked."""
    from datetime import UTC, datetime, timedelta

    from engine.backtest import learning_curve
    from engine.pipeline import PipelineResult
    from schemas import Alert, Finding, Outcome, Score

    day = datetime(2026, 6, 1, 8, tzinfo=UTC)
    finding = Finding(rule_id="r", score=0.6, detail="x")
    scores, alerts, outcomes = [], [], {}
    # rule score, learned chance, found: the rules prefer the first two, learning the last two
    for i, (rule, learned, found) in enumerate([(0.9, 0.1, False), (0.8, 0.2, False), (0.6, 0.9, True),
                                                (0.55, 0.8, True)]):
        at = day + timedelta(hours=i)
        scores.append(Score(event_id=f"e{i}", mode="passenger", key="k", occurred_at=at, received_at=at,
                            findings=(finding,), rule_versions={}, final_score=rule))
        alerts.append(Alert(alert_id=f"a{i}", event_id=f"e{i}", mode="passenger", key="k", severity="low",
                            score=rule, findings=(finding,), explanation="x", raised_at=at,
                            yield_estimate=learned))
        outcomes[f"a{i}"] = Outcome(alert_id=f"a{i}", result="seizure" if found else "nothing_found",
                                    recorded_at=at + timedelta(hours=3), recorded_by="sim-officer-01")
    [row] = learning_curve(PipelineResult(scores=scores, alerts=alerts), outcomes, budget=2)
    assert (row.day, row.alerts, row.rules, row.learned) == ("2026-06-01", 4, (0, 2), (2, 2))


def test_backtest_with_a_budget_learns_and_draws_the_curve(simulation: Simulation) -> None:
    """--budget with the truth: outcomes drawn in the run, a curve row per day of traffic;
    learning is seeded and replayed in one order, so a second run gives the very same."""
    files, truth = simulation
    report, alerts = backtest(files, {}, truth, budget=5)
    again, alerts_again = backtest(files, {}, truth, budget=5)

    def decided(run: list[Alert]) -> list[dict[str, object]]:  # a replay receives "now"
        return [a.model_dump(exclude={"raised_at": True, "event": {"received_at"}}) for a in run]

    assert decided(alerts_again) == decided(alerts) and again.curve == report.curve
    assert report.budget == 5 and report.curve
    assert sum(d.alerts for d in report.curve) == len({a.alert_id for a in alerts})
    assert all(d.rules[1] <= 5 and d.learned[1] <= 5 for d in report.curve)
    assert "precision at a budget of 5 interventions a day" in render(report)
    with pytest.raises(ConfigError, match="needs outcomes"):
        backtest(files, {}, None, budget=5)
