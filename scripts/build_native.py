"""Compile the screening hot path (engine/screen/names.py, index.py, screener.py) with mypyc.

    python scripts/build_native.py          # build into engine/screen/_native/
    python scripts/build_native.py --clean  # remove the build

The compiled modules go to engine/screen/_native/ with a manifest of the
sources' hashes; engine/screen/native.py uses them only while those hashes
match, so an edited source is never shadowed by an old build. Needs mypy (its
mypyc), setuptools and a C compiler; when any is missing this exits 1 and the
engine runs the Python sources, at about half the speed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.screen.native import COMPILED, MANIFEST, NATIVE_DIR, source_hashes  # noqa: E402


def build() -> int:
    try:
        from mypyc.build import mypycify
        from setuptools import Distribution
    except ImportError as exc:
        print(f"native build skipped: {exc.name} is not installed (pip install mypy setuptools)")
        return 1
    started = time.monotonic()
    shutil.rmtree(NATIVE_DIR, ignore_errors=True)
    sources = [str((ROOT / "engine" / "screen" / f"{name}.py").relative_to(ROOT)) for name in COMPILED]
    with tempfile.TemporaryDirectory(prefix="gatehound-native-") as temp:
        here = os.getcwd()
        os.chdir(ROOT)  # mypyc names modules by their path from here
        try:
            extensions = mypycify(sources, opt_level="3", target_dir=str(Path(temp) / "c"))
            dist = Distribution({"name": "gatehound-native", "ext_modules": extensions})
            command = dist.get_command_obj("build_ext")
            command.build_lib = str(NATIVE_DIR)  # type: ignore[attr-defined]
            command.build_temp = str(Path(temp) / "o")  # type: ignore[attr-defined]
            dist.run_command("build_ext")
        except (Exception, SystemExit) as exc:  # a compiler error, a missing header
            shutil.rmtree(NATIVE_DIR, ignore_errors=True)
            print(f"native build failed ({exc}); the Python sources will be used")
            return 1
        finally:
            os.chdir(here)
    (NATIVE_DIR / MANIFEST).write_text(json.dumps({
        "cache_tag": sys.implementation.cache_tag,
        "sources": source_hashes(),
        "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }, indent=1) + "\n")
    print(f"native screening modules built in {time.monotonic() - started:.0f} s: {NATIVE_DIR}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clean", action="store_true", help="remove the compiled modules")
    args = parser.parse_args()
    if args.clean:
        shutil.rmtree(NATIVE_DIR, ignore_errors=True)
        return 0
    return build()


if __name__ == "__main__":
    sys.exit(main())
