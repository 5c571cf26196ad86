"""The backend contract: every engine backend passes this one suite (evaluate(), Engine,
queries, rows, errors, semantics), with the same answers and the same errors."""

from __future__ import annotations

import pytest

import engine
from engine import Engine, program_from_source
from engine.errors import (
    EventRejected,
    QueryError,
    RowRejected,
    RuleAnalysisError,
    RuleSyntaxError,
    TempologError,
)

ORDERS = """
.event order_placed(order: symbol, client: symbol, sym: symbol, qty: number, t: time)
.event order_filled(order: symbol, qty: number, t: time)
filled(o, n) :- order_placed(o, _, _, _, _), n = sum q : { order_filled(o, q, _) }.
open_order(o, c, s) :- order_placed(o, c, s, q, _), filled(o, f), f < q.
"""
PLACED = [("o1", "c1", "AAPL", 10, 1), ("o2", "c2", "MSFT", 5, 2), ("o3", "c1", "MSFT", 7, 3)]
FILLED = [("o1", 4, 2), ("o1", 6, 5), ("o2", 5, 4)]


def test_evaluate_answers_every_relation_input_and_derived(backend):
    source = ".decl edge(a: number, b: number)\n" \
             "path(x, y) :- edge(x, y).\npath(x, z) :- path(x, y), edge(y, z).\n"
    answers = engine.evaluate(source, {"edge": [(1, 2), (2, 3)]}, backend=backend)
    assert answers == {"edge": {(1, 2), (2, 3)}, "path": {(1, 2), (2, 3), (1, 3)}}


def test_evaluate_infers_relations_that_appear_only_in_facts(backend):
    answers = engine.evaluate("big(x) :- size(x, n), n > 10.",
                              {"size": [("a", 5), ("b", 50)]}, backend=backend)
    assert answers == {"size": {("a", 5), ("b", 50)}, "big": {("b",)}}


def test_evaluate_takes_a_relation_given_without_rows_as_a_defined_empty_input(backend):
    answers = engine.evaluate("r(x) :- p(x), !q(x).\nn(k) :- k = count : { q(_) }.",
                              {"p": [(1,), (2,)], "q": []}, backend=backend)
    assert answers == {"p": {(1,), (2,)}, "q": set(), "r": {(1,), (2,)}, "n": {(0,)}}


def test_evaluate_raises_positioned_errors_with_codes(backend):
    with pytest.raises(RuleSyntaxError) as syntax:
        engine.evaluate("p(x) :- q(x)", {}, backend=backend)
    assert syntax.value.code == "syntax" and ":1:" in str(syntax.value)
    with pytest.raises(RuleAnalysisError) as unsafe:
        engine.evaluate(".decl q(a: number)\np(x, y) :- q(x).", {}, backend=backend)
    assert isinstance(unsafe.value, TempologError) and unsafe.value.code


def test_query_columns_are_named_variables_in_order_of_first_appearance(engine_factory):
    orders = engine_factory(ORDERS, {"order_placed": PLACED, "order_filled": FILLED})
    result = orders.query('open_order(o, c, "MSFT"), order_placed(o, _, _, q, t), q > 6')
    assert result.columns == ("o", "c", "q", "t")
    assert result.rows == (("o3", "c1", 7, 3),)
    assert result.as_dicts() == [{"o": "o3", "c": "c1", "q": 7, "t": 3}]


def test_rows_are_sorted_and_limit_takes_the_first(engine_factory):
    orders = engine_factory(ORDERS, {"order_placed": PLACED})
    assert orders.query("order_placed(o, c, _, _, _)").rows == (
        ("o1", "c1"), ("o2", "c2"), ("o3", "c1"))
    assert orders.query("order_placed(o, c, _, _, _)", limit=2).rows == (
        ("o1", "c1"), ("o2", "c2"))
    assert orders.query("order_placed(o, c, _, _, _)", limit=0).rows == ()


