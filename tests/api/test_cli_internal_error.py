"""A bug in a command exits 3 with one line asking to report it, never a traceback."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from api.cli import main
from api.cli.errors import FAILED, INTERNAL

app_module = importlib.import_module("api.cli.app")


def test_an_internal_error_exits_3_with_one_line_and_saves_the_traceback(
        monkeypatch, tmp_path, capsys):
    def broken() -> None:
        raise ZeroDivisionError("a bug\nover two lines")

    monkeypatch.setattr(app_module, "app", broken)
    monkeypatch.setenv("TEMPOLOG_CRASH_DIR", str(tmp_path))
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == INTERNAL
    [line] = capsys.readouterr().err.splitlines()
    assert "internal error" in line and "please report it" in line
    assert "ZeroDivisionError: a bug over two lines" in line
    [saved] = tmp_path.glob("tempolog-crash-*.txt")
    assert str(saved) in line
    assert "Traceback" in saved.read_text() and "broken" in saved.read_text()


def test_a_users_mistake_that_escapes_a_command_is_a_message_and_exit_1(monkeypatch, capsys):
    def unreadable() -> None:
        raise PermissionError(13, "Permission denied", "x.db")

    monkeypatch.setattr(app_module, "app", unreadable)
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == FAILED
    assert "Traceback" not in capsys.readouterr().err


def test_the_installed_command_lints_a_hostile_file_without_a_traceback(tmp_path):
    script = Path(sys.executable).with_name("tempolog")
    rules = tmp_path / "deep.dl"
    rules.write_text(".decl p(x: number)\n.decl q(x: number)\nq(y) :- p(x), y = x"
                     + " + 1" * 1000 + ".\n")
    result = subprocess.run([str(script), "lint", "--format", "json", str(rules)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == FAILED, result.stderr
    assert "Traceback" not in result.stderr
    [error] = json.loads(result.stdout)["errors"]
    assert "nested too deeply" in error["message"] and error["line"] == 3
