"""The syntax tree of a .dl file: frozen dataclasses that keep their source position."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple


class Pos(NamedTuple):
    """Where a node starts; a NamedTuple because the parser makes hundreds of thousands."""

    path: str = "<input>"
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


NOWHERE = Pos()


def _pos() -> Pos:
    # Positions never take part in equality: two trees are equal when their text is.
    return field(default=NOWHERE, compare=False, repr=False)


# ---- terms ---------------------------------------------------------------

@dataclass(frozen=True)
class Var:
    name: str
    pos: Pos = _pos()


@dataclass(frozen=True)
class Wildcard:
    pos: Pos = _pos()


@dataclass(frozen=True)
class Const:
    """A constant; `type` is `symbol` (str), `number` (int) or `float` (float)."""

    value: str | int | float
    type: str
    pos: Pos = _pos()


@dataclass(frozen=True)
class BinOp:
    op: str  # one of + - * / %
    left: Term
    right: Term
    pos: Pos = _pos()


@dataclass(frozen=True)
class Negate:
    operand: Term
    pos: Pos = _pos()


@dataclass(frozen=True)
class Aggregate:
    """`count : {body}`, `sum x : {body}`, `min`, `max`, `mean`: a term of a body."""

    func: str
    target: Term | None
    body: tuple[Literal, ...]
    pos: Pos = _pos()


@dataclass(frozen=True)
class Call:
    """A function applied to terms: `abs(x)`, `cat(a, b)` (engine/builtins.py lists them)."""

    func: str
    args: tuple[Term, ...]
    pos: Pos = _pos()


Term = Var | Wildcard | Const | BinOp | Negate | Aggregate | Call


# ---- literals ------------------------------------------------------------

@dataclass(frozen=True)
class Atom:
    relation: str
    args: tuple[Term, ...]
    pos: Pos = _pos()


@dataclass(frozen=True)
class Negation:
    atom: Atom
    pos: Pos = _pos()


@dataclass(frozen=True)
class Comparison:
    op: str  # one of = != < <= > >=
    left: Term
    right: Term
    pos: Pos = _pos()


@dataclass(frozen=True)
class AsOf:
    """`p(x) @ t` (or `!p(x) @ t`): the atom read as of time `t` (a variable or an integer),
    over the facts with time <= t; never past the query's own as-of time."""

    atom: Atom
    time: Term
    negated: bool = False
    pos: Pos = _pos()


@dataclass(frozen=True)
class Disjunction:
    """`(a ; b, c)`: alternatives of a rule body; analysis splits its rule into one per
    alternative, so no later stage sees one."""

    alternatives: tuple[tuple[Literal, ...], ...]
    pos: Pos = _pos()


Literal = Atom | Negation | AsOf | Comparison | Disjunction


# ---- items of a file -----------------------------------------------------

@dataclass(frozen=True)
class Field:
    name: str
    type: str
    pos: Pos = _pos()


@dataclass(frozen=True)
class Declaration:
    """`.decl` (is_event False) or `.event` (is_event True)."""

    relation: str
    fields: tuple[Field, ...]
    is_event: bool = False
    pos: Pos = _pos()


@dataclass(frozen=True)
class Rule:
    """`head :- body.`; a fact is a rule with an empty body."""

    head: Atom
    body: tuple[Literal, ...] = ()
    pos: Pos = _pos()

    @property
    def is_fact(self) -> bool:
        return not self.body


@dataclass(frozen=True)
class Invariant:
    """`.never name: body.` — a query that must have no answers."""

    name: str
    body: tuple[Literal, ...]
    pos: Pos = _pos()


@dataclass(frozen=True)
class Include:
    path: str
    pos: Pos = _pos()


@dataclass(frozen=True)
class Directive:
    """Soufflé's `.input r` / `.output r`: kept so Soufflé files parse unchanged."""

    kind: str
    relations: tuple[str, ...]
    pos: Pos = _pos()


Item = Declaration | Rule | Invariant | Include | Directive


@dataclass(frozen=True)
class RuleFile:
    path: str
    items: tuple[Item, ...]
    source: str = field(default="", compare=False, repr=False)

    def of_type(self, kind: type) -> list:
        return [item for item in self.items if isinstance(item, kind)]


# ---- walking -------------------------------------------------------------

Node = object  # any of the dataclasses above, or a tuple of them


def children(node: Node) -> tuple:
    """A node's direct sub-nodes, in source order."""
    if isinstance(node, tuple | list):
        return tuple(node)
    if isinstance(node, Atom):
        return node.args
    if isinstance(node, Negation):
        return (node.atom,)
    if isinstance(node, AsOf):
        return (node.atom, node.time)
    if isinstance(node, Comparison | BinOp):
        return (node.left, node.right)
    if isinstance(node, Negate):
        return (node.operand,)
    if isinstance(node, Call):
        return node.args
    if isinstance(node, Disjunction):
        return tuple(literal for body in node.alternatives for literal in body)
    if isinstance(node, Aggregate):
        return ((node.target,) if node.target is not None else ()) + node.body
    if isinstance(node, Rule):
        return (node.head, *node.body)
    if isinstance(node, Invariant):
        return node.body
    return ()


def walk(node: Node, enter: Callable[[Node], bool] | None = None) -> Iterator[Node]:
    """Every node under `node`, itself first, depth first in source order; the children of
    a node for which `enter` is false are skipped."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if enter is None or enter(current):
            stack.extend(reversed(children(current)))


def outside_aggregates(node: Node) -> bool:
    """For `walk`: do not enter aggregates (their variables are their own)."""
    return not isinstance(node, Aggregate)


def term_vars(term: Term) -> list[Var]:
    """Variables of a term, in order, not looking inside aggregates (their scope is local)."""
    return [n for n in walk(term, outside_aggregates) if isinstance(n, Var)]


def literal_vars(literal: Literal) -> list[Var]:
    return term_vars(literal)


def var_names(node: Node) -> list[str]:
    """Every variable name anywhere under a node, aggregates included, once each, in order."""
    return list(dict.fromkeys(n.name for n in walk(node) if isinstance(n, Var)))


def body_atoms(body: tuple[Literal, ...]) -> list[tuple[Atom, bool]]:
    """Every atom of a body with whether it is negated, aggregates' bodies included (an
    as-of literal's atom too: it reads that relation, at another time)."""
    return [(n, False) if isinstance(n, Atom) else (n.atom, not isinstance(n, AsOf)
                                                    or n.negated)
            for n in walk(body, lambda n: not isinstance(n, Atom | Negation | AsOf))
            if isinstance(n, Atom | Negation | AsOf)]


def as_of_literals(body: tuple[Literal, ...]) -> list[AsOf]:
    """The as-of literals of a body, aggregates' bodies included."""
    return [n for n in walk(body, lambda n: not isinstance(n, Atom | Negation | AsOf))
            if isinstance(n, AsOf)]


def aggregates_in(term: Term) -> list[Aggregate]:
    """The aggregates of a term, not those nested in them."""
    return [n for n in walk(term, outside_aggregates) if isinstance(n, Aggregate)]
