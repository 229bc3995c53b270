"""The Prometheus alert rules and configuration pass Prometheus's own tool, promtool
(Debian's `prometheus` package; scripts/system-packages.sh installs it for `make test`)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.deploy.promql import ALERT_RULES, DEPLOY, rules

GUIDE = DEPLOY / "README.md"

RULE_TESTS = DEPLOY / "prometheus" / "alerts_test.yml"
CONFIG = DEPLOY / "prometheus" / "prometheus.yml"


def promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run promtool; fail (not skip) when it is not installed, since CI has it."""
    tool = shutil.which("promtool")
    if tool is None:
        pytest.fail("promtool is not installed: it comes with Debian's `prometheus` package "
                    "(apt-get install prometheus, or `make system`)")
    return subprocess.run([tool, *map(str, args)], capture_output=True, text=True, timeout=120)


def test_the_alert_rules_are_valid() -> None:
    """`promtool check rules` accepts deploy/prometheus/alerts.yml."""
    done = promtool("check", "rules", ALERT_RULES)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_alert_rules_pass_their_unit_tests() -> None:
    """`promtool test rules` passes: each alert fires on its input series, and only then."""
    done = promtool("test", "rules", RULE_TESTS)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_prometheus_configuration_is_valid() -> None:
    """`promtool check config` accepts the compose Prometheus config and the rules it loads."""
    done = promtool("check", "config", CONFIG)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_wrong_expectation_makes_promtool_fail(tmp_path: Path) -> None:
    """A rule test expecting silence while the audit chain is broken fails: the harness can fail."""
    wrong = {
        "rule_files": [str(ALERT_RULES)],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [{"series": 'gatehound_audit_chain_ok{job="ops", instance="ops:8080"}',
                              "values": "0x5"}],
            "alert_rule_test": [
                {"eval_time": "3m", "alertname": "GatehoundAuditChainBroken", "exp_alerts": []},
            ],
        }],
    }
    path = tmp_path / "wrong_test.yml"
    path.write_text(yaml.safe_dump(wrong), encoding="utf-8")
    done = promtool("test", "rules", path)
    assert done.returncode != 0
    assert "GatehoundAuditChainBroken" in done.stdout + done.stderr


def test_every_alert_is_tested_firing_and_silent() -> None:
    """Each alert of alerts.yml has a unit test where it fires and one where it does not."""
    fired: set[str] = set()
    silent: set[str] = set()
    for case in yaml.safe_load(RULE_TESTS.read_text(encoding="utf-8"))["tests"]:
        for check in case.get("alert_rule_test", []):
            (fired if check.get("exp_alerts") else silent).add(check["alertname"])
    alerts = {r["alert"] for r in rules() if "alert" in r}
    assert alerts, "no alerts found in alerts.yml"
    assert alerts - fired == set(), "alerts never shown firing"
    assert alerts - silent == set(), "alerts never shown staying silent"


def test_the_issue_s_alerts_are_all_there() -> None:
    """Lag growing, a silent feed, dead letters, latency SLO burn, model drift, fairness, audit
    chain and a worker down each have an alert."""
    alerts = {r["alert"] for r in rules() if "alert" in r}
    wanted = {
        "GatehoundConsumerLagGrowing", "GatehoundFeedSilent", "GatehoundDeadLettersHigh",
        "GatehoundLatencyBudgetBurnFast", "GatehoundLatencyBudgetBurnSlow", "GatehoundModelDrift",
        "GatehoundFairnessDisparity", "GatehoundAuditChainBroken", "GatehoundWorkerDown",
    }
    assert wanted <= alerts
    for rule in rules():
        if "alert" in rule:
            assert rule["labels"]["severity"] in ("critical", "warning"), rule["alert"]
            assert rule["annotations"]["summary"] and rule["annotations"]["runbook"], rule["alert"]


def heading_anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives a Markdown file's headings: lower case, spaces to dashes,
    punctuation dropped."""
    return {
        re.sub(r"[^\w\- ]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in markdown.splitlines() if line.startswith("#")
    }


def test_every_runbook_link_leads_to_a_section_of_the_guide() -> None:
    """Each alert's runbook names deploy/README.md and a heading that is there, and the
    guide's table of alerts lists it."""
    guide = GUIDE.read_text(encoding="utf-8")
    anchors = heading_anchors(guide)
    assert "add-a-worker" in anchors and "nowhere" not in anchors
    for rule in rules():
        if "alert" in rule:
            page, _, anchor = rule["annotations"]["runbook"].partition("#")
            assert page == "deploy/README.md", rule["alert"]
            assert anchor in anchors, f"{rule['alert']}: no section #{anchor} in deploy/README.md"
            assert f"| `{rule['alert']}` |" in guide, f"{rule['alert']} is not in the guide's table of alerts"