def test_as_of_answers_every_rule_over_events_up_to_that_time(engine_factory):
    orders = engine_factory(ORDERS, {"order_placed": PLACED, "order_filled": FILLED})
    assert orders.query("open_order(o, _, _)", as_of=1).rows == (("o1",),)
    assert orders.query("open_order(o, _, _)", as_of=3).rows == (("o1",), ("o2",), ("o3",))
    assert orders.query("open_order(o, _, _)", as_of=4).rows == (("o1",), ("o3",))
    assert orders.query("open_order(o, _, _)").rows == (("o3",),)
    assert orders.query('filled("o1", n)', as_of=2).rows == ((4,),)
    assert orders.query('filled("o1", n)', as_of=0).rows == ()


def test_relations_report_arity_and_declared_types(engine_factory):
    orders = engine_factory(ORDERS)
    relations = orders.relations()
    assert relations["order_placed"].arity == 5
    assert relations["order_placed"].types == ("symbol", "symbol", "symbol", "number", "time")
    assert relations["order_placed"].is_event and relations["order_placed"].time_column == 4
    assert relations["filled"].arity == 2


def test_assert_facts_counts_new_rows_and_keeps_sets(engine_factory):
    orders = engine_factory(ORDERS)
    assert orders.assert_facts("order_placed", PLACED) == 3
    assert orders.assert_facts("order_placed", PLACED[:1] + [("o4", "c3", "IBM", 1, 9)]) == 1
    assert len(orders.query("order_placed(o, _, _, _, _)")) == 4


def test_bad_rows_and_unknown_relations_raise_and_write_nothing(engine_factory):
    orders = engine_factory(ORDERS)
    with pytest.raises(QueryError):
        orders.assert_facts("no_such_relation", [("x",)])
    with pytest.raises(QueryError):
        orders.assert_facts("order_placed", [("o9", "c1", "AAPL", 1, 1), ("o8", "c1")])
    with pytest.raises(QueryError):
        orders.assert_facts("order_placed", [("o9", "c1", "AAPL", "ten", 1)])
    assert orders.query("order_placed(o, _, _, _, _)").rows == ()


TYPED = ".decl reading(sensor: symbol, value: float, count: number)\n" \
        "low(s) :- reading(s, v, _), v < 1.0.\n" \
        "seen(x) :- untyped(x, _).\n"
BAD_ROWS = [  # (relation, row, the one message every backend gives)
    ("reading", ("a", True, 1), "column value of reading holds a float, not True"),
    ("reading", ("a", 1.0, True), "column count of reading holds a number, not True"),
    ("reading", ("a", float("nan"), 1), "column value of reading holds finite numbers only, "
                                        "not nan"),
    ("reading", ("a", float("inf"), 1), "column value of reading holds finite numbers only, "
                                        "not inf"),
    ("reading", ("a", 10 ** 400, 1), "column value of reading holds finite numbers only, "
                                     f"not {10 ** 400!r}"),
    ("reading", (None, 1.0, 1), "column sensor of reading holds a symbol, not None"),
    ("reading", ("a", 1.0), "reading takes 3 values, not 2: ('a', 1.0)"),
    ("reading", 7, "reading takes 3 values, not 7"),
    ("reading", ("a", 1.0, "many"), "column count of reading holds a number, not 'many'"),
    ("reading", ("a", 1.0, 1.5), "column count of reading holds a number, not 1.5"),
    ("reading", (3, 1.0, 1), "column sensor of reading holds a symbol, not 3"),
    ("reading", ("\ud800", 1.0, 1), "column sensor of reading holds valid Unicode text, "
                                     "not '\\ud800'"),
    ("untyped", ("a", True), "column c2 of untyped holds a symbol or a number, not True"),
    ("untyped", ("a", None), "column c2 of untyped holds a symbol or a number, not None"),
    ("untyped", ("a", float("inf")), "column c2 of untyped holds finite numbers only, "
                                     "not inf"),
    ("untyped", ("a", float("nan")), "column c2 of untyped holds finite numbers only, "
                                     "not nan"),
]


