"""Counts, sums and means over one derived atom, kept per group and moved by its delta."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from engine.analysis.program import Program
from engine.backends.swipl.clause import const_text
from engine.backends.swipl.prolog_text import atom as _atom
from engine.backends.swipl.prolog_text import call as _call
from engine.builtins import COMPARISONS
from engine.lang import ast

# order_book's `rank = 1 + count : { ahead(o, _) }`, re-derived key by key, counted each
# ahead(o, _) again: a new order at the front of its side changes the rank of every order
# behind it, and recounting each of those N keys is N^2 work a tick. avg_fill_rate's mean
# over every order's fill rate, and realized_pnl_today's sum over a client's realized
# changes since the open, read groups that only grow with history, to move them by a tuple.
#
# So a count, sum or mean over one atom of a derived relation, grouped by bound variables
# and filtered by comparisons of its columns with them, is kept per group and moved by
# what the relation gained and lost in the step (its 'dn:'/'dr:', exact set differences):
# - the groups are a trie, k(Keys…) -> v(Count, Sum), updated in place (a retract and an
#   assert per move left a clause to collect each time; SWI-Prolog's clause GC then
#   stalled the step);
# - Sum is exact, as runtime.pl's tl_sum_add keeps a fresh one: an integer, or
#   r(Rational) once a float is in it;
# - a group not stored is aggregated when first asked, and kept; one emptied, or whose
#   sum cannot be taken back exactly (a symbol in it), is dropped, aggregated again when
#   next asked;
# - the store is emptied when the reader's component is evaluated from scratch, and when
#   the relation was rebuilt without its differences (a recursive one evaluated in full,
#   marked 'bu:redone').

KEPT = ("count", "sum", "mean")
# Sums and means kept as counts are (False: counts only, to measure against; bench/ticks.py
# --compare sums).
SUMS = True


@dataclass(frozen=True)
class KeptAggregate:
    """`count`, `sum v` or `mean v` of `{ relation(args), filters }` with its group keys
    bound: `lookup` the value, `apply` the step's differences, `clear` the store."""

    owner: str  # the relation whose rules read the aggregate
    name: str  # e.g. "order_book:ahead(K0,_)": the store is 'cnt:order_book:ahead(K0,_)'
    func: str  # one of KEPT
    relation: str
    keys: tuple[str, ...]  # the group keys, user variable names, in the store's order
    args: tuple[str, ...]  # the atom's arguments: K<i> for the i-th key, L<j>, constants, _
    target: str = "0"  # the aggregated value: an argument's text (count: none)
    floats: bool = False  # the target's column holds floats: its sum is r(Rational)
    filters: tuple[str, ...] = ()  # comparisons of the atom's L<j> with keys and constants

    @property
    def store(self) -> str:
        """The dynamic predicate holding the groups' trie (`'cnt:…'(Trie)`)."""
        return _atom(f"cnt:{self.name}")

    @property
    def lookup(self) -> str:
        return _atom(f"bcnt:{self.name}")

    def _key(self) -> str:
        keys = [f"K{i}" for i in range(len(self.keys))]
        return f"k({', '.join(keys)})" if keys else "k"

    def _read(self, kind: str) -> str:
        return ", ".join([_call(kind, self.relation, list(self.args)), *self.filters])

    def clauses(self) -> dict[str, list[str]]:
        """The lookup: the stored group, else the group aggregated and stored."""
        keys = [f"K{i}" for i in range(len(self.keys))]
        if self.func == "count":
            fresh = f"aggregate_all(count, ( {self._read('m')} ), N), S = 0"
        else:
            fresh = (f"findall({self.target}, ( {self._read('m')} ), Values),\n"
                     f"        length(Values, N), foldl(tl_sum_add, Values, 0, S)")
        value = {"count": "R = N", "sum": "tl_sum_value(S, R)",
                 "mean": "N > 0, tl_mean_of(S, N, R)"}[self.func]
        return {self.lookup: [
            f"{self.lookup}({', '.join(keys + ['R'])}) :-\n"
            f"    tl_kept_trie({self.store}, T),\n"
            f"    (   trie_lookup(T, {self._key()}, v(N0, S0))\n    ->  N = N0, S = S0\n"
            f"    ;   {fresh},\n"
            f"        ( N > 0 -> trie_insert(T, {self._key()}, v(N, S)) ; true )\n"
            f"    ),\n    {value}."]}

    def apply(self, redone: str) -> str:
        """A goal moving every stored group by the step's differences of the relation (or
        emptying the store, when `redone`(relation): it was rebuilt without them)."""
        # A group's key is given by the delta's tuple, or (a key only in the filters, as
        # realized_pnl_today's open) found among the stored groups.
        stored = "trie_lookup" if all(f"K{i}" in self.args for i in range(len(self.keys))) \
            else "trie_gen"
        floats = "true" if self.floats else "false"
        moved = [f"findall({self._key()}-{self.target}, "
                 f"( {_call(delta, self.relation, list(self.args))}, "
                 f"{stored}(T, {self._key()}, _)" + "".join(f", {f}" for f in self.filters)
                 + f" ), {name}),\n        forall(member(M, {name}), {step})"
                 for delta, name, step in (
                     ("dn", "Gained", "tl_kept_add(T, M)"),
                     ("dr", "Lost", f"tl_kept_sub(T, {floats}, M)"))]
        return (f"(   {redone}({_atom(self.relation)})\n    ->  {self.clear()}\n"
                f"    ;   {self.store}(T)\n    ->  {moved[0]},\n        {moved[1]}\n"
                f"    ;   true\n    )")

    def clear(self) -> str:
        return f"retractall({self.store}(_))"


