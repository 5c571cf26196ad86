"""`Engine.query` rejects bad text and options with a QueryError or a positioned syntax
error on every backend, never a Python exception (issue 14)."""

from __future__ import annotations

import pytest

from engine import QueryError, RuleSyntaxError

SOURCE = '.decl p(x: number, s: symbol)\np(1, "a").\n'


@pytest.mark.parametrize("timeout", ["1", [], float("inf"), float("nan"), 1e30, True, 0, -1])
def test_a_bad_timeout_is_a_query_error(engine_factory, timeout):
    engine = engine_factory(SOURCE)
    with pytest.raises(QueryError, match="timeout must be a number of seconds"):
        engine.query("p(x, s)", timeout=timeout)
    assert engine.query("p(x, s)", timeout=1).rows == ((1, "a"),)  # still usable


@pytest.mark.parametrize("text, column, message", [
    ('p(x, "\\x")', 7, "unknown escape sequence"),
    ('p(x, "\\ud800")', 7, "no Unicode character"),
    ("p(1" + "0" * 5000 + ", s)", 3, "digits is too long"),
    ("p(1.0e400, s)", 3, "out of range"),
    ("p(x, s), y = x" + " + 1" * 1000, 412, "nested too deeply"),
])
def test_bad_literals_in_a_query_are_positioned_syntax_errors(engine_factory, text, column,
                                                              message):
    with pytest.raises(RuleSyntaxError, match=message) as raised:
        engine_factory(SOURCE).query(text)
    assert raised.value.diagnostics[0].column == column


@pytest.mark.parametrize("text", ['p(x, "\ud800")', 42, None])
def test_query_text_must_be_unicode_text(engine_factory, text):
    with pytest.raises(QueryError, match="surrogate|is text"):
        engine_factory(SOURCE).query(text)


@pytest.mark.parametrize("query", ["p(x), z = x * 10.0", "p(x), z = -x - x * 10.0",
                                   "p(x), x * 10.0 > 1.0", "p(x), z = x + 10" + "0" * 400])
def test_an_overflowing_result_has_no_value_on_every_backend(engine_factory, query):
    engine = engine_factory(".decl p(x: float)\np(1e308).\n")
    assert engine.query(query).rows == ()
    assert engine.query("p(x), z = x * 1.0").rows == ((1e308, 1e308),)
