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


def event_times(engine, relations: Iterable[str], *, after: int | None = None,
                upto: int | None = None) -> list[int]:
    """The distinct valid times of the engine's event facts of `relations`, in (after, upto]:
    the only times at which an answer over them can change. One query per relation."""
    times: set[int] = set()
    for name in sorted(relations):
        relation = engine.program.relations[name]
        if not relation.is_event:
            continue
        args = ["_"] * relation.arity
        args[relation.time_column] = "t"
        window = []
        if after is not None:
            window.append(f"t > {after}")
        if upto is not None:
            window.append(f"t <= {upto}")
        text = ", ".join([f"{name}({', '.join(args)})", *window])
        times.update(row[0] for row in engine.query(text, as_of=upto, timeout=None).rows)
    return sorted(times)


def first_true(times: Sequence[int], holds: Callable[[int], bool]) -> int | None:
    """The earliest of `times` at which `holds` is true, given that it stays true once it
    is (for a predicate that can turn false again: a time at which it turned true). Asks
    O(log len(times)) questions."""
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
