"""One real PostgreSQL server per test run (scripts/postgres.sh), and a fresh schema per test."""

from __future__ import annotations

import itertools
import os
import subprocess
import tempfile
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "postgres.sh"
_schemas = itertools.count(1)


PREFIX = "tempolog-pg-test-"  # + the pid of the test run that owns the server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a server for this run: TEMPOLOG_TEST_POSTGRES when set (a server someone
    already runs), else one that scripts/postgres.sh starts now (installing PostgreSQL when
    missing) on a temporary data directory and stops when the run ends — or, if the run is
    killed before it can, a watcher stops once the run's process is gone."""
    given = os.environ.get("TEMPOLOG_TEST_POSTGRES")
    if given:
        yield given
        return
    reap_abandoned_servers()
    # Under /tmp, not pytest's tmp_path: that is private to root and the server runs as postgres.
    directory = Path(tempfile.gettempdir()) / f"{PREFIX}{os.getpid()}"
    try:
        url = start_server(directory)
    except RuntimeError as error:
        pytest.fail(str(error))
    try:
        yield url
    finally:
        stop_server(directory)


def start_server(directory: Path) -> str:
    """Start a throw-away server with its data in `directory`, watched: it stops when this
    process ends, even by SIGKILL. Returns its URL."""
    env = {**os.environ, "TEMPOLOG_PG_FSYNC": "off"}  # the data is thrown away afterwards
    started = subprocess.run([str(SCRIPT), "start", str(directory)], env=env, text=True,
                             capture_output=True, stdin=subprocess.DEVNULL)
    if started.returncode != 0:
        stop_server(directory)
        raise RuntimeError(f"could not start PostgreSQL:\n{started.stdout}{started.stderr}")
    # A session of its own: a kill of this process's group (Ctrl-C, a timeout) spares it.
    subprocess.Popen([str(SCRIPT), "watch", str(os.getpid()), str(directory)],
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL, start_new_session=True)
    return started.stdout.strip().splitlines()[-1]


def stop_server(directory: Path) -> None:
    subprocess.run([str(SCRIPT), "stop", str(directory)], stdin=subprocess.DEVNULL,
                   capture_output=True)


def reap_abandoned_servers() -> None:
    """Stop the test servers whose run has ended without stopping them (from before the
    watcher, or whose watcher was killed too): their directory names a pid that is gone."""
    for directory in Path(tempfile.gettempdir()).glob(PREFIX + "*"):
        owner = directory.name.removeprefix(PREFIX)
        if owner.isdigit() and not _alive(int(owner)):
            stop_server(directory)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@pytest.fixture
def postgres_url(postgres_server) -> Iterator[str]:
    """A URL to an empty schema of the test run's server, dropped after the test."""
    yield from empty_schema(postgres_server)


def empty_schema(server: str) -> Iterator[str]:
    schema = f"test_{os.getpid()}_{next(_schemas)}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield with_schema(server, schema)
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def with_schema(url: str, schema: str) -> str:
    """The URL with its search_path set to `schema`: each test gets a store of its own."""
    options = urllib.parse.quote(f"-csearch_path={schema}")
    return f"{url}{'&' if '?' in url else '?'}options={options}"
