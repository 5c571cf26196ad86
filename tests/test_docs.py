"""Docs that show rules have those rules checked: every example in docs/errors.md runs, and
docs/language.md's `tempolog lint example.dl` sessions print what they show."""

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from engine.analysis import program_from_source
from engine.errors import DiagnosticError

DOCS = Path(__file__).parent.parent / "docs"


def _sections(part: str):
    """(code, dl blocks) of each section of errors.md's errors, or of its warnings."""
    errors, warnings = (DOCS / "errors.md").read_text().split("\n# Warnings\n")
    for section in re.split(r"^## ", errors if part == "errors" else warnings,
                            flags=re.MULTILINE)[1:]:
        code = section.split("\n", 1)[0].strip(" `")
        blocks = re.findall(r"```dl\n(.*?)```", section, flags=re.DOTALL)
        if blocks:  # the others need files
            yield code, blocks


SECTIONS = list(_sections("errors"))
WARNINGS = list(_sections("warnings"))


@pytest.mark.parametrize("code,blocks", SECTIONS, ids=[c for c, _ in SECTIONS])
def test_error_example_fails_with_its_code_and_its_fix_passes(code, blocks):
    broken, *fixed = blocks
    with pytest.raises(DiagnosticError) as caught:
        program_from_source(broken, "example.dl")
    assert code in {d.code for d in caught.value.errors}
    for text in fixed:
        assert program_from_source(text, "example.dl").warnings == ()


@pytest.mark.parametrize("code,blocks", WARNINGS, ids=[c for c, _ in WARNINGS])
def test_warning_example_loads_with_its_warning_and_its_fix_without(code, blocks):
    warned, *fixed = blocks
    assert [d.code for d in program_from_source(warned, "example.dl").warnings] == [code]
    for text in fixed:
        assert program_from_source(text, "example.dl").warnings == ()


def _valid_examples():
    for path in (DOCS / "language.md", DOCS.parent / "README.md"):
        for i, block in enumerate(re.findall(r"```dl\n(.*?)```", path.read_text(), re.DOTALL)):
            yield pytest.param(block, id=f"{path.name}-{i + 1}")


@pytest.mark.parametrize("text", list(_valid_examples()))
def test_language_and_readme_examples_are_valid_programs(text):
    program_from_source(text, "example.dl")


def test_readme_python_examples_run(monkeypatch):
    monkeypatch.chdir(DOCS.parent)  # the examples name files relative to the repository
    blocks = re.findall(r"```python\n(.*?)```", (DOCS.parent / "README.md").read_text(),
                        re.DOTALL)
    assert blocks
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})


FENCE = re.compile(r"```(\w+)\n(.*?)```", re.DOTALL)
LINT = "$ tempolog lint example.dl\n"


def test_language_lint_sessions_print_what_they_show(tmp_path, monkeypatch):
    """Each session lints the `dl` block just before it, saved as example.dl."""
    blocks = FENCE.findall((DOCS / "language.md").read_text())
    sessions = [(blocks[i - 1][1], text[len(LINT):]) for i, (kind, text) in enumerate(blocks)
                if kind == "console" and text.startswith(LINT) and blocks[i - 1][0] == "dl"]
    assert sessions
    monkeypatch.chdir(tmp_path)
    for source, shown in sessions:
        (tmp_path / "example.dl").write_text(source)
        result = CliRunner().invoke(app, ["lint", "example.dl"])
        assert result.exit_code == 0
        assert result.output == shown
