"""Safety reaches into aggregates that stand as atom or head arguments."""

from __future__ import annotations

import pytest

from engine import RuleAnalysisError, program_from_source

DECLS = ".decl q(a: number, b: number)\n.decl r(a: number)\n"


@pytest.mark.parametrize("rule, column", [
    ("p(x, count : { q(x, y + 2) }) :- r(x).", 21),
    ("p(x) :- r(x), q(x + 1, count : { q(x, y + 2) }).", 39),
])
def test_an_unbound_variable_inside_an_argument_aggregate_is_a_positioned_error(rule, column):
    # Before, such a rule passed analysis and failed in the SWI-Prolog compiler.
    with pytest.raises(RuleAnalysisError) as error:
        program_from_source(DECLS + rule)
    [diagnostic] = error.value.diagnostics
    assert (diagnostic.code, diagnostic.line, diagnostic.column) == ("unsafe-variable", 3, column)
    assert "variable y" in diagnostic.message