def kept_shape(program: Program, kinds: Mapping[str, str], aggregate: ast.Aggregate,
               bound: set[str]) -> dict | None:
    """KeptAggregate's fields but owner and name when `aggregate` is a count, sum or mean
    over one atom of a derived relation whose arguments are bound variables (the group
    keys), constants, wildcards or variables of its own, each once, and whose other
    literals compare one of its own variables with a key or a constant; None otherwise
    (it is computed as before)."""
    if aggregate.func not in KEPT or not aggregate.body or (
            aggregate.func != "count" and not SUMS):
        return None
    atom, *rest = aggregate.body
    if not isinstance(atom, ast.Atom) or kinds.get(atom.relation) != "tabled":
        return None
    types = program.relations[atom.relation].types
    keys: list[str] = []
    own: dict[str, str] = {}  # an aggregate's own variable -> L<j>
    args: list[str] = []
    for arg, type_ in zip(atom.args, types):
        if isinstance(arg, ast.Wildcard):
            args.append("_")
        elif isinstance(arg, ast.Const):
            args.append(const_text(arg, type_))
        elif isinstance(arg, ast.Var) and arg.name in bound:
            if type_ == "float":
                return None  # a float key: 1 and 1.0 are one group to a comparison
            if arg.name not in keys:
                keys.append(arg.name)
            args.append(f"K{keys.index(arg.name)}")
        elif isinstance(arg, ast.Var) and arg.name not in own:
            own[arg.name] = f"L{len(own)}"
            args.append(own[arg.name])
        else:
            return None  # a variable of its own twice: a join within the atom
    filters = []
    for literal in rest:
        if not isinstance(literal, ast.Comparison) or literal.op == "=":
            return None
        sides = []
        for side in (literal.left, literal.right):
            if isinstance(side, ast.Const):
                sides.append(const_text(side))
            elif isinstance(side, ast.Var) and side.name in own:
                sides.append(own[side.name])
            elif isinstance(side, ast.Var) and side.name in bound:
                if side.name not in keys:
                    keys.append(side.name)
                sides.append(f"K{keys.index(side.name)}")
            else:
                return None
        filters.append(f"{COMPARISONS[literal.op].prolog_goal}({sides[0]}, {sides[1]})")
    shape = {"func": aggregate.func, "relation": atom.relation, "keys": tuple(keys),
             "args": tuple(args), "filters": tuple(filters)}
    if aggregate.func != "count":
        target = aggregate.target
        if not isinstance(target, ast.Var) or target.name not in own:
            return None
        shape["target"] = own[target.name]
        shape["floats"] = types[args.index(shape["target"])] == "float"
    return shape
