"""Prepared queries compile to exactly the goal that the query's own text compiles to."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.analysis import analyse_query, program_from_source
from engine.backends.swipl.compiler import compile_program, compile_query
from engine.backends.swipl.prepared import Prepared
from engine.errors import RuleAnalysisError

PROGRAM = program_from_source(".decl p(a: symbol, b: number, c: float)\n"
                              "q(a, b, c) :- p(a, b, c).\n")
COMPILED = compile_program(PROGRAM, "m")


def direct(text: str):
    query = analyse_query(PROGRAM, text)
    goal, row = compile_query(COMPILED, PROGRAM, query.body, query.columns)
    return query.columns, goal, row


def literal(value: str) -> str:
    """`value` as a .dl string literal."""
    escapes = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}
    return '"' + "".join(escapes.get(c) or (f"\\u{ord(c):04x}" if ord(c) < 32 else c)
                         for c in value) + '"'


@settings(max_examples=150, deadline=None)
@given(symbol=st.text(st.characters(blacklist_categories=["Cs"]), max_size=8),
       number=st.integers(-(10 ** 20), 10 ** 20), ratio=st.floats(0, 1e6, allow_nan=False),
       template=st.sampled_from([
           "q({s}, {n}, c)", "q(a, b, c), b > {n}, c <= {f}, a != {s}",
           "q(a, b, c), x = b * {n} + {n}, c = {f}", "q({s}, b, {n}), a = {s}"]))
def test_prepared_goal_equals_the_direct_goal(symbol, number, ratio, template):
    prepared = Prepared(direct)
    text = template.format(s=literal(symbol), n=number, f=repr(ratio))
    try:
        expected = direct(text)
    except RuleAnalysisError:
        with pytest.raises(RuleAnalysisError):
            prepared(text)
        return
    assert prepared(text) == expected
    assert prepared(text) == expected  # and from the cache


def counted() -> tuple[Prepared, list[str]]:
    """A Prepared over `direct` and the texts it compiled."""
    calls: list[str] = []

    def counting(text):
        calls.append(text)
        return direct(text)

    return Prepared(counting), calls


def test_one_shape_is_analysed_once():
    prepared, calls = counted()
    for client in range(20):
        prepared(f'q("C{client}", {client}, c)')
    assert len(calls) == 1


def test_errors_name_the_users_own_text():
    with pytest.raises(RuleAnalysisError) as error:
        Prepared(direct)('q(a, b, "not a float")')
    assert '"not a float"' in str(error.value)


def test_ready_compiles_nothing_and_gives_what_was_compiled():
    prepared, calls = counted()
    assert prepared.ready('q("C1", 1, c)') is None and calls == []
    prepared('q("C1", 1, c)')
    assert prepared.ready('q("C2", 2, c)') == direct('q("C2", 2, c)')  # the same shape
    assert prepared.ready("q(a, b, c), b > 3") is None  # another shape: not compiled
    assert len(calls) == 1
