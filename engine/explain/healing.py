"""The first time a body that can heal had an answer: witnesses asked at their own facts' times."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from engine.errors import TempologError
from engine.explain.terms import ground_body
from engine.explain.unfold import Derivation, event_patterns
from engine.lang import ast, pretty

# A body with negation or aggregates can be true, then false, then true again, so neither a
# bisection nor its derivations' times give its first answer. Its loosened derivations do
# say which answers it can have and from when: every answer as of T agrees, on the columns a
# derivation binds, with a row of that derivation true as of T. Such a projection (a witness)
# first holds at its derivation rows' first time, and can hold again only when a fact it can
# read arrives (`event_patterns` of the body with the witness's values put in: one client's
# position changes, say, not the whole log's). The body's first answer is at one of those
# times: the search sweeps them in time order, in doubling windows, asking the body as of
# each until it holds. Exact, and no question per tick of history.

WINDOW = 256  # ticks of the first window; each next one is twice as wide


def first_by_witnesses(engine, body: Sequence[ast.Literal], derivations: Sequence[Derivation],
                       holds: Callable[[int], bool], *, columns: Sequence[str],
                       span: range, upto: int | None) -> int | None:
    """The earliest time in `span` at which `holds` (the body, covered by `derivations`, has
    an answer); None if it has none there."""
    firsts = [first for d in derivations if (first := _first(engine, d, upto)) is not None]
    if not firsts:
        return None
    low, width = max(min(firsts), span.start), WINDOW
    starts: dict[tuple, int] = {}  # witness (column, value) pairs -> its first time
    patterns: dict[tuple, list[ast.Atom]] = {}
    while low < span.stop:
        high = min(low + width, span.stop)  # the window [low, high)
        for derivation in derivations:
            _add_witnesses(engine, derivation, columns, high, upto, starts)
        for key in starts:
            if key not in patterns:
                patterns[key] = _most_general(
                    event_patterns(engine.program, ground_body(body, dict(key))))
        active = [(start, key) for key, start in starts.items() if start < high]
        candidates = {max(start, low) for start, _ in active if start >= low or low == span.start}
        candidates |= _pattern_times(engine, active, patterns, range(low, high), upto)
        for time in sorted(candidates):
            if time >= span.start and holds(time):
                return time
        low, width = high, width * 2
    return None


def _first(engine, derivation: Derivation, upto) -> int | None:
    if not derivation.times:
        raise Timeless("a derivation reads no event: its witnesses have no first time")
    text = pretty.body(derivation.body)
    target = derivation.times[0]
    if len(derivation.times) > 1:  # a row is true from its latest event
        target = "max(" * (len(derivation.times) - 1) + derivation.times[0] + "".join(
            f", {t})" for t in derivation.times[1:])
    rows = engine.query(f"__first = min __m : {{ {text}, __m = {target} }}", as_of=upto,
                        timeout=None).rows
    return rows[0][0] if rows else None


def _add_witnesses(engine, derivation, columns, high, upto, starts) -> None:
    """Record the derivation's projections onto `columns` true before `high`."""
    text = pretty.body(derivation.body) + "".join(f", {t} < {high}" for t in derivation.times)
    result = engine.query(text, as_of=upto, timeout=None)
    where = {name: i for i, name in enumerate(result.columns)}
    shown = [name for name in result.columns if name in set(columns)]
    times = [where[name] for name in derivation.times]
    for row in result.rows:
        key = tuple((name, row[where[name]]) for name in shown)
        time = max(row[i] for i in times)
        if time < starts.get(key, time + 1):
            starts[key] = time


def _most_general(patterns: list[ast.Atom]) -> list[ast.Atom]:
    """The patterns no other one covers (a wildcard where it has a constant, or the same)."""
    def covers(general: ast.Atom, special: ast.Atom) -> bool:
        return general.relation == special.relation and all(
            isinstance(g, ast.Wildcard) or g == s for g, s in zip(general.args, special.args))

    return [p for i, p in enumerate(patterns)
            if not any(covers(q, p) and (not covers(p, q) or j < i)
                       for j, q in enumerate(patterns) if j != i)]


def _pattern_times(engine, active, patterns, window: range, upto) -> set[int]:
    """The times in `window` of facts matching the active witnesses' patterns, each after its
    witness's first time: one query per relation and set of constant positions."""
    wanted: dict[tuple, list[tuple[tuple, int]]] = {}
    for start, key in active:
        for pattern in patterns[key]:
            time_column = engine.program.relations[pattern.relation].time_column
            where = tuple(i for i, a in enumerate(pattern.args)
                          if isinstance(a, ast.Const) and i != time_column)
            values = tuple(pattern.args[i].value for i in where)
            wanted.setdefault((pattern.relation, where), []).append((values, start))
    found: set[int] = set()
    for (name, where), uses in wanted.items():
        relation = engine.program.relations[name]
        args = ["_"] * relation.arity
        for n, i in enumerate(where):
            args[i] = f"__k{n}"
        args[relation.time_column] = "__t"
        text = (f"{name}({', '.join(args)}), __t >= {window.start}, "
                f"__t <= {window.stop - 1}")
        result = engine.query(text, as_of=upto, timeout=None)
        at = {c: i for i, c in enumerate(result.columns)}
        for row in result.rows:
            values = tuple(row[at[f"__k{n}"]] for n in range(len(where)))
            time = row[at["__t"]]
            if any(values == v and time > start for v, start in uses):
                found.add(time)
    return found


class Timeless(TempologError):
    """A derivation without events: the search falls back to the body's span of times."""
