"""The parser: positions, constants, precedence, and the round trip parse(pretty(ast)) == ast."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import RuleSyntaxError
from engine.lang import ast
from engine.lang.parser import parse, parse_query
from engine.lang.pretty import pretty


def only_rule(text: str) -> ast.Rule:
    (item,) = parse(text).items
    return item


def test_every_node_keeps_file_line_and_column():
    rule = only_rule('\n  path(x, z) :- path(x, y), !edge(y, "z").', )
    assert (rule.pos.line, rule.pos.column) == (2, 3)
    first, negation = rule.body
    assert (first.pos.line, first.pos.column) == (2, 17)
    assert negation.atom.args[1].pos.column == 38
    assert rule.head.args[1].pos.path == "<input>"


def test_as_of_literals_keep_their_atom_time_and_positions():
    rule = only_rule("p(c, q) :- trade(c, t), pos(c, q) @ t, !pos(c, _) @ 5, not gone(c) @ t.")
    _, at, negated, word = rule.body
    assert at == ast.AsOf(ast.Atom("pos", (ast.Var("c"), ast.Var("q"))), ast.Var("t"))
    assert (at.pos.column, at.time.pos.column) == (25, 37)
    assert negated.negated and negated.time == ast.Const(5, "number")
    assert (negated.pos.column, negated.atom.pos.column) == (40, 41)
    assert word.negated and word.atom.relation == "gone"
    assert parse_query("pos(c, q) @ 100") == (
        ast.AsOf(ast.Atom("pos", (ast.Var("c"), ast.Var("q"))), ast.Const(100, "number")),)


def test_arithmetic_precedence_and_left_associativity():
    rule = only_rule("r(w) :- p(x), w = x - 2 - 3 * -x % 4.")
    expr = rule.body[1].right
    # (x - 2) - ((3 * -x) % 4)
    assert expr.op == "-" and expr.left.op == "-"
    assert expr.right.op == "%" and expr.right.left.op == "*"
    assert isinstance(expr.right.left.right, ast.Negate)


def test_constants_strings_numbers_floats():
    rule = only_rule(r'p("q\"uote", "back\\slash", "line\nbreak", "\u00e9t\u00e9", 42, -7, 2.5e3).')
    values = [a.value for a in rule.head.args]
    assert values == ['q"uote', "back\\slash", "line\nbreak", "été", 42, -7, 2500.0]
    assert [a.type for a in rule.head.args][-3:] == ["number", "number", "float"]


def test_not_is_a_synonym_of_bang():
    assert only_rule("r(x) :- p(x), not q(x).") == only_rule("r(x) :- p(x), !q(x).")


def test_nullary_relations_and_wildcards():
    rule = only_rule("done() :- p(_, _).")
    assert rule.head.args == ()
    assert all(isinstance(a, ast.Wildcard) for a in rule.body[0].args)


def test_aggregate_forms():
    count, total = parse(
        "n(c, k) :- c(c), k = count : { p(c, _), !q(c) }.\n"
        "s(c, k) :- c(c), k = sum q * 2 : p(c, q).").items
    assert count.body[1].right.func == "count" and count.body[1].right.target is None
    assert len(count.body[1].right.body) == 2
    assert total.body[1].right.target == ast.BinOp("*", ast.Var("q"), ast.Const(2, "number"))


def test_keywords_are_words_not_prefixes():
    rule = only_rule("counter(notional, summary) :- minimum(notional, summary).")
    assert rule.head.relation == "counter"
    assert [a.name for a in rule.head.args] == ["notional", "summary"]


def test_invariants_includes_and_directives():
    text = '.include "events.dl"\n.never no_self: p(x, x).\n.output p, q\n'
    include, invariant, directive = parse(text).items
    assert include == ast.Include("events.dl")
    assert invariant.name == "no_self"
    assert directive == ast.Directive("output", ("p", "q"))


def test_query_body_parses_with_or_without_final_dot():
    assert parse_query('p(x, "a"), x > 1') == parse_query('p(x, "a"), x > 1.')


def test_malformed_query_gets_a_positioned_error():
    with pytest.raises(RuleSyntaxError) as caught:
        parse_query("p(x,, y)")
    (diagnostic,) = caught.value.diagnostics
    assert (diagnostic.path, diagnostic.line, diagnostic.column) == ("<query>", 1, 5)
    assert "^" in caught.value.format()


# ---- round trip ------------------------------------------------------------------------

KEYWORDS = {"count", "sum", "min", "max", "mean", "not"}
names = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True).filter(lambda n: n not in KEYWORDS)
var_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,4}", fullmatch=True).filter(
    lambda n: n != "_" and n not in KEYWORDS)
symbols = st.text(st.characters(exclude_categories=("Cs",)), max_size=8)
numbers = st.integers(-(10**12), 10**12)
floats = st.floats(allow_nan=False, allow_infinity=False, width=64).filter(math.isfinite)

consts = st.one_of(
    symbols.map(lambda s: ast.Const(s, "symbol")),
    numbers.map(lambda n: ast.Const(n, "number")),
    floats.map(lambda f: ast.Const(f, "float")),
)
variables = var_names.map(ast.Var)


def _negate(term):
    # The parser folds `-<number>` into a negative constant: keep the tree in that form.
    if isinstance(term, ast.Const) and term.type != "symbol":
        return ast.Const(-term.value, term.type)
    return ast.Negate(term)


def atoms(args):
    return st.builds(ast.Atom, names, st.lists(args, max_size=3).map(tuple))


plain_terms = st.recursive(
    st.one_of(variables, consts),
    lambda inner: st.one_of(
        st.builds(ast.BinOp, st.sampled_from("+-*/%"), inner, inner),
        inner.map(_negate),
    ),
    max_leaves=6,
)
arg_terms = st.one_of(plain_terms, st.just(ast.Wildcard()))
simple_literals = st.one_of(
    atoms(arg_terms),
    atoms(arg_terms).map(ast.Negation),
    st.builds(ast.AsOf, atoms(arg_terms), st.one_of(
        variables, st.integers(0, 10**6).map(lambda n: ast.Const(n, "number"))), st.booleans()),
    st.builds(ast.Comparison, st.sampled_from(["=", "!=", "<", "<=", ">", ">="]),
              plain_terms, plain_terms),
)
aggregates = st.builds(
    ast.Aggregate, st.sampled_from(["count", "sum", "min", "max", "mean"]), plain_terms,
    st.lists(simple_literals, min_size=1, max_size=2).map(tuple),
).map(lambda a: ast.Aggregate(a.func, None if a.func == "count" else a.target, a.body))
literals = st.one_of(
    simple_literals,
    st.builds(ast.Comparison, st.just("="), variables, aggregates),
)
bodies = st.lists(literals, min_size=1, max_size=3).map(tuple)
fields = st.builds(ast.Field, names, st.sampled_from(["symbol", "number", "float", "time"]))
items = st.one_of(
    st.builds(ast.Declaration, names, st.lists(fields, max_size=3).map(tuple), st.booleans()),
    st.builds(ast.Rule, atoms(plain_terms), st.just(())),
    st.builds(ast.Rule, atoms(plain_terms), bodies),
    st.builds(ast.Invariant, names, bodies),
    st.builds(ast.Include, symbols),
    st.builds(ast.Directive, st.sampled_from(["input", "output"]),
              st.lists(names, min_size=1, max_size=2).map(tuple)),
)
rule_files = st.lists(items, max_size=5).map(lambda xs: ast.RuleFile("<input>", tuple(xs)))


@settings(max_examples=300, deadline=None)
@given(rule_files)
def test_parse_of_pretty_is_the_same_tree(rule_file):
    text = pretty(rule_file)
    assert parse(text) == rule_file, text
