"""Bodies of bottom-up evaluation: derived relations read from their materialised tuples."""

from __future__ import annotations

from engine.backends.swipl.clause import ClauseCompiler
from engine.backends.swipl.prolog_text import call as _call
from engine.lang import ast

NOW = "1.0Inf"  # the AsOf of every body evaluated for "now"


def ground_fact(rule: ast.Rule) -> bool:
    return rule.is_fact and all(isinstance(a, ast.Const) for a in rule.head.args)


class MaterialisedClause(ClauseCompiler):
    """Compiles a body that reads derived relations from their materialised tuples, and
    one atom (`delta`) from a delta predicate."""

    def __init__(self, program, *, sites: bool = True, owner: str | None = None,
                 delta: tuple[ast.Atom, str] | None = None, widened: bool = False,
                 twins: bool = False):
        # aggregates read the program's prefix indexes when it keeps any (program.sites)
        super().__init__(program, sites=sites and bool(program.sites), owner=owner)
        self.delta = delta
        self.widened = widened  # derived relations read with what they lost in this step
        # The delta atom skips a gained (lost) tuple whose twin was lost (gained): one that
        # agrees on every column the atom reads. A partial fill changes book_entry's qty,
        # which ahead reads as `_`: the pairs it ranks are the same, so none is derived
        # again. Only where the atom is read for existence (not inside an aggregate, which
        # counts tuples, not projections).
        self.twins = twins
        self._reading: ast.Atom | None = None
        self.stats = getattr(program, "stats", None)

    def aggregate(self, agg: ast.Aggregate, result: str, scope, bound: set[str]) -> list[str]:
        """A count, sum or mean over one derived atom reads its group's kept value (kept.py)."""
        kept = self.program.kept_for(self.owner, agg, bound) if self.owner else None
        if kept is not None:
            return [f"{kept.lookup}({', '.join([scope[k] for k in kept.keys] + [result])})"]
        return super().aggregate(agg, result, scope, bound)

    def ranged(self, atom: ast.Atom, rest, scope, bound) -> list[str]:
        if self.delta is not None and atom is self.delta[0]:
            return []  # the delta is read whole: its few new tuples
        return super().ranged(atom, rest, scope, bound)

    def atom(self, atom: ast.Atom, scope, bound) -> list[str]:
        self._reading = atom
        try:
            return super().atom(atom, scope, bound)
        finally:
            self._reading = None

    def read(self, relation: str, args: list[str], as_of: str = "AsOf") -> list[str]:
        if as_of != "AsOf":  # `p @ t`: p as of t, from the time indexes, not from now's
            return super().read(relation, args, as_of)
        if self.delta is not None and self._reading is self.delta[0]:
            read = [_call(self.delta[1], relation, args)]
            twin = {"dn": "dr", "dr": "dn"}.get(self.delta[1])
            if self.twins and twin and "_" in args:
                read.append(f"\\+ {_call(twin, relation, args)}")
            return read
        if self.program.kinds.get(relation) == "tabled":
            if self.widened:
                return [f"( {_call('m', relation, args)} ; {_call('dr', relation, args)} )"]
            return [_call("m", relation, args)]
        return super().read(relation, args)
