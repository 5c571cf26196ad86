"""When answers became true: the event times a body depends on, searched exactly."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

from engine.errors import TempologError
from engine.explain.healing import first_by_witnesses
from engine.explain.unfold import Derivation, is_monotone, unfold
from engine.lang import ast, pretty

SCAN_BEFORE_BISECTING = 8  # event times scanned one by one before an upper bound is sought
EDGE = 2 ** 63 - 1  # beyond every time
ALWAYS = float("-inf")  # the first time of what holds at every time


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


@dataclass(frozen=True)
class FirstTime:
    """When a body first had an answer (not among `before`) in a span of times; `how` says
    which search found it: "derivations" (one query per unfolded derivation), "bisection"
    (a monotone body) or "scan" (event times in order from a proven lower bound)."""

    time: int | None
    how: str
    questions: int  # as-of evaluations of the body the search asked for


def first_time(engine, body: Sequence[ast.Literal], holds: Callable[[int], bool], *,
               columns: Sequence[str] = (), before: Collection[tuple] = (),
               after: int | None = None, upto: int | None = None) -> FirstTime:
    """The earliest time in (after, upto] at which `holds` (the body has an answer not among
    `before`, rows over `columns`) is true, exact for any body, given that `holds(upto)`.

    A body that only grows in time (positive rules over append-only facts) is true from
    the least "greatest event time" of its derivations: one query per derivation, or a
    bisection if it cannot be unfolded. Any other body (negation, aggregates: it can heal,
    so a bisection could land on a later breach) is scanned at its event times in order,
    from the first time its loosened derivations hold: nothing can be true before that."""
    program = engine.program
    asked = [0]

    def ask(time: int) -> bool:
        asked[0] += 1
        return holds(time)

    unfolding = unfold(program, body)
    monotone = is_monotone(program, body)
    low = -EDGE if after is None else after + 1
    high = EDGE if upto is None else upto
    try:
        if unfolding.exact:
            bound = _derivations_first(engine, unfolding.derivations, columns, before, upto)
            if bound is None:
                return FirstTime(None, "derivations", 0)
            if bound != ALWAYS:
                return FirstTime(max(bound, low), "derivations", 0)
        elif not monotone:
            found = first_by_witnesses(engine, body, unfolding.derivations, ask,
                                       columns=columns, span=range(low, high + 1), upto=upto)
            return FirstTime(found, "witnesses", asked[0])
    except TempologError:  # an unfolded body the analysis refuses: search without it
        pass
    # A body true at every time, or one the unfolding cannot ask, is searched over the span
    # of the event times it reads.
    relations = relations_read(program, body)
    span = time_span(engine, relations, after=after, upto=upto)
    if not span:
        return FirstTime(None, "bisection", 0)
    if monotone:
        return FirstTime(first_true(span, ask), "bisection", asked[0])
    return FirstTime(_scan(engine, relations, span, ask, upto), "scan", asked[0])


def first_change(engine, relations: Iterable[str], holds: Callable[[int], bool], *,
                 after: int | None = None, upto: int | None = None) -> int | None:
    """The earliest event time of `relations` in (after, upto] at which `holds`, for any
    predicate over as-of answers, given that `holds(upto)`: a scan of event times in order,
    ended by a bisection after a few misses."""
    span = time_span(engine, relations, after=after, upto=upto)
    return _scan(engine, relations, span, holds, upto) if span else None


def _derivations_first(engine, derivations: Sequence[Derivation], columns, before,
                       upto) -> int | None:
    """The least time at which one of `derivations` has a row (whose `columns` are not a
    row of `before`): per row, its greatest event time; None if none has a row."""
    firsts = []
    for derivation in derivations:
        text = pretty.body(derivation.body)
        if not derivation.times and not before:
            if engine.query(text, as_of=upto, limit=1, timeout=None).rows:
                return ALWAYS  # no event in it: true at every time
            continue
        if len(derivation.times) == 1 and not before:
            answer = engine.query(f"__first = min {derivation.times[0]} : {{ {text} }}",
                                  as_of=upto, timeout=None)
            firsts += [row[0] for row in answer.rows]
            continue
        result = engine.query(text, as_of=upto, timeout=None)
        where = {name: i for i, name in enumerate(result.columns)}
        if any(name not in where for name in columns):
            raise _Unmatched()
        times = [where[name] for name in derivation.times]
        keys = [where[name] for name in columns]
        firsts += [max((row[i] for i in times), default=ALWAYS) for row in result.rows
                   if tuple(row[i] for i in keys) not in before]
    return min(firsts, default=None)


class _Unmatched(TempologError):
    """An unfolded derivation lost a column of the body: it cannot tell answers apart."""


def _scan(engine, relations: Iterable[str], span: range, holds: Callable[[int], bool],
          upto: int | None) -> int | None:
    """The first event time of `relations` in `span` at which `holds`; `holds(span[-1])` is
    known. After a few misses a bisection finds a time at which it holds, which bounds the
    rest of the scan (the bisection alone may have found a later breach than the first)."""
    limit, missed, at = span.stop - 1, 0, span.start
    width = 64
    while at <= limit:
        window = range(at, min(at + width, limit + 1))
        for time in event_times(engine, relations, window, upto=upto):
            if time >= limit:
                return limit
            if holds(time):
                return time
            missed += 1
            if missed == SCAN_BEFORE_BISECTING and time < limit:
                limit = first_true(range(time + 1, limit + 1), holds)
                if limit is None:  # it does not hold at the end after all
                    return None
        at, width = window.stop, width * 2
    return limit


def event_times(engine, relations: Iterable[str], window: range, *, upto: int | None) -> list[int]:
    """The distinct times of the facts of `relations` that fall in `window`, ascending."""
    found: set[int] = set()
    if not window:
        return []
    for name in sorted(relations):
        relation = engine.program.relations[name]
        if not relation.is_event:
            continue
        args = ["_"] * relation.arity
        args[relation.time_column] = "__t"
        text = (f"{name}({', '.join(args)}), __t >= {window.start}, "
                f"__t <= {window.stop - 1}")
        found.update(row[0] for row in engine.query(text, as_of=upto, timeout=None).rows)
    return sorted(found)
