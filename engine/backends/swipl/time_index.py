"""The time index plan: which relations and aggregates can be kept ordered by valid time."""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass

from engine.analysis.program import Program
from engine.lang import ast

# An as-of query must not replay history. Two shapes of rule are answered from indexes kept
# up to date as facts arrive (docs/architecture.md, "The time index"):
# - a timed view: every rule reads one fact of an event relation (or another timed view) and
#   otherwise only compares and computes; each tuple holds from the earliest valid time of a
#   fact producing it, so "true as of T" is one lookup;
# - a prefix aggregate: an aggregate over one timed relation, grouped by plain arguments of
#   that atom; as of T it is the group's running aggregate up to the last fact with time <= T,
#   found by binary search.


def timed_views(program: Program) -> tuple[str, ...]:
    """Derived relations that are timed views, each after the relations it reads."""
    timed = {r.name for r in program.event_relations}
    found: list[str] = []
    candidates = [name for name in program.derived_relations if name not in timed]
    changed = True
    while changed:
        changed = False
        for name in candidates:
            if name in found:
                continue
            rules = program.rules_for(name)
            if rules and all(_single_timed_atom(rule.body, timed) for rule in rules):
                found.append(name)
                timed.add(name)
                changed = True
    return tuple(found)


def _single_timed_atom(body: tuple[ast.Literal, ...], timed: Set[str]) -> ast.Atom | None:
    """The one atom of a body made of one positive timed atom and plain comparisons."""
    atoms = [lit for lit in body if isinstance(lit, ast.Atom)]
    if len(atoms) != 1 or atoms[0].relation not in timed:
        return None
    for literal in body:
        if isinstance(literal, ast.Negation | ast.AsOf):
            return None
        if isinstance(literal, ast.Comparison) and (
                ast.aggregates_in(literal.left) or ast.aggregates_in(literal.right)):
            return None
    return atoms[0]


@dataclass(frozen=True)
class PrefixShape:
    """An aggregate that a running, time-ordered index can answer."""

    atom: ast.Atom
    conditions: tuple[ast.Comparison, ...]
    keys: tuple[str, ...]  # group-key variables, in order of first appearance in `atom`
    # A time window on the event's own time u, from values bound outside: (lo, hi] as
    # terms; either may be None (unbounded). Answered as prefix(hi) - prefix(lo).
    window: tuple[ast.Term | None, ast.Term | None] = (None, None)


_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _window_bound(literal: ast.Literal, time_var: str, bound: Set[str]):
    """("lo" | "hi", term) if the comparison bounds `time_var` by values bound outside."""
    if not isinstance(literal, ast.Comparison) or literal.op not in _FLIPPED:
        return None
    op, left, right = literal.op, literal.left, literal.right
    if isinstance(right, ast.Var) and right.name == time_var:
        op, left, right = _FLIPPED[op], right, left
    if not (isinstance(left, ast.Var) and left.name == time_var):
        return None
    if not all(v.name in bound for v in ast.term_vars(right)) or ast.aggregates_in(right):
        return None
    one = ast.Const(1, "number", right.pos)
    if op == ">":
        return "lo", right
    if op == ">=":
        return "lo", ast.BinOp("-", right, one, right.pos)
    if op == "<=":
        return "hi", right
    return "hi", ast.BinOp("-", right, one, right.pos)


def prefix_shape(aggregate: ast.Aggregate, bound: Set[str], timed: Set[str],
                 time_columns: Mapping[str, int] | None = None) -> PrefixShape | None:
    """How `aggregate`, met where the variables `bound` have values, reads one timed relation
    grouped by plain arguments of that relation, perhaps within a window of its own event
    time bounded by outside values (`u > t - 100, u <= t`); None if it does not."""
    atom = _single_timed_atom(aggregate.body, timed)
    if atom is None:
        return None
    body = list(aggregate.body)
    window: dict[str, ast.Term] = {}
    column = (time_columns or {}).get(atom.relation)
    time_arg = atom.args[column] if column is not None else None
    if isinstance(time_arg, ast.Var) and time_arg.name not in bound and aggregate.func in (
            "count", "sum", "mean"):
        for literal in list(body):
            found = _window_bound(literal, time_arg.name, bound)
            if found is not None and found[0] not in window:
                window[found[0]] = found[1]
                body.remove(literal)
    plain = [arg.name for arg in atom.args if isinstance(arg, ast.Var)]
    used = {v.name for lit in body for v in ast.literal_vars(lit)}
    if aggregate.target is not None:
        used |= {v.name for v in ast.term_vars(aggregate.target)}
    keys = tuple(dict.fromkeys(name for name in plain if name in bound))
    if any(name in bound and name not in keys for name in used):
        return None  # a group key that is not a plain argument: the index cannot key on it
    conditions = tuple(lit for lit in body if isinstance(lit, ast.Comparison))
    return PrefixShape(atom, conditions, keys, (window.get("lo"), window.get("hi")))


def site_read(pq: str, keys: list[str], func: str, result: str, n: int) -> list[str]:
    """Goals reading a prefix-aggregate index; `n` keeps two reads in one clause apart."""
    count, total = f"C{n}", f"S{n}"
    if func == "count":
        return [f"{pq}({', '.join(keys + ['AsOf', result, '_', '_', '_'])})"]
    if func == "sum":
        return [f"{pq}({', '.join(keys + ['AsOf', '_', total, '_', '_'])})",
                f"tl_sum_value({total}, {result})"]
    if func in ("min", "max"):
        extreme = [result, "_"] if func == "min" else ["_", result]
        return [f"{pq}({', '.join(keys + ['AsOf', count, '_'] + extreme)})", f"{count} > 0"]
    return [f"{pq}({', '.join(keys + ['AsOf', count, total, '_', '_'])})",
            f"{count} > 0", f"tl_mean_of({total}, {count}, {result})"]
