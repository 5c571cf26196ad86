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


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a server for this run: TEMPOLOG_TEST_POSTGRES when set (a server someone
    already runs), else one that scripts/postgres.sh starts now (installing PostgreSQL when
    missing) on a temporary data directory and stops when the run ends."""
    given = os.environ.get("TEMPOLOG_TEST_POSTGRES")
    if given:
        yield given
        return
    # Under /tmp, not pytest's tmp_path: that is private to root and the server runs as postgres.
    directory = Path(tempfile.gettempdir()) / f"tempolog-pg-test-{os.getpid()}"
    env = {**os.environ, "TEMPOLOG_PG_FSYNC": "off"}  # the data is thrown away afterwards
    started = subprocess.run([str(SCRIPT), "start", str(directory)], env=env, text=True,
                             capture_output=True, stdin=subprocess.DEVNULL)
    if started.returncode != 0:
        pytest.fail(f"could not start PostgreSQL:\n{started.stdout}{started.stderr}")
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run([str(SCRIPT), "stop", str(directory)], stdin=subprocess.DEVNULL,
                       capture_output=True)


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
