"""The screening hot path, compiled: :mod:`engine.screen.names`,
:mod:`engine.screen.index` and :mod:`engine.screen.screener` built into C
extensions by mypyc, used when they are built from exactly the sources beside them.

The three modules are plain, fully typed Python, and they stay the source of
truth. ``make install`` (``scripts/build_native.py``) compiles them with mypyc
into ``engine/screen/_native/`` and writes a manifest of the sources' sha256.
At import, :func:`use_native` puts the compiled modules first on the package's
search path only when:

- the manifest's hashes are those of the sources now beside it (a compiled
  module built from an older source is never run: it would score with rules
  that are no longer in the code);
- it was built for this interpreter (``sys.implementation.cache_tag``);
- ``GATEHOUND_NATIVE`` is not ``0``.

Otherwise the Python sources are imported as they are: same results, at about
half the speed (``gatehound bench --screening`` says which ran). The two are
compared by ``tests/unit/test_screen_native.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

#: The modules compiled, in the order mypyc is given them.
COMPILED = ("names", "index", "screener")
#: Where the build puts them, beside this file.
NATIVE_DIR = Path(__file__).parent / "_native"
MANIFEST = "manifest.json"


def source_hashes() -> dict[str, str]:
    """sha256 of each compiled module's Python source."""
    here = Path(__file__).parent
    return {name: hashlib.sha256((here / f"{name}.py").read_bytes()).hexdigest() for name in COMPILED}


def native_state() -> str:
    """Why the compiled modules are or are not used: ``"used"`` or a reason."""
    if os.environ.get("GATEHOUND_NATIVE", "1").strip().lower() in ("0", "false", "no", "off"):
        return "turned off (GATEHOUND_NATIVE=0)"
    try:
        manifest = json.loads((NATIVE_DIR / MANIFEST).read_text())
    except (OSError, ValueError):
        return "not built (make install builds it)"
    if manifest.get("cache_tag") != sys.implementation.cache_tag:
        return f"built for {manifest.get('cache_tag')}, not {sys.implementation.cache_tag}"
    if manifest.get("sources") != source_hashes():
        return "built from other sources than these (make install rebuilds it)"
    return "used"


def use_native(package_path: list[str]) -> str:
    """Put the compiled modules first on ``package_path`` (``engine.screen.__path__``)
    when they match the sources; returns :func:`native_state`. Must run before
    either module is imported."""
    state = native_state()
    if state == "used":
        package_path.insert(0, str(NATIVE_DIR / "engine" / "screen"))
        # mypyc's shared runtime of the group is a top-level module of its own.
        if str(NATIVE_DIR) not in sys.path:
            sys.path.append(str(NATIVE_DIR))
    return state


def running_native() -> bool:
    """True when the imported name index is the compiled one."""
    from engine.screen import index

    return not str(getattr(index, "__file__", "")).endswith(".py")
