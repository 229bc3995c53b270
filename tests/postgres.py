"""A throwaway PostgreSQL server for the store tests, from the Debian package's binaries.

It listens on 127.0.0.1 on a free port, keeps its data in a temporary folder and is
stopped (and the folder removed) when the test session ends. As root, the server runs
as the ``postgres`` system user, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: The Debian package (scripts/system-packages.sh installs it for `make test`).
MISSING = "PostgreSQL server binaries not found: install the Debian package postgresql"


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def postgres_server() -> Iterator[str]:
    """A running server with database ``gatehound``; yields its SQLAlchemy URL (pg8000)."""
    bindir = _bin_dir()
    if bindir is None:
        raise RuntimeError(MISSING)
    root = Path(tempfile.mkdtemp(prefix="gatehound-pg-"))
    data, port = root / "data", _free_port()
    run_as: dict[str, object] = {}
    if os.geteuid() == 0:
        pg = pwd.getpwnam("postgres")
        os.chown(root, pg.pw_uid, pg.pw_gid)
        run_as = {"user": pg.pw_uid, "group": pg.pw_gid}

    def run(*args: str) -> None:
        subprocess.run(args, check=True, capture_output=True, cwd=root, **run_as)  # type: ignore[call-overload]

    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", "gatehound", "--auth=trust", "-E", "UTF8")
        run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "-t", "30", "start",
            "-o", f"-h 127.0.0.1 -p {port} -k {root} -F")
        try:
            run(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "gatehound", "gatehound")
            yield f"postgresql+pg8000://gatehound@127.0.0.1:{port}/gatehound"
        finally:
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        for _ in range(20):
            try:
                shutil.rmtree(root)
                break
            except OSError:
                time.sleep(0.1)


def fresh_database(server_url: str, name: str) -> str:
    """A new, empty database on the server; its URL."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return server_url.rsplit("/", 1)[0] + f"/{name}"
