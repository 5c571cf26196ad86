"""Each trap of SWI-Prolog 9.0.4 + pyswip 0.3.3 (../shared/SWI-NOTES.md), handled and tested."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import threading

import pytest

from engine.analysis import program_from_source
from engine.backends.swipl import backend as swipl_backend
from engine.backends.swipl.backend import SwiplEngine
from engine.backends.swipl.compiler import CompileError, compile_program, iter_dynamic
from engine.backends.swipl.thread import PrologThread
from engine.errors import QueryError, QueryTimeout, TempologError

PROLOG = PrologThread.shared()  # fails loudly if SWI-Prolog is missing

PROGRAM = """
.event placed(order: symbol, client: symbol, qty: number, t: time)
.event filled(order: symbol, qty: number, t: time)
.event cancelled(order: symbol, t: time)
done(o) :- filled(o, _, _).
open_order(o, c) :- placed(o, c, _, _), !done(o), !cancelled(o, _).
largest(c, m) :- placed(_, c, _, _), m = max q : { placed(_, c, q, _) }.
filled_total(o, n) :- placed(o, _, _, _), n = sum q : { filled(o, q, _) }.
reach(a, b) :- placed(a, b, _, _).
reach(a, c) :- reach(a, b), placed(b, c, _, _).
"""


def prolog(goal: str) -> dict:
    return PROLOG.request(f"tl_call_json(({goal}))")


# ---- trap 1: an error must never open the debugger (which exits the process at EOF) ----

def test_an_error_inside_prolog_becomes_a_tempolog_error_in_a_process_without_stdin():
    script = textwrap.dedent("""
        from engine.backends.swipl.thread import PrologThread
        from engine.errors import QueryError, QueryTimeout, TempologError
        prolog = PrologThread.shared()
        for goal in ("tl_call_json(no_such_predicate(1))", "tl_call_json(atom_length(1, a))",
                     "tl_call_json(X is foo + 1)", "not a term ((("):
            try:
                prolog.request(goal)
            except QueryError as error:
                print(error.code)
        print(prolog.request("tl_call_json(true)"))
    """)
    run = subprocess.run([sys.executable, "-c", script], stdin=subprocess.DEVNULL,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split("\n")[:5] == ["prolog-error"] * 4 + ["{'ok': True}"]


def test_debug_on_error_is_off():
    assert prolog("current_prolog_flag(debug_on_error, false)") == {"ok": True}


# ---- trap 2: consulting broken text raises nothing; we collect the load's messages ------

def test_a_compiled_text_that_does_not_load_raises():
    answer = PROLOG.request("tl_load_program(tempolog_trap2)", "p(X) :- q(X.\nr(1).\n")
    assert [m["kind"] for m in answer["messages"]] == ["error"]
    assert "Syntax error" in answer["messages"][0]["message"]
    PROLOG.request("tl_drop_module(tempolog_trap2)")


def test_the_engine_refuses_a_program_whose_compiled_text_has_errors(monkeypatch):
    program = program_from_source(PROGRAM)
    broken = swipl_backend.compile_program(program, "unused")

    def compile_broken(program, module, **options):
        return broken.__class__(**{**broken.__dict__, "module": module,
                                   "text": broken.text + "\nbroken(:- .\n"})

    monkeypatch.setattr(swipl_backend, "compile_program", compile_broken)
    with pytest.raises(CompileError) as error:
        SwiplEngine(program)
    assert error.value.code == "compile"


def test_compiled_programs_load_without_warnings(caplog):
    with caplog.at_level("WARNING"):
        SwiplEngine(program_from_source(PROGRAM)).close()
    assert caplog.records == []


# ---- traps 3 and 4: one Prolog thread serves every caller; tables are not per caller ----

def test_every_caller_thread_is_served_by_the_one_prolog_thread():
    seen = []

    def ask():
        seen.append(PROLOG.run(lambda call: threading.get_ident()))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(seen) == {PROLOG.ident}
    assert PROLOG.ident != threading.get_ident()


def test_tables_made_for_one_caller_serve_the_others():
    engine = SwiplEngine(program_from_source(PROGRAM))
    engine.assert_facts("placed", [(f"o{i}", f"o{i + 1}", i, i) for i in range(50)])
    count_tables = f"aggregate_all(count, current_table({engine.module}:_, _), N), N =:= "

    def tables() -> int:
        for n in range(10_000):
            if prolog(count_tables + str(n)) == {"ok": True}:
                return n
        raise AssertionError("too many tables")

    ask = {"text": "reach(a, b)", "as_of": 40}  # as of a time, derived relations are tabled
    engine.query(**ask)
    before = tables()
    threads = [threading.Thread(target=engine.query, kwargs=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert before > 0 and tables() == before
    engine.close()


# ---- trap 5: `:- dynamic a/1, b/1 as incremental` makes only b/1 incremental -------------

def test_every_stored_predicate_is_incremental_in_incremental_mode():
    engine = SwiplEngine(program_from_source(PROGRAM), incremental=True)
    declared = list(iter_dynamic(engine.compiled.text))
    assert len(declared) >= 3 and not re.search(r":- dynamic[^\n]*,[^\n]*as", engine.compiled.text)
    for indicator in declared:
        name, arity = indicator.rsplit("/", 1)
        head = f"functor(H, {name}, {arity})"
        expected = "true" if not name.startswith("'d:") else "false"
        assert prolog(f"{head}, predicate_property({engine.module}:H, incremental)") == {
            "ok": expected == "true"}, indicator
    engine.close()


# ---- trap 6: moded tabling (max, min, lattice) + incremental gives wrong answers ---------

@pytest.mark.parametrize("incremental", [True, False])
def test_no_moded_tabling_and_max_stays_single_after_new_facts(incremental):
    engine = SwiplEngine(program_from_source(PROGRAM), incremental=incremental)
    tables = re.findall(r"^:- table .*$", engine.compiled.text, re.M)
    assert tables and not any(re.search(r"\((_|max|min|lattice|po)\b", t) for t in tables)
    engine.assert_facts("placed", [("o1", "c1", 5, 1)])
    assert engine.query("largest(c, m)").rows == (("c1", 5),)
    engine.assert_facts("placed", [("o2", "c1", 9, 2)])
    assert engine.query("largest(c, m)").rows == (("c1", 9),)
    assert engine.query("largest(c, m)", as_of=1).rows == (("c1", 5),)
    engine.close()


# ---- trap 7: tnot's "undefined" answers read as success; stratified \+ only ------------

def test_negation_is_stratified_never_tnot():
    engine = SwiplEngine(program_from_source(PROGRAM))
    assert "tnot" not in engine.compiled.text
    engine.assert_facts("placed", [("o1", "c1", 5, 1), ("o2", "c1", 5, 2), ("o3", "c2", 1, 3)])
    engine.assert_facts("filled", [("o1", 5, 4)])
    engine.assert_facts("cancelled", [("o3", 5)])
    assert engine.query("open_order(o, c)").rows == (("o2", "c1"),)
    assert engine.query("open_order(o, c)", as_of=3).rows == (
        ("o1", "c1"), ("o2", "c1"), ("o3", "c2"))
    engine.close()


# ---- trap 8: strings as bytes, lossy terms, integers past 2^63, unescaped %p ------------

@pytest.mark.parametrize(("type_", "value"), [
    ("number", 2 ** 63), ("number", -(2 ** 63) - 1), ("number", 2 ** 100),
    ("float", 0.1), ("float", 1e300), ("float", -2.5e-300),
    ("symbol", "é\"'\\\n\x00🙂"), ("symbol", "true"), ("symbol", "[]"), ("symbol", "%p"),
    # each character that needs an escape alone: the encoder escapes only such symbols
    ("symbol", "it's"), ("symbol", "a\\b"), ("symbol", "tab\there"), ("symbol", "del\x7f"),
])
def test_values_come_back_exactly(type_, value):
    engine = SwiplEngine(program_from_source(f".decl v(x: {type_})\necho(x) :- v(x)."))
    engine.assert_facts("v", [(value,)])
    (row,) = engine.query("echo(x)").rows
    assert row == (value,) and type(row[0]) is type(value)
    engine.close()


def test_big_integers_computed_inside_prolog_come_back_exactly():
    engine = SwiplEngine(program_from_source(".decl n(x: number)\n"
                                             "cube(x, y) :- n(x), y = x * x * x."))
    engine.assert_facts("n", [(2 ** 40,), (-(2 ** 30),)])
    assert set(engine.query("cube(x, y)").rows) == {(2 ** 40, 2 ** 120), (-(2 ** 30), -(2 ** 90))}
    engine.close()


def test_a_value_prolog_cannot_store_is_rejected_before_anything_is_written():
    engine = SwiplEngine(program_from_source(".decl v(x: float)\necho(x) :- v(x)."))
    with pytest.raises(TempologError) as error:
        engine.assert_facts("v", [(1.5,), (float("nan"),)])
    assert "finite" in str(error.value)
    assert engine.query("v(x)").rows == ()
    engine.close()


def test_closed_engines_leave_no_predicates_behind():
    engine = SwiplEngine(program_from_source(PROGRAM))
    engine.assert_facts("placed", [("o1", "c1", 5, 1)])
    engine.query("open_order(o, c)")
    own = (f"current_predicate({engine.module}:N/A), functor(H, N, A), "
           f"\\+ predicate_property({engine.module}:H, imported_from(_))")
    assert prolog(own) == {"ok": True}
    engine.close()
    assert prolog(own) == {"ok": False}
    with pytest.raises(QueryError):
        engine.query("open_order(o, c)")


def test_explicit_invalidation_mode_compiles_without_incremental():
    compiled = compile_program(program_from_source(PROGRAM), "m")
    assert " as incremental" not in compiled.text
    assert compiled.invalidates["filled"] == ("filled_total", "open_order")


def test_the_time_limit_counts_the_wait_for_the_prolog_thread():
    engine = SwiplEngine(program_from_source(".decl edge(a: number, b: number)\n"
                                             "linked(x, z) :- edge(x, y), edge(y, z).\n"))
    engine.assert_facts("edge", [(i, i + 1) for i in range(300)])
    runaway = "edge(a, _), edge(b, _), edge(c, _), s = a + b + c, s > 10000"
    outcome = {}

    def long_query():
        try:
            engine.query(runaway, timeout=1.0)
        except QueryTimeout as error:
            outcome["long"] = error.code

    worker = threading.Thread(target=long_query)
    worker.start()
    threading.Event().wait(0.1)  # the long query holds the Prolog thread for a second
    with pytest.raises(QueryTimeout) as error:
        engine.query("linked(0, z)", timeout=0.3)
    assert "waited" in str(error.value)
    worker.join()
    assert outcome["long"] == "query-timeout"
    assert engine.query("linked(0, z)", timeout=0.3).rows == ((2,),)
    engine.close()
