"""Rule bodies as the parser meets them: conjunctions, `;` and parentheses, resolved to literals."""

from __future__ import annotations

from engine.lang import ast


class SyntaxProblem(Exception):
    """A mistake found while building the AST (the grammar accepted the tokens)."""

    def __init__(self, line: int, column: int, message: str, hint: str):
        self.line, self.column, self.message, self.hint = line, column, message, hint


class Body:
    """A body as parsed: conjunctions (tuples of literals, groups and bare terms) that `;`
    separates. Whether a parenthesised body is literals or an expression shows only where
    it stands, so bare terms are resolved by `literals` once that is known."""

    def __init__(self, conjunctions):
        self.conjunctions = conjunctions


class Bare:
    """A term standing where a literal goes: an atom if it is `name(args)`."""

    def __init__(self, term):
        self.term = term


class Group:
    """Parenthesised literals, spliced into the conjunction they stand in."""

    def __init__(self, literals):
        self.literals = literals


def literals(body: Body) -> tuple[ast.Literal, ...]:
    """The literals of a body: one Disjunction literal if `;` separates alternatives."""
    alternatives = tuple(conjunction(conj) for conj in body.conjunctions)
    if len(alternatives) == 1:
        return alternatives[0]
    return (ast.Disjunction(alternatives, first_pos(alternatives)),)


def conjunction(items) -> tuple[ast.Literal, ...]:
    found: list[ast.Literal] = []
    for item in items:
        if isinstance(item, Group):
            found.extend(item.literals)
        elif isinstance(item, Bare):
            found.append(atom_of(item.term))
        else:
            found.append(item)
    return tuple(found)


def atom_of(term) -> ast.Atom:
    if isinstance(term, ast.Call):
        return ast.Atom(term.func, term.args, term.pos)
    pos = getattr(term, "pos", ast.NOWHERE)
    raise SyntaxProblem(pos.line, pos.column, "a term alone is not a literal",
                        "write an atom like `p(x)`, a negation `!p(x)` or a comparison "
                        "like `x < 3`")


def as_term(value):
    """A term where an expression stands; parenthesised literals cannot."""
    if isinstance(value, Group):
        first = value.literals[0] if value.literals else None
        pos = getattr(first, "pos", ast.NOWHERE)
        raise SyntaxProblem(pos.line, pos.column,
                            "literals in parentheses cannot stand in an expression",
                            "parenthesise only an expression here, like `(x + 1) * 2`")
    return value


def first_pos(alternatives) -> ast.Pos:
    for alternative in alternatives:
        for literal in alternative:
            return literal.pos
    return ast.NOWHERE
