"""`gatehound up` runs broker, worker and traffic, and reports an honest summary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def test_up_runs_and_summarises(tmp_path: Path) -> None:
    """A short `up` run scores traffic, raises alerts, parks bad input and counts no errors."""
    summary_path = tmp_path / "s.json"
    proc = subprocess.run(
        [sys.executable, "-m", "engine.cli", "up", "--duration", "14", "--rate", "80",
         "--summary-json", str(summary_path), "--quiet"],
        cwd=tmp_path,
        capture_output=True,
        timeout=180,
        env={**os.environ, "GATEHOUND_WORKER__DATA_DIR": str(tmp_path / "data")},
    )
    assert proc.returncode == 0, proc.stdout.decode()[-2000:] + proc.stderr.decode()[-2000:]
    summary = json.loads(summary_path.read_text())
    assert summary["events"] >= 1000
    assert summary["alerts"] >= 1
    assert summary["deadletters"] >= 1
    assert summary["errors"] == 0
    assert summary["scored"] + summary["deadletters"] == summary["events"]
    assert b"summary:" in proc.stdout
