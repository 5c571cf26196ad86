"""Counts over one derived atom, kept per group and moved by the atom's delta, not recounted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from engine.analysis.program import Program
from engine.backends.swipl.clause import const_text
from engine.backends.swipl.prolog_text import atom as _atom
from engine.backends.swipl.prolog_text import call as _call
from engine.lang import ast

# order_book's `rank = 1 + count : { ahead(o, _) }`, re-derived key by key, counted each
# ahead(o, _) again: a new order at the front of its side changes the rank of every order
# behind it, and recounting each of those N keys is N^2 work a tick. A count over one
# atom of a derived relation, grouped by bound variables, is instead stored per group
# ('cnt:…'(Keys…, N)) and moved by what the relation gained and lost in the step (its
# 'dn:'/'dr:', exact set differences): +1 and -1 a tuple. A group not stored is counted
# once, when first asked, and kept; a count falling to 0 is dropped (counting it again
# finds nothing). The store is emptied when the reader's component is evaluated from
# scratch, and when the counted relation was rebuilt without its differences (a recursive
# one evaluated in full, marked 'bu:redone').


@dataclass(frozen=True)
class CountedAggregate:
    """`count : { relation(args) }` with its group keys bound: `lookup` the count, `apply`
    the step's differences, `clear` the store."""

    owner: str  # the relation whose rules read the count
    name: str  # e.g. "order_book:ahead(K0,_)": the store is 'cnt:order_book:ahead(K0,_)'
    relation: str
    keys: tuple[str, ...]  # the group keys, user variable names, in the store's order
    args: tuple[str, ...]  # the atom's arguments: K<i> for the i-th key, constants, _

    @property
    def store(self) -> str:
        return _atom(f"cnt:{self.name}")

    @property
    def lookup(self) -> str:
        return _atom(f"bcnt:{self.name}")

    def _keys(self) -> list[str]:
        return [f"K{i}" for i in range(len(self.keys))]

    def clauses(self) -> dict[str, list[str]]:
        """The lookup: the stored count, else the group counted and stored."""
        keys = self._keys()
        stored = f"{self.store}({', '.join(keys + ['N0'])})"
        return {self.lookup: [
            f"{self.lookup}({', '.join(keys + ['N'])}) :-\n"
            f"    (   {stored}\n    ->  N = N0\n"
            f"    ;   aggregate_all(count, {_call('m', self.relation, list(self.args))}, N),\n"
            f"        ( N > 0 -> assertz({self.store}({', '.join(keys + ['N'])})) ; true )\n"
            f"    )."]}

    def apply(self, redone: str) -> str:
        """A goal moving every stored count by the step's differences of the relation (or
        emptying the store, when `redone`(relation): it was rebuilt without them)."""
        keys = self._keys()
        stored = f"{self.store}({', '.join(keys + ['N0'])})"
        moved = [f"forall({_call(delta, self.relation, list(self.args))},\n"
                 f"               (   retract({stored})\n"
                 f"               ->  N is N0 {sign} 1,\n"
                 f"                   ( N =:= 0 -> true ; assertz("
                 f"{self.store}({', '.join(keys + ['N'])})) )\n"
                 f"               ;   true\n               ))"
                 for delta, sign in (("dn", "+"), ("dr", "-"))]
        return (f"(   {redone}({_atom(self.relation)})\n    ->  {self.clear()}\n"
                f"    ;   {moved[0]},\n        {moved[1]}\n    )")

    def clear(self) -> str:
        return f"retractall({self.store}({', '.join(['_'] * (len(self.keys) + 1))}))"


def counted_shape(program: Program, kinds: Mapping[str, str], aggregate: ast.Aggregate,
                  bound: set[str]) -> tuple[str, tuple[str, ...], tuple[str, ...]] | None:
    """(relation, group keys, atom arguments) when `aggregate` is a count over one atom of
    a derived relation whose arguments are bound variables (the group keys),
    constants or wildcards; None otherwise (it is computed as before)."""
    if aggregate.func != "count" or len(aggregate.body) != 1:
        return None
    (atom,) = aggregate.body
    if not isinstance(atom, ast.Atom) or kinds.get(atom.relation) != "tabled":
        return None
    types = program.relations[atom.relation].types
    keys: list[str] = []
    args: list[str] = []
    for arg, type_ in zip(atom.args, types):
        if isinstance(arg, ast.Wildcard):
            args.append("_")
        elif isinstance(arg, ast.Const):
            args.append(const_text(arg, type_))
        elif isinstance(arg, ast.Var) and arg.name in bound and type_ != "float":
            if arg.name not in keys:
                keys.append(arg.name)
            args.append(f"K{keys.index(arg.name)}")
        else:
            return None  # a variable of the aggregate's own, or a float key (1 vs 1.0)
    return atom.relation, tuple(keys), tuple(args)
