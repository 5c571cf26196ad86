"""Prints an AST back as .dl text that parses to the same AST."""

from __future__ import annotations

from engine.lang import ast

# Binding strength of each operator; a child binding weaker than its parent gets parentheses.
PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "%": 2}
UNARY = 3
ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}


def quote(text: str) -> str:
    """A double-quoted string literal for any text (control characters as \\uXXXX)."""
    out = []
    for char in text:
        if char in ESCAPES:
            out.append(ESCAPES[char])
        elif ord(char) < 0x20 or 0xD800 <= ord(char) <= 0xDFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def term(node: ast.Term, strength: int = 0) -> str:
    if isinstance(node, ast.Var):
        return node.name
    if isinstance(node, ast.Wildcard):
        return "_"
    if isinstance(node, ast.Const):
        if node.type == "symbol":
            return quote(node.value)
        text = repr(node.value) if node.type == "float" else str(node.value)
        return f"({text})" if node.value < 0 and strength > 0 else text
    if isinstance(node, ast.Negate):
        return "-" + term(node.operand, UNARY)
    if isinstance(node, ast.BinOp):
        mine = PRECEDENCE[node.op]
        # Left associative: the right child needs parentheses even at equal strength.
        text = f"{term(node.left, mine)} {node.op} {term(node.right, mine + 1)}"
        return f"({text})" if mine < strength else text
    if isinstance(node, ast.Call):
        return f"{node.func}({', '.join(term(a) for a in node.args)})"
    if isinstance(node, ast.Aggregate):
        target = f" {term(node.target)}" if node.target is not None else ""
        text = f"{node.func}{target} : {{ {body(node.body)} }}"
        return f"({text})" if strength > 0 else text
    raise TypeError(f"not a term: {node!r}")


def atom(node: ast.Atom) -> str:
    return f"{node.relation}({', '.join(term(a) for a in node.args)})"


def literal(node: ast.Literal) -> str:
    if isinstance(node, ast.Atom):
        return atom(node)
    if isinstance(node, ast.Negation):
        return "!" + atom(node.atom)
    if isinstance(node, ast.AsOf):
        return f"{'!' * node.negated}{atom(node.atom)} @ {term(node.time)}"
    if isinstance(node, ast.Disjunction):
        return "(" + " ; ".join(body(alt) for alt in node.alternatives) + ")"
    return f"{term(node.left)} {node.op} {term(node.right)}"


def body(literals: tuple[ast.Literal, ...]) -> str:
    return ", ".join(literal(lit) for lit in literals)


def item(node: ast.Item) -> str:
    if isinstance(node, ast.Declaration):
        keyword = ".event" if node.is_event else ".decl"
        fields = ", ".join(f"{f.name}: {f.type}" for f in node.fields)
        return f"{keyword} {node.relation}({fields})"
    if isinstance(node, ast.Rule):
        if node.is_fact:
            return atom(node.head) + "."
        return f"{atom(node.head)} :- {body(node.body)}."
    if isinstance(node, ast.Invariant):
        return f".never {node.name}: {body(node.body)}."
    if isinstance(node, ast.Include):
        return f".include {quote(node.path)}"
    if isinstance(node, ast.Directive):
        return f".{node.kind} {', '.join(node.relations)}"
    raise TypeError(f"not an item: {node!r}")


def pretty(rule_file: ast.RuleFile) -> str:
    return "".join(item(node) + "\n" for node in rule_file.items)