@pytest.mark.parametrize("relation, row, message", BAD_ROWS,
                         ids=[f"{r}-{row!r}" for r, row, _ in BAD_ROWS])
def test_a_bad_row_gets_the_same_error_on_every_backend(engine_factory, relation, row, message):
    readings = engine_factory(program_from_source(TYPED, extra_relations={"untyped": 2}))
    good = [("b", 0.5, 2)] if relation == "reading" else [("b", 2)]
    with pytest.raises(RowRejected) as error:
        readings.assert_many({relation: (good + [row], None)})
    assert str(error.value) == message
    assert isinstance(error.value, EventRejected) and isinstance(error.value, QueryError)
    assert error.value.code == "row-rejected"
    assert readings.query("low(s)").rows == ()  # nothing of the batch was written
    assert readings.query("seen(x)").rows == ()


def test_good_rows_are_stored_alike_on_every_backend(engine_factory):
    readings = engine_factory(program_from_source(TYPED, extra_relations={"untyped": 2}))
    assert readings.assert_facts("reading", [("a", 0, 1), ["b", 0.5, 2]]) == 2
    assert readings.assert_facts("reading", [("a", 0.0, 1)]) == 0  # 0 in a float column is 0.0
    assert readings.assert_facts("untyped", [("x", 1), ("y", 2.5), ("z", "w")]) == 3
    assert readings.query("reading(s, v, n)").rows == (("a", 0.0, 1), ("b", 0.5, 2))
    assert readings.query("seen(x)").rows == (("x",), ("y",), ("z",))


def test_malformed_query_gets_the_positioned_error_format(engine_factory):
    orders = engine_factory(ORDERS)
    with pytest.raises(RuleSyntaxError) as error:
        orders.query("open_order(o, c s)")
    text = str(error.value)
    assert "<query>:1:" in text and "^" in text and "open_order(o, c s)" in text
    with pytest.raises(RuleAnalysisError) as error:
        orders.query("open_order(o, c)")
    assert "<query>:1:" in str(error.value)


def test_bad_query_options_raise(engine_factory):
    orders = engine_factory(ORDERS)
    for options in ({"as_of": "yesterday"}, {"limit": -1}):
        with pytest.raises(QueryError):
            orders.query("order_placed(o, _, _, _, _)", **options)


def test_a_closed_engine_answers_nothing(engine_factory):
    orders = engine_factory(ORDERS)
    orders.close()
    with pytest.raises(QueryError):
        orders.query("order_placed(o, _, _, _, _)")
    orders.close()  # closing twice is harmless


def test_engine_from_files(tmp_path, backend):
    rules = tmp_path / "orders.dl"
    rules.write_text(ORDERS)
    with Engine.from_files([rules], backend=backend) as orders:
        orders.assert_facts("order_placed", PLACED)
        assert len(orders.query("open_order(o, c, s)")) == 3


# ---- semantics ---------------------------------------------------------------------

def test_integer_division_truncates_toward_zero_and_by_zero_gives_no_answer(backend):
    answers = engine.evaluate(
        "q(x, y, d, m) :- n(x), n(y), d = x / y, m = x % y.",
        {"n": [(7,), (-7,), (2,), (0,)]}, backend=backend)["q"]
    assert (7, 2, 3, 1) in answers and (-7, 2, -3, -1) in answers and (7, -7, -1, 0) in answers
    assert not any(y == 0 for _, y, _, _ in answers)


def test_mixed_arithmetic_gives_floats_and_integers_are_unbounded(backend):
    answers = engine.evaluate(
        "q(a, b, c) :- n(x), a = x / 2.0, b = x + 0.5, c = x * x * x * x * x.",
        {"n": [(2 ** 40,), (-3,)]}, backend=backend)["q"]
    assert answers == {(2 ** 39 * 1.0, 2 ** 40 + 0.5, 2 ** 200), (-1.5, -2.5, -243)}


