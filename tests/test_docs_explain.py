"""docs/explain.md: every `$ tempolog …` block is run, on a 150-tick simulation, and prints
exactly what the page shows (TEMPOLOG_UPDATE_DOCS=1 rewrites the page's outputs)."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from sim import load_config, open_store, simulate

ROOT = Path(__file__).parent.parent
PAGE = ROOT / "docs" / "explain.md"
BLOCK = re.compile(r"```console\n\$ (tempolog [^\n]*)\n(.*?)```", re.DOTALL)


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("docs") / "events.db"
    with open_store(str(path), create=True) as store:
        store.append(simulate(load_config(ticks=150)))
    return str(path)


def run(command: str, db: str) -> tuple[int, str]:
    args = [db if a == "events.db" else a for a in shlex.split(command)[1:]]
    result = CliRunner().invoke(app, args)
    return result.exit_code, result.stdout + result.stderr


def test_every_command_of_the_page_prints_what_it_shows(db, monkeypatch):
    monkeypatch.chdir(ROOT)
    text = PAGE.read_text()
    blocks = BLOCK.findall(text)
    assert {c.split()[1] for c, _ in blocks} >= {"check", "explain", "why-not", "diff"}
    outputs = []
    for command, shown in blocks:
        code, output = run(command, db)
        expected_code = 1 if command.startswith("tempolog check tests/") else 0
        assert code == expected_code, output
        outputs.append((command, shown, output))
    if os.environ.get("TEMPOLOG_UPDATE_DOCS"):
        for command, shown, output in outputs:
            text = text.replace(f"$ {command}\n{shown}```", f"$ {command}\n{output}```", 1)
        PAGE.write_text(text)
        return
    for command, shown, output in outputs:
        assert output == shown, command
