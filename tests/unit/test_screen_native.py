"""The compiled screening modules (mypyc, see engine/screen/native.py) give exactly
what the Python sources give, and are never used when built from other sources."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.screen import native

ROOT = Path(__file__).resolve().parents[2]

# Screens the benchmark's variants and decoys against a 3,000-person list and
# prints every match, as JSON, with whether the compiled modules ran.
SCREEN_ALL = """
import json
from engine.bench.screening import build_bench_data
from engine.screen import Screener, parse_watchlist
from engine.screen.native import running_native

lines, queries = build_bench_data(3_000, 600, 600, seed=7)
screener = Screener(parse_watchlist(lines, "bench", "v1"))
out = [[m.as_dict() for m in screener.screen_person([q.name], birth_date=q.birth_date,
                                                    nationality=q.nationality)] for q in queries]
print(json.dumps({"native": running_native(), "matches": out}))
"""


def screen_all(native_on: bool) -> dict[str, object]:
    env = {**os.environ, "GATEHOUND_NATIVE": "1" if native_on else "0"}
    done = subprocess.run([sys.executable, "-c", SCREEN_ALL], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300, check=True)
    result: dict[str, object] = json.loads(done.stdout)
    return result


@pytest.fixture(scope="module")
def built() -> None:
    if os.environ.get("GATEHOUND_NATIVE", "1") == "0":
        pytest.skip("GATEHOUND_NATIVE=0: testing the Python sources only")
    state = native.native_state()
    assert state == "used", f"compiled screening modules {state}; run make install"


def test_compiled_and_python_modules_screen_alike(built: None) -> None:
    compiled, python = screen_all(True), screen_all(False)
    assert compiled["native"] is True and python["native"] is False
    assert compiled["matches"] == python["matches"]
    assert sum(map(len, python["matches"])) > 500  # type: ignore[arg-type]


def test_a_build_from_other_sources_is_not_used(
    built: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    manifest = json.loads((native.NATIVE_DIR / native.MANIFEST).read_text())
    manifest["sources"]["index"] = "0" * 64  # as if index.py had been edited since
    (tmp_path / native.MANIFEST).write_text(json.dumps(manifest))
    monkeypatch.setattr(native, "NATIVE_DIR", tmp_path)
    assert native.native_state().startswith("built from other sources")
    path: list[str] = []
    native.use_native(path)
    assert path == []


def test_a_build_for_another_interpreter_is_not_used(
    built: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    manifest = json.loads((native.NATIVE_DIR / native.MANIFEST).read_text())
    manifest["cache_tag"] = "cpython-30"
    (tmp_path / native.MANIFEST).write_text(json.dumps(manifest))
    monkeypatch.setattr(native, "NATIVE_DIR", tmp_path)
    assert native.native_state() == "built for cpython-30, not " + sys.implementation.cache_tag


def test_it_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEHOUND_NATIVE", "0")
    assert native.native_state() == "turned off (GATEHOUND_NATIVE=0)"
    path: list[str] = []
    native.use_native(path)
    assert path == []


def test_the_doctests_of_the_compiled_modules_pass_on_their_sources(built: None) -> None:
    """pytest skips these modules' doctests while they run compiled (conftest.py): here they run."""
    sources = [f"engine/screen/{name}.py" for name in native.COMPILED]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--doctest-modules", *sources],
        cwd=ROOT, env={**os.environ, "GATEHOUND_NATIVE": "0"}, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:]
    assert " passed" in done.stdout
