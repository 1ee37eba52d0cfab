"""A real PostgreSQL server for the tests: Debian's `postgresql` (installed by `make test`), initdb in a
temporary folder, listening on 127.0.0.1 on a free port and on a socket in that folder, run as the
`postgres` user when the tests run as root (PostgreSQL refuses root), stopped and deleted after."""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

START_SECONDS = 60


def bin_dir() -> Path:
    """The newest installed PostgreSQL's programs (Debian keeps them in /usr/lib/postgresql/N/bin)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("postgres")
    if on_path:
        return Path(on_path).resolve().parent
    raise RuntimeError("PostgreSQL is not installed: `make test` installs Debian's postgresql")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """A running server with an empty database `insight`; yields its URL."""
    programs = bin_dir()
    folder = Path(tempfile.mkdtemp(prefix="insight-pg-"))
    data, port = folder / "data", _free_port()
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    subprocess.run(_as_server_user([str(programs / "initdb"), "-D", str(data), "-A", "trust", "-U", "insight",
                                    "-E", "UTF8", "--locale", "C"]),
                   check=True, capture_output=True, timeout=120)  # fmt: skip
    server = subprocess.Popen(
        _as_server_user([str(programs / "postgres"), "-D", str(data), "-k", str(folder), "-p", str(port),
                         "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=50"]),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        import psycopg

        deadline, url = time.time() + START_SECONDS, f"postgresql://insight@127.0.0.1:{port}"
        while True:
            try:
                with psycopg.connect(f"{url}/postgres", autocommit=True, connect_timeout=2) as con:
                    con.execute("CREATE DATABASE insight")
                break
            except psycopg.OperationalError:
                if server.poll() is not None or time.time() > deadline:
                    raise RuntimeError(
                        f"PostgreSQL did not start: {server.stderr.read().decode()[-2000:]}"
                    ) from None
                time.sleep(0.2)
        yield f"{url}/insight"
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


_DATABASES = itertools.count()


def fresh_database(server_url: str) -> str:
    """A new empty database on the server at `server_url` (what postgres_server yields); returns its URL."""
    import psycopg

    name = f"test_{os.getpid()}_{next(_DATABASES)}"
    with psycopg.connect(server_url, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    return server_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="module")
def pg_server():
    """A server for one test module (registered for every module by tests/conftest.py)."""
    with postgres_server() as url:
        yield url


@pytest.fixture
def on_postgres(pg_server, monkeypatch):
    """The test on a database of its own, named by INSIGHT_DATABASE_URL; a module of such tests says
    `pytestmark = pytest.mark.usefixtures("on_postgres")`."""
    from trainer.runs import postgres

    url = fresh_database(pg_server)
    monkeypatch.setenv(postgres.ENV, url)
    return url