@pytest.mark.parametrize("text", [
    "plain", "it's", 'say "hi"', "back\\slash", "tab\there\nnewline", "naïve façade 東京 🙂",
    "", "true", "null", "[]", "{}", "x', 'y", "\x00nul", "a\\'b",
])
def test_symbols_round_trip_exactly(backend, text):
    source = 'tagged(x, "k") :- item(x).\nsame(x) :- item(x), tagged(x, "k").'
    answers = engine.evaluate(source, {"item": [(text,)]}, backend=backend)
    assert answers["tagged"] == {(text, "k")} and answers["same"] == {(text,)}


def test_string_constants_in_rules_are_escaped(backend):
    source = r'q("quote\" back\\ tab\t é") :- r(1).'
    assert engine.evaluate(source, {"r": [(1,)]}, backend=backend)["q"] == {
        ('quote" back\\ tab\t é',)}


def test_aggregates_over_empty_groups(backend):
    source = """
        .decl key(k: symbol)
        .decl val(k: symbol, v: number)
        stats(k, n, s) :- key(k), n = count : { val(k, _) }, s = sum v : { val(k, v) }.
        low(k, m) :- key(k), m = min v : { val(k, v) }.
        high(k, m) :- key(k), m = max v : { val(k, v) }.
        avg(k, m) :- key(k), m = mean v : { val(k, v) }.
    """
    answers = engine.evaluate(source, {"key": [("a",), ("b",)],
                                       "val": [("a", 1), ("a", 2), ("a", 4)]}, backend=backend)
    assert answers["stats"] == {("a", 3, 7), ("b", 0, 0)}
    assert answers["low"] == {("a", 1)} and answers["high"] == {("a", 4)}
    assert answers["avg"] == {("a", 7 / 3)}
    assert isinstance(next(iter(answers["avg"]))[1], float)


def test_wildcards_and_negation_with_wildcards(backend):
    source = """
        .decl edge(a: symbol, b: symbol)
        source(x) :- edge(x, _), !edge(_, x).
    """
    answers = engine.evaluate(source, {"edge": [("a", "b"), ("b", "c"), ("d", "b")]},
                              backend=backend)
    assert answers["source"] == {("a",), ("d",)}


def test_float_sums_over_events_are_exact_at_every_time(engine_factory):
    ledger = engine_factory(
        ".event move(account: symbol, x: float, t: time)\n"
        "total(a, s) :- move(a, _, _), s = sum x : { move(a, x, _) }.\n"
        "average(a, m) :- move(a, _, _), m = mean x : { move(a, x, _) }.\n",
        {"move": [("a", 1e16, 1), ("a", 1.0, 2), ("a", -1e16, 3)]})
    assert ledger.query("total(a, s)").rows == (("a", 1.0),)
    assert ledger.query("total(a, s)", as_of=2).rows == (("a", 1e16),)  # 1e16 + 1, rounded
    assert ledger.query("average(a, m)").rows == (("a", 1 / 3),)


def test_aggregates_as_atom_and_head_arguments_with_expressions_inside(backend):
    # An aggregate standing as an argument has its own body normalised like any other:
    # `q(y - 1, _)` inside it reads q at y - 1, on every backend.
    source = (".decl q(a: number, b: number)\n.decl r(a: number)\n"
              "p(x, sum y : { q(x, y), q(y - 1, _) }) :- r(x).\n"
              "w(x) :- r(x), q(x, count : { q(x + 0, _) }).\n")
    facts = {"q": [(1, 2), (1, 4), (3, 5), (2, 1), (0, 1), (2, 2), (3, 1)],
             "r": [(1,), (2,), (4,)]}
    answers = engine.evaluate(source, facts, backend=backend)
    # x=1: y=2 has two q(1, _) witnesses, y=4 two q(3, _): 2+2+4+4; x=2: 1 + 2+2; x=4: none
    assert answers["p"] == {(1, 12), (2, 5), (4, 0)}
    # x=1 and x=2 each have two q(x, _), and q(x, 2) holds for both; q(4, 0) does not
    assert answers["w"] == {(1,), (2,)}
