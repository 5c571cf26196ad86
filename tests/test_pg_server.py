"""The test run's PostgreSQL server dies with the run, even when the run is SIGKILLed."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from pg_server import PREFIX, reap_abandoned_servers

TESTS = Path(__file__).resolve().parent
_RUN = f"""
import os, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, {str(TESTS)!r})
from pg_server import PREFIX, start_server
print(start_server(Path(tempfile.gettempdir()) / f"{{PREFIX}}{{os.getpid()}}"), flush=True)
time.sleep(600)
"""


def _refuses(url: str) -> bool:
    try:
        psycopg.connect(url, connect_timeout=2).close()
    except psycopg.OperationalError:
        return True
    return False


def test_a_killed_runs_server_is_stopped_and_its_data_removed():
    run = subprocess.Popen([sys.executable, "-c", _RUN], stdout=subprocess.PIPE, text=True,
                           stdin=subprocess.DEVNULL)
    directory = Path(tempfile.gettempdir()) / f"{PREFIX}{run.pid}"
    try:
        url = run.stdout.readline().strip()
        assert url.startswith("postgresql://"), url
        assert not _refuses(url)
    finally:
        run.kill()  # SIGKILL: no finaliser, no atexit
        run.wait()
    deadline = time.monotonic() + 60
    while (directory.exists() or not _refuses(url)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not directory.exists() and _refuses(url)


def test_a_server_directory_of_a_run_that_is_gone_is_reaped():
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    directory = Path(tempfile.gettempdir()) / f"{PREFIX}{gone.stdout.strip()}"
    (directory / "data").mkdir(parents=True)
    reap_abandoned_servers()
    assert not directory.exists()
