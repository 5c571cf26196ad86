"""Every rule file shipped under rules/ is a valid program."""

from pathlib import Path

import pytest

from engine.analysis import load_program

RULES = sorted((Path(__file__).parent.parent / "rules").rglob("*.dl"))


@pytest.mark.parametrize("path", RULES, ids=lambda p: p.name)
def test_shipped_rule_file_lints_clean(path):
    program = load_program([path])
    assert program.relations
    assert program.warnings == (), [d.format() for d in program.warnings]
