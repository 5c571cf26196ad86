"""docs/trading-system.md tells the truth: its lifecycle, code and rules are the real ones."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "trading-system.md").read_text()


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC, re.DOTALL)


def _transitions() -> dict[tuple[str, str], str]:
    diagram = next(b for b in _blocks("mermaid") if b.startswith("stateDiagram-v2"))
    found = {}
    for source, target, event in re.findall(r"^\s*(\S+) --> (\S+?)(?:: (\w+))?$", diagram,
                                            re.MULTILINE):
        found[(source, event)] = target
    return found


def test_the_diagrams_are_mermaid_of_each_kind():
    kinds = [block.split("\n", 1)[0].split()[0] for block in _blocks("mermaid")]
    assert kinds == ["flowchart", "stateDiagram-v2", "sequenceDiagram"]


def test_every_order_of_a_run_follows_the_lifecycle_diagram(audit_store):
    transitions = _transitions()
    states: dict[str, str] = {}
    types = sorted({event for _, event in transitions if event})
    walked = set()
    for event in audit_store.read(types=types):
        state = states.get(event.stream_id, "[*]")
        target = transitions.get((state, event.type))
        assert target is not None, f"seq {event.seq}: {event.type} from {state} is not drawn"
        states[event.stream_id] = target
        walked.add((state, event.type))
    assert walked == {key for key in transitions if key[1]}, "a drawn transition never happens"


def test_the_rules_shown_are_those_of_the_shipped_rule_files():
    rules = "".join(path.read_text() for path in sorted((ROOT / "rules").glob("*.dl")))
    blocks = _blocks("dl")
    assert len(blocks) == 3
    for block in blocks:
        assert block in rules


def test_the_gateway_code_shown_is_the_gateways():
    source = (ROOT / "sim" / "exchange" / "gateway.py").read_text()
    blocks = _blocks("python")[:-1]  # the last one is the Python example, run below
    assert len(blocks) == 4
    for block in blocks:
        assert block in source, block


def test_the_python_example_runs(audit_db, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    exec(compile(_blocks("python")[-1], "trading-system.md", "exec"), {"STORE": audit_db})
    printed = capsys.readouterr().out
    assert printed.startswith("[{'q': ") or printed.strip() == "[]"


@pytest.mark.parametrize("command", re.findall(r"^\| `tempolog ([a-z-]+)", DOC, re.MULTILINE))
def test_every_audit_command_has_help(command):
    from typer.testing import CliRunner

    from api.cli import app

    result = CliRunner().invoke(app, [command, "--help"])
    assert result.exit_code == 0 and "--db" in result.output
