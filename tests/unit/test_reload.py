"""A settings file: below the environment, and taken by running hops when it changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import ConfigError
from engine.flow.hops import DecideHop
from engine.flow.reload import ConfigWatch
from engine.settings import CONFIG_FILE_ENV, Settings

CASH = "passenger_late_cash_booking"


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "gatehound.toml"
    path.write_text('[scoring]\nalert_threshold = 0.6\n'
                    '[rules.passenger_late_cash_booking]\nstatus = "live"\n')
    monkeypatch.setenv(CONFIG_FILE_ENV, str(path))
    return path


def test_the_file_gives_settings_and_the_environment_wins(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nested sections merge: the file's threshold, the environment's rule status."""
    monkeypatch.setenv("GATEHOUND_RULES__PASSENGER_LATE_CASH_BOOKING__STATUS", "shadow")
    settings = Settings()
    assert settings.scoring.alert_threshold == 0.6
    assert settings.rules[CASH] == {"status": "shadow"}


def test_a_changed_file_reconfigures_the_decide_hop(config_file: Path) -> None:
    """The rule goes off from the next batch; the learned models stay the same object;
    a change outside rules, typologies and scoring is reported, not taken."""
    settings = Settings()
    hop = DecideHop(settings)
    watch = ConfigWatch(settings)
    assert watch.check() == (None, [])
    models = hop.scorer.models
    assert CASH in hop.scorer.versions_by_mode["passenger"]
    config_file.write_text(f'[rules.{CASH}]\nstatus = "off"\n[worker]\nbatch_size = 7\n')
    fresh, fixed = watch.check()
    assert fresh is not None and fixed == ["worker"]
    assert fresh.worker.batch_size == settings.worker.batch_size and fresh.scoring.alert_threshold == 0.5
    hop.reconfigure(fresh)
    watch.taken(fresh)
    assert CASH not in hop.scorer.versions_by_mode["passenger"] and hop.scorer.models is models
    assert watch.check() == (None, [])


def test_a_bad_file_is_refused_with_its_reason(config_file: Path) -> None:
    """Not TOML, or not valid settings: ConfigError naming the file; once per change."""
    watch = ConfigWatch(Settings())
    config_file.write_text("[scoring\n")
    with pytest.raises(ConfigError, match="not taken"):
        watch.check()
    assert watch.check() == (None, [])
    config_file.write_text("[scoring]\nalert_threshold = 7\n")
    with pytest.raises(ConfigError, match="alert_threshold"):
        watch.check()


def test_a_typology_naming_an_unknown_rule_is_refused_by_the_hop(config_file: Path) -> None:
    """Settings can be valid and still unfit: the hop refuses and keeps what it had."""
    settings = Settings()
    hop = DecideHop(settings)
    config_file.write_text('[typologies.t]\ntitle = "T"\nrules = { no_such_rule = 1.0 }\n'
                           'bands = [{ from = 0.5, severity = "low", reason = "r" }]\n')
    fresh = Settings()
    with pytest.raises(ConfigError, match="unknown rule"):
        hop.reconfigure(fresh)
    assert hop.settings is settings


def test_the_cli_says_plainly_when_the_file_cannot_be_read(tmp_path: Path) -> None:
    """A missing or broken settings file is one line on stderr and exit code 2, not a trace."""
    import os
    import subprocess
    import sys

    env = {**os.environ, CONFIG_FILE_ENV: str(tmp_path / "missing.toml")}
    proc = subprocess.run([sys.executable, "-m", "engine.cli", "rules", "list"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "error:" in proc.stderr and "missing.toml" in proc.stderr and "Traceback" not in proc.stderr
