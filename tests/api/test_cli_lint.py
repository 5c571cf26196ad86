"""`tempolog lint`: exit codes, every error with its caret, JSON for tools, no tracebacks."""

import json
from pathlib import Path

from typer.testing import CliRunner

from api.cli import app

CASES = Path(__file__).resolve().parents[1] / "cases"
runner = CliRunner()


def test_clean_file_exits_0_with_a_summary():
    result = runner.invoke(app, ["lint", str(CASES / "lint_souffle_style/lint_souffle_style.dl")])
    assert result.exit_code == 0
    assert "ok — 12 relations (1 event), 11 rules, 5 facts, 2 invariants, 2 strata" in result.stdout


def test_file_with_several_mistakes_prints_each_and_exits_1():
    path = CASES / "neg_many_syntax_errors/neg_many_syntax_errors.dl"
    result = runner.invoke(app, ["lint", str(path)])
    assert result.exit_code == 1
    assert result.stderr.count("error[syntax]") == 4
    assert result.stderr.count("^") == 4 and result.stderr.count("hint:") == 4
    assert result.stderr.rstrip().endswith("4 errors generated")


def test_json_format_lists_errors_with_positions():
    path = CASES / "neg_unsafe_comparison/neg_unsafe_comparison.dl"
    result = runner.invoke(app, ["lint", "--format", "json", str(path)])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert [(e["code"], e["line"], e["column"]) for e in report["errors"]] == [
        ("unsafe-variable", 2, 15), ("unsafe-variable", 3, 22)]


def test_json_format_for_a_clean_file():
    path = CASES / "lint_include/lint_include.dl"
    result = runner.invoke(app, ["lint", "--format", "json", str(path)])
    assert json.loads(result.stdout) == {
        "ok": True, "relations": 2, "rules": 1, "facts": 0, "invariants": 0, "strata": 1,
        "warnings": []}


def test_warnings_alone_are_shown_and_exit_0(monkeypatch):
    monkeypatch.chdir(CASES / "lint_negation_only_variable")
    result = runner.invoke(app, ["lint", "lint_negation_only_variable.dl"])
    assert result.exit_code == 0
    expected = (CASES / "lint_negation_only_variable/lint_negation_only_variable.warn")
    assert result.stderr.strip() == expected.read_text().strip()
    assert result.stderr.count("warning[negation-only-variable]") == 2
    assert "error" not in result.stderr
    assert result.stdout == ("lint_negation_only_variable.dl: ok — 6 relations (0 event), "
                             "3 rules, 0 facts, 0 invariants, 1 strata\n")


def test_warnings_in_json_for_a_file_that_passes(monkeypatch):
    monkeypatch.chdir(CASES / "lint_negation_only_variable")
    result = runner.invoke(app, ["lint", "--format", "json", "lint_negation_only_variable.dl"])
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert [(w["severity"], w["code"], w["line"], w["column"]) for w in report["warnings"]] == [
        ("warning", "negation-only-variable", 6, 21), ("warning", "negation-only-variable", 8, 31)]


def test_errors_fail_and_are_shown_with_every_warning(tmp_path):
    path = tmp_path / "mixed.dl"
    path.write_text(".decl p(x: number)\n.decl q(x: number, y: number)\n"
                    "warned(x) :- p(x), !q(x, z).\n"
                    "broken(x, y) :- p(x).\n")
    result = runner.invoke(app, ["lint", str(path)])
    assert result.exit_code == 1
    assert result.stderr.count("warning[negation-only-variable]") == 1
    assert result.stderr.count("error[unsafe-variable]") == 1
    assert result.stderr.rstrip().endswith("1 error and 1 warning generated")
    assert result.stdout == ""
    report = json.loads(runner.invoke(app, ["lint", "--format", "json", str(path)]).stdout)
    assert ([e["code"] for e in report["errors"]], [w["code"] for w in report["warnings"]]) \
        == (["unsafe-variable"], ["negation-only-variable"])


def test_missing_file_and_directory_get_a_message_not_a_traceback(tmp_path):
    for target in (tmp_path / "missing.dl", tmp_path):
        result = runner.invoke(app, ["lint", str(target)])
        assert result.exit_code == 2  # the command line names no rule file
        assert "error[file-not-found]" in result.stderr
        assert "Traceback" not in result.output


def test_explain_plan_shows_each_body_in_join_order(tmp_path):
    path = tmp_path / "plan.dl"
    path.write_text(
        ".decl a(x: number)\n.decl b(y: number)\n.decl c(x: number, y: number)\n"
        "p(x, y) :- a(x), b(y), c(x, y), x < y.\n"
        "reach(x, y) :- c(x, y).\n"
        "reach(x, z) :- reach(x, y), c(y, z).\n")
    result = runner.invoke(app, ["lint", "--explain-plan", str(path)])
    assert result.exit_code == 0
    # no cross product: c joins a's x before b runs, the comparison once both are bound
    assert (f"{path}:4: p(x, y)\n  1. a(x)\n  2. c(x, y)\n  3. x < y\n  4. b(y)\n"
            in result.stdout)
    assert (f"{path}:6: reach(x, z)\n  1. reach(x, y)\n  2. c(y, z)\n"
            "  new reach(x, y) tuples first:\n    1. reach(x, y)\n    2. c(y, z)\n"
            in result.stdout)
