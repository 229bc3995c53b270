"""The runtime takes no copyleft code: every package gatehound needs to run is checked."""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, distribution

_COPYLEFT = re.compile(r"\b(A|L)?GPL|General Public License", re.IGNORECASE)


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;(]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def runtime_closure(root: str = "gatehound") -> set[str]:
    """The installed distributions ``root`` needs to run, without optional extras."""
    seen: set[str] = set()
    todo = [root]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = distribution(name).requires or []
        except PackageNotFoundError:
            continue  # a marker excluded it from this platform
        todo += [_name(r) for r in requires if "extra ==" not in r and "extra==" not in r]
    return seen - {root}


def licence_of(name: str) -> str:
    """What a distribution's metadata says its licence is (expression, field and classifiers)."""
    meta = distribution(name).metadata
    classifiers = [c for c in meta.get_all("Classifier") or [] if c.startswith("License")]
    # A License field sometimes holds the whole licence text; its first line names it.
    field = (meta.get("License") or "").splitlines()[:1]
    return " | ".join([meta.get("License-Expression") or "", *field, *classifiers])


def test_no_runtime_dependency_is_copyleft() -> None:
    """No GPL, LGPL or AGPL package among the runtime dependencies (pycountry was one)."""
    names = runtime_closure()
    assert {"faust-streaming", "aiokafka", "pydantic", "airportsdata", "iso3166"} <= names
    installed = []
    for name in sorted(names):
        try:
            installed.append((name, licence_of(name)))
        except PackageNotFoundError:
            continue
    copyleft = [(n, lic) for n, lic in installed if _COPYLEFT.search(lic)]
    assert copyleft == []


def test_the_check_recognises_copyleft_licences() -> None:
    """The pattern catches the licences it must refuse and passes permissive ones."""
    for text in ("LGPL-2.1-only", "GNU Lesser General Public License v2 (LGPLv2)", "AGPL-3.0", "GPL-3.0+"):
        assert _COPYLEFT.search(text), text
    for text in ("MIT", "BSD-3-Clause", "Apache-2.0", "PSF-2.0", "MPL-2.0"):
        assert not _COPYLEFT.search(text), text
