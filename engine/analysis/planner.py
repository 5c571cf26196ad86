"""The join planner: orders a safe body's atoms by what is bound and by relation statistics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from engine.analysis.safety import all_var_names
from engine.lang import ast
from engine.lang.pretty import atom as show_atom
from engine.lang.pretty import literal as show_literal

# An atom's cost is the number of tuples it is expected to yield per binding of what is
# already bound: rows(relation) / distinct(column) for each bound column (System R's
# independence assumption). Greedy: the cheapest atom next; ties keep the written order.
# Comparisons, negations and assignments then stand right after the atoms that bind their
# variables (safety's ordering), so every order the planner picks is a safe one.

DEFAULT_ROWS = 1000  # a relation without statistics: of middling size, every column a key
DELTA_SHARE = 0.1  # a semi-naive round's new tuples, as a share of the relation
# What an incremental step's delta holds: what arrived since the last answer, a tick's facts
# (~70 over ~30 relations: a few each), not a share of a relation that grows with history.
STEP_ROWS = 10
STEP_DELTAS = True  # False: a step's delta as a round's, to measure against (bench/ticks.py)


@dataclass(frozen=True)
class Statistics:
    """Per relation: how many tuples, and how many distinct values in each column."""

    rows: Mapping[str, int] = field(default_factory=dict)
    distinct: Mapping[str, Sequence[int]] = field(default_factory=dict)

    def estimate(self, atom: ast.Atom, bound: set[str]) -> float:
        rows = self.rows.get(atom.relation, DEFAULT_ROWS)
        distinct = self.distinct.get(atom.relation)
        cost = float(max(rows, 1))
        seen: set[str] = set()
        for i, arg in enumerate(atom.args):
            is_bound = isinstance(arg, ast.Const) or (
                isinstance(arg, ast.Var) and (arg.name in bound or arg.name in seen))
            if isinstance(arg, ast.Var):
                seen.add(arg.name)
            if is_bound:
                values = distinct[i] if distinct and i < len(distinct) else rows
                cost /= max(values, 1)
        return cost


NO_STATISTICS = Statistics()


def plan_literals(body: Sequence[ast.Literal], bound: set[str] = frozenset(),
                  stats: Statistics = NO_STATISTICS, delta: ast.Atom | None = None,
                  step: bool = False) -> tuple[ast.Literal, ...]:
    """A normalised, safe body (as analysis orders it) in the planner's order; aggregate
    bodies are planned too, with their group keys bound. `delta` reads a round's new tuples
    (`step`: those of an incremental step, STEP_ROWS).

    Every comparison, negation, assignment and aggregate keeps its role: it runs once the
    variables that had values before it in the analysed order have them again, and an atom
    never gives a value to a variable that an assignment gave it there (so `x = 1.0` stays
    an assignment, or a comparison, whatever the atoms' order)."""
    known = set(bound)
    needs: dict[int, set[str]] = {}
    assigned: set[str] = set()
    for literal in body:
        names = _names(literal)
        if not isinstance(literal, ast.Atom):
            needs[id(literal)] = names & known
            assigned |= names - known - _inner_only(literal)
        known |= names - _inner_only(literal)
    atoms = [lit for lit in body if isinstance(lit, ast.Atom)]
    waiting = [lit for lit in body if not isinstance(lit, ast.Atom)]
    known = set(bound)
    planned: list[ast.Literal] = []

    def place_ready(aggregates: bool = False) -> None:
        """Place what can run; aggregates (costly: one per binding) only when `aggregates`."""
        progress = True
        while progress:
            progress = False
            for literal in waiting:
                if needs[id(literal)] <= known and (aggregates or not _is_aggregate(literal)):
                    waiting.remove(literal)
                    planned.append(_plan_aggregate(literal, known, stats))
                    known.update(_names(literal) - _inner_only(literal))
                    progress = True
                    break

    def cost(atom: ast.Atom) -> float:
        share = 1.0
        if atom is delta:  # a round's new tuples; with `step`, what arrived since the last
            rows = stats.rows.get(atom.relation, DEFAULT_ROWS)  # answer
            share = min(DELTA_SHARE, STEP_ROWS / max(rows, 1)) if step and STEP_DELTAS \
                else DELTA_SHARE
        return stats.estimate(atom, known) * share

    place_ready()
    while atoms:
        allowed = [a for a in atoms if not (_vars(a) & assigned) - known]
        if not allowed:  # every atom left reads what an aggregate computes
            place_ready(aggregates=True)
            allowed = [a for a in atoms if not (_vars(a) & assigned) - known] or atoms
        # No cross product while an atom joins with what is bound already; the delta (what
        # arrived) is always a start, or an atom with a constant would be scanned before it.
        joined = [a for a in allowed if a is delta or _vars(a) & known
                  or any(isinstance(arg, ast.Const) for arg in a.args)]
        best = min(joined or allowed, key=lambda a: (cost(a), atoms.index(a)))
        atoms.remove(best)
        planned.append(best)
        known |= _vars(best)
        place_ready()
    place_ready(aggregates=True)  # aggregates last: after every atom that filters
    planned += waiting  # never ready: cannot happen in a safe body; kept, not lost
    return tuple(planned)


def _plan_aggregate(literal: ast.Literal, known: set[str], stats: Statistics) -> ast.Literal:
    if not (isinstance(literal, ast.Comparison) and isinstance(literal.right, ast.Aggregate)):
        return literal
    agg = literal.right
    keys = all_var_names(agg) & known  # its group keys: bound when it runs
    inner = plan_literals(agg.body, keys)  # by what is bound: a stable text per aggregate
    return ast.Comparison("=", literal.left, ast.Aggregate(agg.func, agg.target, inner, agg.pos),
                          literal.pos)


def _is_aggregate(literal: ast.Literal) -> bool:
    return isinstance(literal, ast.Comparison) and isinstance(literal.right, ast.Aggregate)


def _names(literal: ast.Literal) -> set[str]:
    return all_var_names(literal)


def _inner_only(literal: ast.Literal) -> set[str]:
    """Variables local to an aggregate of `literal` (they never hold outside it)."""
    if isinstance(literal, ast.Comparison) and isinstance(literal.right, ast.Aggregate):
        return all_var_names(literal.right) - all_var_names(literal.left)
    return set()


def _vars(atom: ast.Atom) -> set[str]:
    return {arg.name for arg in atom.args if isinstance(arg, ast.Var)}


def explain_program(program, stats: Statistics = NO_STATISTICS) -> str:
    """Every rule's body in the order the planner runs it, and for a recursive rule each
    semi-naive variant (one atom reading only a round's new tuples), as text."""
    from engine.analysis.stratify import components, dependency_edges

    rules = [rule for rule in program.rules if not rule.is_fact]
    derived = sorted({rule.head.relation for rule in rules})
    edges = [e for e in dependency_edges(rules) if e.body in set(derived)]
    component = {}
    for scc in components(derived, edges):
        for name in scc:
            component[name] = set(scc) if len(scc) > 1 or any(
                e.head == name == e.body for e in edges) else set()
    out = []
    for rule in rules:
        out.append(f"{rule.pos.path}:{rule.pos.line}: {show_atom(rule.head)}")
        out += _numbered(plan_literals(rule.body, stats=stats))
        for atom in rule.body:
            if isinstance(atom, ast.Atom) and atom.relation in component[rule.head.relation]:
                out.append(f"  new {show_atom(atom)} tuples first:")
                out += ["  " + line for line in
                        _numbered(plan_literals(rule.body, stats=stats, delta=atom))]
    return "\n".join(out)


def _numbered(body: Sequence[ast.Literal]) -> list[str]:
    return [f"  {i}. {show_literal(lit)}" for i, lit in enumerate(body, 1)]
