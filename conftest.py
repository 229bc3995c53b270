"""Test-wide setup: logs go through our configuration (stderr, JSON), never to stdout."""

from pathlib import Path

from engine.logs import configure_logging
from engine.screen import NATIVE
from engine.screen.native import COMPILED

COMPILED_SOURCES = {Path(__file__).parent / "engine" / "screen" / f"{name}.py" for name in COMPILED}

configure_logging("warning", "json")


def pytest_ignore_collect(collection_path: Path) -> bool | None:
    """The doctests of the screening modules that run compiled (engine/screen/native.py)
    are run on their Python sources by tests/unit/test_screen_native.py: pytest cannot
    read a module's doctests from its compiled build."""
    if NATIVE == "used" and collection_path in COMPILED_SOURCES:
        return True
    return None
