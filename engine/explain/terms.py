"""Grounding rule bodies: variables replaced by an answer's values, printed back as query text."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from engine.lang import ast, pretty
from engine.results import Row, Value

Bindings = Mapping[str, Value]


def const(value: Value) -> ast.Const:
    if isinstance(value, str):
        return ast.Const(value, "symbol")
    if isinstance(value, float):
        return ast.Const(value, "float")
    return ast.Const(value, "number")


def value_text(value: Value) -> str:
    return pretty.term(const(value))


def fact_text(relation: str, values: Sequence[Value]) -> str:
    return f"{relation}({', '.join(value_text(v) for v in values)})"


def ground_term(term: ast.Term, bindings: Bindings) -> ast.Term:
    if isinstance(term, ast.Var):
        if term.name not in bindings:
            return term
        value = bindings[term.name]  # a value, or a term put in the variable's place
        return value if isinstance(value, ast.Aggregate | ast.BinOp | ast.Var) else const(value)
    if isinstance(term, ast.BinOp):
        return ast.BinOp(term.op, ground_term(term.left, bindings),
                         ground_term(term.right, bindings), term.pos)
    if isinstance(term, ast.Negate):
        return ast.Negate(ground_term(term.operand, bindings), term.pos)
    if isinstance(term, ast.Aggregate):
        # Inside braces only the outer (group) variables are bound; a bound name there is
        # the outer variable, as the language scopes it.
        target = None if term.target is None else ground_term(term.target, bindings)
        return ast.Aggregate(term.func, target, ground_body(term.body, bindings), term.pos)
    return term


def ground_literal(literal: ast.Literal, bindings: Bindings) -> ast.Literal:
    if isinstance(literal, ast.Atom):
        return ast.Atom(literal.relation, tuple(ground_term(a, bindings) for a in literal.args),
                        literal.pos)
    if isinstance(literal, ast.Negation):
        return ast.Negation(ground_literal(literal.atom, bindings), literal.pos)
    if isinstance(literal, ast.AsOf):
        return ast.AsOf(ground_literal(literal.atom, bindings),
                        ground_term(literal.time, bindings), literal.negated, literal.pos)
    return ast.Comparison(literal.op, ground_term(literal.left, bindings),
                          ground_term(literal.right, bindings), literal.pos)


def ground_body(body: Sequence[ast.Literal], bindings: Bindings) -> tuple[ast.Literal, ...]:
    return tuple(ground_literal(literal, bindings) for literal in body)


def body_text(body: Sequence[ast.Literal]) -> str:
    return pretty.body(tuple(body))


def atom_values(atom: ast.Atom) -> Row | None:
    """The values of a ground atom; None if an argument is still a variable or wildcard."""
    values = []
    for arg in atom.args:
        if not isinstance(arg, ast.Const):
            return None
        values.append(arg.value)
    return tuple(values)


def unify_head(head: ast.Atom, values: Sequence[Value | None]) -> dict[str, Value] | None:
    """Bindings that make `head` equal the values (None: any value); None if none can."""
    bindings: dict[str, Value] = {}
    for arg, value in zip(head.args, values):
        if value is None:
            continue
        if isinstance(arg, ast.Const):
            if arg.value != value:
                return None
        elif isinstance(arg, ast.Var):
            if arg.name in bindings and bindings[arg.name] != value:
                return None
            bindings[arg.name] = value
    return bindings


def local_vars(aggregate: ast.Aggregate, outer: set[str]) -> list[str]:
    """The aggregate's own variables: those of its body not bound outside it."""
    names = [v.name for literal in aggregate.body for v in ast.literal_vars(literal)]
    return [n for n in dict.fromkeys(names) if n not in outer]


def rule_source(rule: ast.Rule | ast.Invariant, files: Sequence[ast.RuleFile]) -> str:
    """The clause as its author wrote it (whitespace collapsed), else as printed back."""
    for rule_file in files:
        if rule_file.path == rule.pos.path and rule_file.source and rule.pos.line:
            text = _clause_at(rule_file.source, rule.pos.line, rule.pos.column)
            if text:
                return text
    return pretty.item(rule)


def _clause_at(source: str, line: int, column: int) -> str:
    lines = source.splitlines(keepends=True)
    if line > len(lines):
        return ""
    start = sum(len(text) for text in lines[:line - 1]) + max(column - 1, 0)
    i, quoted = start + 1, False  # past a directive's own dot (`.never`)
    while i < len(source):
        char = source[i]
        if quoted:
            if char == "\\":
                i += 1
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif source.startswith("//", i):
            end = source.find("\n", i)
            source = source[:i] + " " * ((end if end >= 0 else len(source)) - i) + \
                (source[end:] if end >= 0 else "")
            continue
        elif char == "." and not source[i + 1:i + 2].isdigit():
            return " ".join(source[start:i + 1].split())
        i += 1
    return ""
