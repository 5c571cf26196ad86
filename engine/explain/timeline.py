"""When answers became true: the event times a body depends on, and a bisection over them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from engine.lang import ast


def relations_read(program, body: Sequence[ast.Literal]) -> set[str]:
    """Every relation a body reads, directly or through rules."""
    todo = [atom.relation for atom, _ in ast.body_atoms(tuple(body))]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for rule in program.rules_for(name):
            todo.extend(atom.relation for atom, _ in ast.body_atoms(rule.body))
    return seen


def time_span(engine, relations: Iterable[str], *, after: int | None = None,
              upto: int | None = None) -> range:
    """The times in (after, upto] from the first to the last event fact of `relations`:
    every time at which an answer over them can change lies in it. One query per relation
    (its least and greatest time), and none when both ends are given."""
    if after is not None and upto is not None:
        return range(after + 1, upto + 1)
    lows, highs = [], []
    for name in sorted(relations):
        relation = engine.program.relations[name]
        if not relation.is_event:
            continue
        args = ["_"] * relation.arity
        args[relation.time_column] = "t"
        atom = f"{name}({', '.join(args)})"
        bounds = engine.query(f"__tl_first = min t : {{ {atom} }}, "
                              f"__tl_last = max t : {{ {atom} }}", as_of=upto, timeout=None)
        for first, last in bounds.rows:
            lows.append(first)
            highs.append(last)
    if not lows:
        return range(0)
    low = min(lows) if after is None else after + 1
    return range(low, (max(highs) if upto is None else upto) + 1)


def first_true(times: Sequence[int], holds: Callable[[int], bool]) -> int | None:
    """The earliest of `times` at which `holds` is true, given that it stays true once it
    is (for a predicate that can turn false again: a time at which it turned true). Asks
    O(log len(times)) questions. Answers change only at event times, so over a span of
    times the earliest is an event's time."""
    if not times or not holds(times[-1]):
        return None
    low, high = 0, len(times) - 1  # holds(times[high]) is known true
    while low < high:
        middle = (low + high) // 2
        if holds(times[middle]):
            high = middle
        else:
            low = middle + 1
    return times[high]
