"""Desugaring before the checks: disjunctions into one rule per alternative, `contains` literals."""

from __future__ import annotations

from itertools import product

from engine.lang import ast


def alternatives(body: tuple[ast.Literal, ...]) -> list[tuple[ast.Literal, ...]]:
    """The conjunctions a body with disjunctions stands for, in order: `a, (b ; c), d` is
    `a, b, d` and `a, c, d`. Nested disjunctions multiply out."""
    options: list[list[tuple[ast.Literal, ...]]] = []
    for literal in body:
        if isinstance(literal, ast.Disjunction):
            options.append([alt for branch in literal.alternatives
                            for alt in alternatives(branch)])
        else:
            options.append([(literal,)])
    return [tuple(lit for part in choice for lit in part) for choice in product(*options)]


def split_rule(rule: ast.Rule) -> list[ast.Rule]:
    """A rule per alternative of its body; each keeps the rule's position."""
    if not any(isinstance(lit, ast.Disjunction) for lit in rule.body):
        return [rule]
    return [ast.Rule(rule.head, body, rule.pos) for body in alternatives(rule.body)]


def disjunctions_in(body: tuple[ast.Literal, ...]) -> list[ast.Disjunction]:
    """Disjunctions a body holds, aggregates' bodies included."""
    found = []
    for literal in body:
        if isinstance(literal, ast.Disjunction):
            found.append(literal)
        elif isinstance(literal, ast.Comparison):
            for side in (literal.left, literal.right):
                for agg in ast.aggregates_in(side):
                    found.extend(disjunctions_in(agg.body))
    return found


def builtin_literals(body: tuple[ast.Literal, ...], relations: set[str]
                     ) -> tuple[ast.Literal, ...]:
    """`contains(a, b)` as a literal, where no relation of that name exists, is the test
    `contains(a, b) = 1` (`!contains(a, b)`: `= 0`), as in Soufflé."""
    out = []
    for literal in body:
        atom = literal.atom if isinstance(literal, ast.Negation) else literal
        if (isinstance(atom, ast.Atom) and atom.relation == "contains"
                and "contains" not in relations):
            call = ast.Call("contains", atom.args, atom.pos)
            truth = 0 if isinstance(literal, ast.Negation) else 1
            out.append(ast.Comparison("=", call, ast.Const(truth, "number", atom.pos),
                                      literal.pos))
        elif isinstance(literal, ast.Disjunction):
            out.append(ast.Disjunction(tuple(builtin_literals(alt, relations)
                                             for alt in literal.alternatives), literal.pos))
        else:
            out.append(literal)
    return tuple(out)
