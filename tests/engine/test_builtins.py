"""The builtins registry is the language: each operator and aggregate parses, runs, is listed."""

from __future__ import annotations

from pathlib import Path

import pytest

import engine
from engine.builtins import AGGREGATES, ARITHMETIC, COMPARISONS, arithmetic_type

LANGUAGE = (Path(__file__).resolve().parents[2] / "docs" / "language.md").read_text()
FACTS = {"v": [(7,), (2,), (-3,)]}


@pytest.mark.parametrize("name", sorted(AGGREGATES))
def test_every_aggregate_parses_runs_alike_and_is_documented(backend, name):
    target = " x" if AGGREGATES[name].takes_target else ""
    source = f".decl v(x: number)\nr(n) :- n = {name}{target} : {{ v(x) }}.\n"
    values = [x for (x,) in FACTS["v"]]
    [(answer,)] = engine.evaluate(source, FACTS, backend=backend)["r"]
    assert [answer] == AGGREGATES[name].apply(values, False)
    assert f"`{name}`" in LANGUAGE


@pytest.mark.parametrize("symbol", sorted(ARITHMETIC))
def test_every_operator_computes_what_the_registry_says_on_every_backend(backend, symbol):
    source = f".decl v(x: number)\nr(x, y, z) :- v(x), v(y), z = x {symbol} y.\n"
    rows = engine.evaluate(source, FACTS, backend=backend)["r"]
    values = [x for (x,) in FACTS["v"]]
    assert rows == {(x, y, ARITHMETIC[symbol].apply(x, y)) for x in values for y in values}


@pytest.mark.parametrize("symbol", sorted(COMPARISONS))
def test_every_comparison_holds_where_the_registry_says_on_every_backend(backend, symbol):
    source = f".decl v(x: number)\nr(x, y) :- v(x), v(y), x {symbol} y.\n"
    rows = engine.evaluate(source, FACTS, backend=backend)["r"]
    values = [x for (x,) in FACTS["v"]]
    assert rows == {(x, y) for x in values for y in values if COMPARISONS[symbol].apply(x, y)}


def test_the_language_page_lists_exactly_the_registrys_operators():
    assert f"Comparisons `{' '.join(COMPARISONS)}`; arithmetic `{' '.join(ARITHMETIC)}`" \
        in LANGUAGE


def test_arithmetic_types_float_wins_and_unknown_takes_the_other_side():
    assert arithmetic_type("number", "float") == "float"
    assert arithmetic_type("time", "time") == "time"
    assert arithmetic_type("time", "number") == "number"
    assert arithmetic_type(None, "float") == "float"
