"""A variable only inside one negated atom means "for no value": `!s3(x, p, p)` holds when s3
has no row (x, v, v). Both backends agree with the naive oracle, facts arriving late too."""

from __future__ import annotations

import naive
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.analysis import analyse_query, program_from_source
from engine.backends.factory import BACKENDS, backend_class
from engine.explain.explaining import explain
from engine.explain.why_not import why_not

DECLARATIONS = """
.decl e(a: number, b: number)
.decl u(a: number)
.decl s3(a: number, b: number, c: number)
.event ev(a: number, b: number, t: time)
d(x, y) :- e(x, y), !e(y, x).
"""
# (relation, column types) of what a generated negation may read; `d` is derived.
NEGATABLE = [("e", "nn"), ("s3", "nnn"), ("ev", "nnt"), ("d", "nn")]
VALUES = st.integers(0, 3)


def test_repeated_variable_means_no_row_with_equal_columns(engine_factory):
    engine = engine_factory(DECLARATIONS + "r(x) :- u(x), !s3(x, p, p).", {
        "u": [(1,), (2,), (3,), (4,)],
        "s3": [(1, 5, 5), (2, 5, 6), (3, 6, 5), (3, 7, 7)]})
    # 1 has (1, 5, 5) and 3 has (3, 7, 7): rows with equal 2nd and 3rd columns.
    assert engine.query("r(x)").rows == ((2,), (4,))
    assert engine.program.warnings[0].code == "negation-only-variable"


def test_single_local_variable_is_a_wildcard(engine_factory):
    engine = engine_factory(DECLARATIONS + "r(x) :- u(x), !s3(x, p, 7).\n"
                            "w(x) :- u(x), !s3(x, _, 7).", {
                                "u": [(1,), (2,), (3,)], "s3": [(1, 5, 7), (2, 7, 5)]})
    assert engine.query("r(x)").rows == engine.query("w(x)").rows == ((2,), (3,))


def test_local_variable_in_a_query_is_no_answer_column(engine_factory):
    engine = engine_factory(DECLARATIONS, {"u": [(1,), (2,)], "s3": [(1, 4, 4)]})
    answer = engine.query("u(x), !s3(x, p, p)")
    assert answer.columns == ("x",) and answer.rows == ((2,),)
    [warning] = analyse_query(engine.program, "u(x), !s3(x, p, p)").warnings
    assert (warning.severity, warning.column) == ("warning", 14)


def test_local_variable_of_an_event_time_column_respects_as_of(engine_factory):
    engine = engine_factory(DECLARATIONS + "quiet(x) :- u(x), !ev(x, _, t).",
                            {"u": [(1,), (2,)], "ev": [(1, 0, 5), (2, 0, 9)]})
    assert engine.query("quiet(x)", as_of=4).rows == ((1,), (2,))
    assert engine.query("quiet(x)", as_of=5).rows == ((2,),)
    assert engine.query("quiet(x)").rows == ()


def test_local_variable_inside_an_aggregate(engine_factory):
    engine = engine_factory(DECLARATIONS + "n_alone(x, n) :- u(x), "
                            "n = count : { e(x, y), !s3(y, p, p) }.",
                            {"u": [(1,)], "e": [(1, 2), (1, 3), (1, 4)],
                             "s3": [(2, 0, 0), (3, 0, 1)]})
    assert engine.query("n_alone(x, n)").rows == ((1, 2),)


@st.composite
def _negation(draw, bound: list[str], stem: str) -> str:
    """A negated atom with at least one variable of its own (`stem`0, `stem`1, maybe
    repeated); its other arguments are bound variables, constants and wildcards."""
    relation, types = draw(st.sampled_from(NEGATABLE))
    own = [f"{stem}0", f"{stem}1"]
    args = []
    for type_ in types:
        kind = draw(st.sampled_from(["bound", "own", "own", "const", "wild"]))
        if type_ == "t" and kind in ("bound", "own"):
            kind = "time"  # a time column: its own variable, never joined with a number
        args.append({"bound": lambda: draw(st.sampled_from(bound)),
                     "own": lambda: draw(st.sampled_from(own)),
                     "time": lambda: f"{stem}t",
                     "const": lambda: str(draw(VALUES)),
                     "wild": lambda: "_"}[kind]())
    if not any(a.startswith(stem) for a in args):
        columns = [i for i, type_ in enumerate(types) if type_ != "t"]
        args[draw(st.sampled_from(columns))] = own[0]
    return f"{draw(st.sampled_from(['!', 'not ']))}{relation}({', '.join(args)})"


@st.composite
def _programs(draw) -> tuple[str, str]:
    """(a program whose rules negate atoms with variables of their own, a query that does)."""
    rules = []
    for i in range(draw(st.integers(1, 3))):
        base, bound = draw(st.sampled_from([("u(x)", ["x"]), ("e(x, y)", ["x", "y"])]))
        body = [base] + [draw(_negation(bound, f"p{i}{k}_"))
                         for k in range(draw(st.integers(1, 2)))]
        if draw(st.booleans()):  # inside an aggregate's braces too
            inner = draw(_negation(["x", "z"], f"q{i}_"))
            body.append(f"n = count : {{ e(x, z), {inner} }}")
            bound = bound + ["n"]
        head = ", ".join(draw(st.permutations(bound)))
        rules.append(f"r{i}({head}) :- {', '.join(body)}.")
    query = f"u(x), {draw(_negation(['x'], 'w_'))}"
    return DECLARATIONS + "\n".join(rules), query


_rows = {"e": st.sets(st.tuples(VALUES, VALUES), max_size=8),
         "u": st.sets(st.tuples(VALUES), min_size=1, max_size=4),
         "s3": st.sets(st.tuples(VALUES, VALUES, VALUES), max_size=10),
         "ev": st.sets(st.tuples(VALUES, VALUES, st.integers(0, 6)), max_size=8)}


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(program_and_query=_programs(), facts=st.fixed_dictionaries(_rows),
       as_of=st.none() | st.integers(0, 6), split=st.integers(0, 3))
@pytest.mark.parametrize("backend", BACKENDS)
def test_backends_agree_with_the_naive_evaluator(backend, program_and_query, facts, as_of,
                                                 split):
    """Half the facts first, every relation asked (tables filled), then the rest."""
    source, query = program_and_query
    program = program_from_source(source)
    assert program.warnings, source
    inputs = {name: sorted(rows) for name, rows in facts.items()}
    expected = naive.evaluate(program, inputs, as_of)
    queries = [f"{name}({', '.join(f'c{i}' for i in range(program.relations[name].arity))})"
               for name in program.derived_relations] + [query]
    engine = backend_class(backend)(program)
    try:
        for name, rows in inputs.items():
            engine.assert_facts(name, rows[:split])
        for text in queries:
            engine.query(text, as_of=as_of, timeout=30)
        for name, rows in inputs.items():
            engine.assert_facts(name, rows[split:])
        for text in queries:
            got = engine.query(text, as_of=as_of, timeout=30).rows
            assert list(got) == naive.query(program, expected, text), \
                f"{backend}: {text} as of {as_of}\n{source}"
    finally:
        engine.close()


def test_proofs_show_the_absence_with_its_variable(engine_factory):
    engine = engine_factory(DECLARATIONS + "r(x) :- u(x), !s3(x, p, p).",
                            {"u": [(1,), (2,)], "s3": [(1, 5, 5), (2, 5, 6)]})
    assert "no s3(2, p, p) now" in explain(engine, "r(2)").render()
    assert "s3(1, p, p) holds, so !s3(1, p, p) fails" in why_not(engine, "r(1)").render()
