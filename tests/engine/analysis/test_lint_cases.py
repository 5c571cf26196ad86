"""Golden lint cases: `neg_*` directories must fail with their `.err`; `lint_*` must pass,
with exactly the warnings of their `.warn` (none without one)."""

from pathlib import Path

import pytest

from engine.analysis import load_program
from engine.errors import DiagnosticError, format_diagnostics

ROOT = Path(__file__).resolve().parents[3]
CASES = ROOT / "tests" / "cases"
NEGATIVE = sorted(p.name for p in CASES.iterdir() if (p / f"{p.name}.err").exists())
POSITIVE = sorted(p.name for p in CASES.iterdir() if (p / f"{p.name}.ok").exists())


@pytest.mark.parametrize("name", NEGATIVE)
def test_negative_case_reports_expected_errors(name, monkeypatch):
    monkeypatch.chdir(CASES / name)  # paths in messages are relative, as a user types them
    with pytest.raises(DiagnosticError) as caught:
        load_program([f"{name}.dl"])
    expected = (CASES / name / f"{name}.err").read_text()
    assert caught.value.format().strip() == expected.strip()


@pytest.mark.parametrize("name", POSITIVE)
def test_positive_case_lints_clean(name, monkeypatch):
    monkeypatch.chdir(CASES / name)
    program = load_program([f"{name}.dl"])
    assert program.summary() == (CASES / name / f"{name}.ok").read_text().strip()
    warn = CASES / name / f"{name}.warn"
    if warn.exists():
        assert format_diagnostics(list(program.warnings)) == warn.read_text().strip()
    else:
        assert program.warnings == ()


def test_negative_cases_are_named_and_explained():
    assert len(NEGATIVE) >= 20
    for name in NEGATIVE:
        assert name.startswith("neg_"), f"{name} must fail, so its name starts with neg_"


def test_every_documented_error_code_has_a_case():
    documented = set(_documented_codes())
    seen = set()
    for path in [*CASES.glob("*/*.err"), *CASES.glob("*/*.warn")]:
        text = path.read_text()
        seen |= {code for code in documented
                 if f"error[{code}]" in text or f"warning[{code}]" in text}
    # Codes about a file as bytes (missing, over 8 MiB, not UTF-8) cannot be a case's .dl
    # text: tests/engine/lang/test_hostile_rules.py gives each its own test.
    assert documented - {"file-not-found", "file-too-large", "encoding"} <= seen


def _documented_codes():
    docs = (ROOT / "docs" / "errors.md").read_text()
    return [line[4:].strip(" `") for line in docs.splitlines() if line.startswith("## `")]
