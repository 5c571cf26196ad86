"""The one `tempolog` app: every command on it, one map from error to message and exit code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from api.cli.errors import FAILED, INTERRUPTED, OK, USAGE, exit_code, message
from engine import EventRejected, TempologError
from sim import StoreCorrupted, StoreNotFound

COMMANDS = ("lint", "sim", "verify", "stats", "events", "import")
runner = CliRunner()


def test_the_console_script_lists_every_command_from_one_app():
    script = Path(sys.executable).with_name("tempolog")
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == OK, result.stderr
    listed = {line.split()[1] for line in result.stdout.splitlines()
              if line.startswith("│ ") and len(line.split()) > 2}
    assert set(COMMANDS) <= listed


@pytest.mark.parametrize("error, code", [
    (TempologError("--query needs --engine", code="usage"), USAGE),
    (EventRejected("event 3 (PriceUpdated): payload.price must not be negative"), FAILED),
    (StoreCorrupted("line 4: not JSON"), FAILED),
    (StoreNotFound("no event store at x.db"), USAGE),
    (FileNotFoundError("no file x.jsonl"), USAGE),
    (KeyboardInterrupt(), INTERRUPTED),
])
def test_every_error_has_one_exit_code_and_message(error, code):
    assert exit_code(error) == code
    shown = message(error)
    assert str(error) in shown or shown == "interrupted"
    if isinstance(error, TempologError):
        assert shown.startswith(f"error[{error.code}]: ")


def test_a_wrong_command_line_is_usage_and_exits_2():
    result = runner.invoke(app, ["stats", "--no-such-option"])
    assert result.exit_code == USAGE
    assert "No such option" in result.stderr


@pytest.mark.parametrize("command", ["replay", "events", "stats"])
def test_a_reader_that_stops_reading_ends_the_command_quietly(command, small_store):
    # `tempolog replay | head -1`: the pipe closes after the first line.
    with subprocess.Popen([sys.executable, "-c", "from api.cli.app import main; main()",
                           command, "--db", str(small_store)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, cwd=Path(__file__).parents[2]) as child:
        first = child.stdout.readline()
        child.stdout.close()
        error = child.stderr.read().decode()
        assert child.wait(timeout=60) == OK, error
    assert first and error.strip() == ""
