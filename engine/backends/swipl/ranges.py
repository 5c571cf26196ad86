"""Integer ranges: a column the rest of a body bounds is read value by value (event times too)."""

from __future__ import annotations

from collections.abc import Sequence, Set

from engine.analysis.program import INTEGER_TYPES
from engine.backends.swipl.prolog_text import call as _call
from engine.backends.swipl.prolog_text import conj as _conj
from engine.lang import ast

# SWI-Prolog indexes a dynamic predicate on equal values only: `checked_at(c, t), u <= t,
# t < u + window` reads every t of c, then tests it, a cost that grows with history. When the
# bounds are known before the atom is read and the range is short, enumerating its integers
# and looking each up (an index on t) reads only what is in it. Whether the range is short
# enough is decided at run time, against a limit the planner's statistics give: the rows
# the atom would scan without t, over COST_PER_VALUE, the scan rows one lookup of a value
# costs (a lookup that finds nothing is a hash probe, a scanned row a unification and a test).
READ_RANGES = True  # off: every range is scanned (bench/ticks.py --compare)
COST_PER_VALUE = 4
MIN_LIMIT = 8  # below it the scan is as cheap as the lookups: read as written

_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}


def range_goals(clause, atom: ast.Atom, rest: Sequence[ast.Literal], scope,
                bound: Set[str]) -> list[str]:
    """For a ClauseCompiler about to read `atom`: a goal giving one integer column its values
    one by one when comparisons in `rest` bound it from both sides (a column of event times
    from below: the latest stored bounds it above) and the range is short beside the scan.
    Only with the planner's statistics of the relation (`clause.stats`)."""
    stats = clause.stats
    if not READ_RANGES or stats is None or atom.relation not in stats.rows:
        return []
    context = clause.program
    relation = context.program.relations[atom.relation]
    event = context.kinds.get(atom.relation) == "event"
    timed = getattr(context, "time_columns", {}).get(atom.relation, ())
    for column, (arg, type_) in enumerate(zip(atom.args, relation.types)):
        if not isinstance(arg, ast.Var) or arg.name in bound or type_ not in INTEGER_TYPES:
            continue
        lo, hi = bounds(arg.name, rest, bound)
        latest = hi is None and column in timed
        if lo is None or (hi is None and not latest):
            continue
        limit = int(stats.estimate(atom, bound) / COST_PER_VALUE)
        if limit < MIN_LIMIT:
            return []
        goals, low = clause.value(lo, scope, bound)
        if latest:  # an event's own latest time, or the latest of them all
            high = clause.temp()
            goals.append(_call("mx", atom.relation, [high, "_", "_"]) if event
                         else f"'tl:latest'({high})")
        else:
            more, high = clause.value(hi, scope, bound)
            goals += more
        goals += [f"integer({low})", f"integer({high})"]
        return [enumerated(goals, low, high, scope[arg.name], limit)]
    return []


def enumerated(goals: list[str], low: str, high: str, var: str, limit: int) -> str:
    """`var` bound to each integer from `low` to `high` when `goals` succeed and the range is
    under `limit` values; else left free, for the atom after it to scan."""
    test = _conj(goals + [f"{high} - {low} < {limit}"])
    return f"( {test} -> between({low}, {high}, {var}) ; true )"


def bounds(var: str, literals: Sequence[ast.Literal], bound: Set[str]
           ) -> tuple[ast.Term | None, ast.Term | None]:
    """(lo, hi): terms of variables in `bound` with lo <= var <= hi implied by comparisons
    among `literals` (inclusive, perhaps loose: the comparisons still run afterwards)."""
    lo = hi = None
    for literal in literals:
        if not isinstance(literal, ast.Comparison) or literal.op not in _FLIPPED:
            continue
        found = _isolated(var, literal.op, literal.left, literal.right) or _isolated(
            var, _FLIPPED[literal.op], literal.right, literal.left)
        if found is None:
            continue
        op, other = found
        if ast.aggregates_in(other) or not all(v.name in bound for v in ast.term_vars(other)):
            continue
        if op in (">", ">=") and lo is None:
            lo = other
        elif op in ("<", "<=") and hi is None:
            hi = other
    return lo, hi


def _isolated(var: str, op: str, side: ast.Term, other: ast.Term):
    """`var op other'` from `side op other` where side is var, var + e or var - e."""
    if isinstance(side, ast.Var) and side.name == var:
        return op, other
    if not isinstance(side, ast.BinOp) or side.op not in ("+", "-"):
        return None
    left, right = side.left, side.right
    if isinstance(left, ast.Var) and left.name == var and not _mentions(right, var):
        undo = "-" if side.op == "+" else "+"
        return op, ast.BinOp(undo, other, right, side.pos)
    if side.op == "+" and isinstance(right, ast.Var) and right.name == var \
            and not _mentions(left, var):
        return op, ast.BinOp("-", other, left, side.pos)
    return None


def _mentions(term: ast.Term, var: str) -> bool:
    return any(v.name == var for v in ast.term_vars(term))


def time_columns(program, kinds) -> dict[str, frozenset[int]]:
    """Per relation, its columns that hold only times of stored events: an event's time
    column, and a derived relation's column that every rule fills with a variable an atom
    binds at such a column (the greatest set that closes). Facts given to a derived
    relation can hold any value: the latest time (`'tl:latest'`) counts them too."""
    relations = program.relations
    found = {name: frozenset({relations[name].time_column}) for name, kind in kinds.items()
             if kind == "event"}
    derived = [name for name, kind in kinds.items() if kind in ("view", "tabled")]
    for name in derived:
        found[name] = frozenset(i for i, type_ in enumerate(relations[name].types)
                                if type_ == "time")
    changed = True
    while changed:
        changed = False
        for name in derived:
            keep = frozenset(i for i in found[name] if all(
                _carries(rule, i, found) for rule in program.rules_for(name)
                if not (rule.is_fact and all(isinstance(a, ast.Const) for a in rule.head.args))))
            if keep != found[name]:
                found[name], changed = keep, True
    return {name: columns for name, columns in found.items() if columns}


def _carries(rule: ast.Rule, column: int, found) -> bool:
    arg = rule.head.args[column]
    return isinstance(arg, ast.Var) and any(
        isinstance(literal, ast.Atom) and any(
            isinstance(a, ast.Var) and a.name == arg.name and i in found.get(literal.relation, ())
            for i, a in enumerate(literal.args))
        for literal in rule.body)


def latest_clause(kinds, relations, columns: dict[str, frozenset[int]], given: set[str]) -> str:
    """`'tl:latest'(M)`: the latest time any column of `columns` can hold, the latest event
    time stored or a value given as a fact to a relation of `given` (its 'b:' or, for a view,
    its 'gv:' facts); fails while there is none."""
    reads = []
    for name, kind in sorted(kinds.items()):
        arity = relations[name].arity
        if kind == "event":
            reads.append(f"{_call('mx', name, ['L', '_', '_'])}")
        elif name in columns and name in given:
            for column in sorted(columns[name]):
                args = ["L" if i == column else "_" for i in range(arity)]
                reads.append(_call("b" if kind == "tabled" else "gv", name, args))
    return f"'tl:latest'(M) :- findall(L, ( {' ; '.join(reads) or 'fail'} ), Ls), max_list(Ls, M)."
