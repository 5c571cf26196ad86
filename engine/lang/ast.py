"""The syntax tree of a .dl file: frozen dataclasses that keep their source position."""

from __future__ import annotations

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


Term = Var | Wildcard | Const | BinOp | Negate | Aggregate


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


Literal = Atom | Negation | Comparison


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

def term_vars(term: Term) -> list[Var]:
    """Variables of a term, in order, not looking inside aggregates (their scope is local)."""
    if isinstance(term, Var):
        return [term]
    if isinstance(term, BinOp):
        return term_vars(term.left) + term_vars(term.right)
    if isinstance(term, Negate):
        return term_vars(term.operand)
    return []


def literal_vars(literal: Literal) -> list[Var]:
    if isinstance(literal, Atom):
        return [v for arg in literal.args for v in term_vars(arg)]
    if isinstance(literal, Negation):
        return literal_vars(literal.atom)
    return term_vars(literal.left) + term_vars(literal.right)


def body_atoms(body: tuple[Literal, ...]) -> list[tuple[Atom, bool]]:
    """Every atom of a body with whether it is negated, aggregates' bodies included."""
    found: list[tuple[Atom, bool]] = []
    for literal in body:
        if isinstance(literal, Atom):
            found.append((literal, False))
        elif isinstance(literal, Negation):
            found.append((literal.atom, True))
        else:
            for side in (literal.left, literal.right):
                for agg in aggregates_in(side):
                    found.extend(body_atoms(agg.body))
    return found


def aggregates_in(term: Term) -> list[Aggregate]:
    if isinstance(term, Aggregate):
        return [term]
    if isinstance(term, BinOp):
        return aggregates_in(term.left) + aggregates_in(term.right)
    if isinstance(term, Negate):
        return aggregates_in(term.operand)
    return []
