"""The Dockerfile builds a small non-root image of the whole package, with htmx fetched as
the Makefile fetches it, and a health check that works for every role. (No Docker in CI: the
file is read, and the health check's command is run here against real HTTP servers.)"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text(encoding="utf-8"))
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def stages() -> list[list[tuple[str, str]]]:
    """The instructions of each build stage, in order."""
    out: list[list[tuple[str, str]]] = []
    for instruction in instructions():
        if instruction[0] == "FROM":
            out.append([])
        if out:
            out[-1].append(instruction)
    return out


def global_args() -> dict[str, str]:
    """ARG defaults declared before the first FROM."""
    found = {}
    for word, rest in instructions():
        if word == "FROM":
            break
        if word == "ARG" and "=" in rest:
            name, value = rest.split("=", 1)
            found[name] = value
    return found


def expand(text: str) -> str:
    return re.sub(r"\$\{(\w+)\}", lambda m: global_args().get(m.group(1), m.group(0)), text)


def healthcheck_code() -> str:
    [(_, rest)] = [i for i in stages()[-1] if i[0] == "HEALTHCHECK"]
    command = json.loads(rest[rest.index("CMD") + 3:].strip())
    assert command[:2] == ["python", "-c"]
    return str(command[2])


class Answer(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.end_headers()
        self.wfile.write(b"ok\n")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    """An HTTP server on a loopback port; its handler answers with ``server.status``."""
    handler = type("Handler", (Answer,), {})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


def check_health(url: str) -> int:
    done = subprocess.run([sys.executable, "-c", healthcheck_code()], env={"HEALTHCHECK_URL": url},
                          capture_output=True, timeout=30)
    return done.returncode


def test_the_image_is_built_in_stages_on_python_3_11_slim() -> None:
    """htmx, build and runtime stages; the runtime is python:3.11-slim and copies the venv."""
    froms = [expand(s[0][1]) for s in stages()]
    assert len(froms) >= 3
    assert froms[-1].split()[0].startswith("python:3.11-slim")
    runtime = stages()[-1]
    assert any(w == "COPY" and "--from=build" in r and "/opt/gatehound" in r for w, r in runtime)


def test_the_runtime_runs_as_a_non_root_user() -> None:
    """The last USER of the runtime stage is neither root nor uid 0."""
    users = [rest for word, rest in stages()[-1] if word == "USER"]
    assert users, "the runtime stage never leaves root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")


def test_the_entrypoint_is_the_gatehound_command() -> None:
    """`docker run IMAGE worker` runs `gatehound worker`."""
    [entrypoint] = [json.loads(rest) for word, rest in stages()[-1] if word == "ENTRYPOINT"]
    assert entrypoint == ["gatehound"]


def test_every_package_is_copied_into_the_build() -> None:
    """Each package pyproject.toml installs (engine, models, rules, schemas) is copied, and
    .dockerignore lets it through."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = [p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]]
    build = next(s for s in stages() if " AS build" in s[0][1])
    # COPY SOURCE... DEST from the build context (not from another stage).
    copied = {src for word, rest in build if word == "COPY" and not rest.startswith("--")
              for src in rest.split()[:-1]}
    rules = [line for line in DOCKERIGNORE.read_text().splitlines() if line and not line.startswith("#")]
    assert rules[0] == "*", ".dockerignore leaves out everything it does not name (.venv, .git, state)"
    allowed = {line[1:].rstrip("/") for line in rules if line.startswith("!")}
    for package in packages:
        assert package in copied, package
        assert package in allowed, package
    assert {"pyproject.toml", "README.md"} <= copied <= allowed


def test_htmx_is_fetched_as_the_makefile_fetches_it() -> None:
    """The same script and version as `make install`, into the ops centre's static files."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    version = re.search(r"^HTMX_VERSION := (\S+)$", makefile, re.MULTILINE)
    assert version is not None
    assert global_args()["HTMX_VERSION"] == version.group(1)
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert 'bash scripts/fetch-htmx.sh "${HTMX_VERSION}" "/out/htmx-${HTMX_VERSION}.min.js"' in text
    assert "COPY --from=htmx /out/ engine/ops/static/vendor/" in text


def test_the_health_check_passes_on_an_answering_endpoint(server: ThreadingHTTPServer) -> None:
    """The health check command exits 0 when the URL it is given answers 200."""
    assert check_health(f"http://127.0.0.1:{server.server_port}/metrics") == 0


def test_the_health_check_fails_on_an_error_or_no_answer(server: ThreadingHTTPServer) -> None:
    """It exits non-zero on a 500 and on a port nobody listens on."""
    server.RequestHandlerClass.status = 500  # type: ignore[attr-defined]
    assert check_health(f"http://127.0.0.1:{server.server_port}/healthz") != 0
    port = server.server_port
    server.shutdown()
    server.server_close()
    assert check_health(f"http://127.0.0.1:{port}/healthz") != 0
