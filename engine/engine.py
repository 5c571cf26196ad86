"""The one Engine interface that every backend implements, and what they share."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache

from engine.analysis import Program, Relation, load_program
from engine.analysis.program import INTEGER_TYPES
from engine.errors import QueryError, RowRejected, SnapshotUnsupported
from engine.results import Result, Row, Value

# The backend factory registers itself here, so that the interface need not import it.
_open_engine: Callable[[Program, str | None], Engine] | None = None


def register_factory(open_engine: Callable[[Program, str | None], Engine]) -> None:
    """Called once by engine.backends.factory: how `Engine.from_files` picks a backend."""
    global _open_engine
    _open_engine = open_engine


MAX_TIMEOUT = 86_400.0  # a day: past that, a time limit is a mistake (and overflows timers)


def check_query_options(as_of, limit, timeout, text: str = "") -> None:
    """Reject a bad query text or options alike on every backend, before any work is done."""
    check_query_text(text)
    if as_of is not None and (isinstance(as_of, bool) or not isinstance(as_of, int)):
        raise QueryError(f"as_of must be an integer time, not {as_of!r}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                              or limit < 0):
        raise QueryError(f"limit must be a non-negative integer, not {limit!r}")
    if timeout is not None and (isinstance(timeout, bool)
                                or not isinstance(timeout, int | float)
                                or not 0 < timeout <= MAX_TIMEOUT):
        raise QueryError(f"timeout must be a number of seconds above 0 and at most "
                         f"{MAX_TIMEOUT:g} (or None for no limit), not {timeout!r}")


def check_query_text(text) -> None:
    """A query's text must be a string of Unicode characters (no lone surrogates)."""
    if not isinstance(text, str):
        raise QueryError(f"a query is text, not {type(text).__name__}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise QueryError(f"the query holds a lone surrogate {text[error.start]!r} at "
                         f"column {error.start + 1}: not a Unicode character") from None


class Engine(ABC):
    """Facts in, answers out. Safe to call from many threads.

    Event relations' rows carry their valid time in the relation's `time` column;
    `seqs` gives each event row its event-store sequence number (the logical clock).
    `as_of=T` answers every rule over the event facts with time <= T.
    """

    program: Program

    @classmethod
    def from_files(cls, paths, backend: str | None = None) -> Engine:
        """An engine over the .dl files at `paths` on `backend` (default: TEMPOLOG_BACKEND,
        else swipl with the pyDatalog fallback); on a backend class, that backend."""
        program = load_program(list(paths))
        if backend is None and cls is not Engine:
            return cls(program)
        return _open_engine(program, backend)

    def assert_facts(self, relation: str, rows: Iterable[Row], *,
                     seqs: Iterable[int] | None = None) -> int:
        """Add rows to an input relation; returns how many were new."""
        return self.assert_many({relation: (rows, seqs)})

    def assert_many(self, batch: Mapping[str, tuple[Iterable[Row], Iterable[int] | None]]) -> int:
        """Add rows (with optional seqs) to several input relations, all or nothing: every
        row is checked before any is written. Returns how many were new."""
        checked = []
        for name, (rows, seqs) in batch.items():
            relation = self._relation(name)
            good = check_rows(relation, rows)
            if seqs is not None:
                seqs = list(seqs)
                if len(seqs) != len(good):
                    raise QueryError(f"{len(good)} rows of {name} but {len(seqs)} seqs")
            checked.append((relation, good, seqs))
        return self._write(checked)

    @abstractmethod
    def _write(self, batch: list[tuple[Relation, list[Row], list[int] | None]]) -> int:
        """Store checked rows (with their seqs, or None to number them) all or nothing;
        returns how many were new."""

    def _relation(self, name: str) -> Relation:
        relation = self.program.relations.get(name)
        if relation is None:
            raise QueryError(f"unknown relation {name!r}: the rules do not declare or use it")
        return relation

    _closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise QueryError("this engine is closed")

    @abstractmethod
    def query(self, text: str, *, as_of: int | None = None, limit: int | None = None,
              timeout: float = 5.0) -> Result:
        """Answer a body such as `pending_order(o, c, "AAPL", s, q, p), q > 10`."""

    def submit(self, text: str, *, as_of: int | None, limit: int | None = None,
               timeout: float = 5.0, done: Callable[[Result | None, BaseException | None], None]
               ) -> bool:
        """`query()` without waiting, for a caller that must not block (the service's event
        loop): when the backend can ask the query at once (SWI-Prolog: as of a time, its
        shape compiled before), it is queued and `done(result, error)` is called later, on
        the backend's own thread; False, and nothing queued, when it cannot: call query()."""
        return False

    def interrupt(self) -> bool:
        """Stop this engine's query that runs or waits now, from another thread: it raises
        QueryCancelled and the engine stays usable. False when there was none, or the
        backend cannot stop one (pyDatalog's queries run to their end)."""
        return False

    def event_seqs(self, relation: str, rows: Iterable[Row]) -> dict[Row, int]:
        """The event-store seq of each given row of an event relation that the engine holds
        (rows it does not hold are left out); what proofs cite for their event leaves."""
        raise QueryError(f"{type(self).__name__} does not keep the seqs of event facts")

    # ---- snapshots: the whole state, to resume a replay without loading every event again

    def program_hash(self) -> str:
        """The identity of this engine's compiled program for snapshots (its rules and
        options, the backend's version, the snapshot format): a snapshot restores only into
        an engine of the same hash."""
        raise SnapshotUnsupported(f"the {self.backend_name} backend cannot snapshot its state")

    def dump_state(self) -> bytes:
        """Everything the engine holds that later facts and queries need (facts with their
        seqs, indexes, materialised relations, counters), as bytes for `restore_state`.
        Call it while no write is in flight."""
        raise SnapshotUnsupported(f"the {self.backend_name} backend cannot snapshot its state")

    def restore_state(self, blob: bytes) -> None:
        """Replace the engine's state by a `dump_state` of an engine of the same program;
        SnapshotRejected (the state untouched) for another program or a damaged blob."""
        raise SnapshotUnsupported(f"the {self.backend_name} backend cannot restore a snapshot")

    @property
    def backend_name(self) -> str:
        return type(self).__name__.removesuffix("Engine").lower() or "this"

    # ---- provenance (engine/explain: written once over `query`, for every backend)

    def check(self, as_of: int | None = None, since: int | None = None, *,
              depth: int | None = None, events=None):
        """Run every `.never` invariant: a CheckReport with each violation's bindings, first
        time and proof. `events(seq)` (the stored event of a seq) fills in event ids."""
        from engine.explain import check

        return check(self, as_of=as_of, since=since, depth=depth, events=events)

    def explain(self, fact_or_query: str, as_of: int | None = None, depth: int | None = None,
                max_proofs: int = 1, *, events=None):
        """Lowest proofs of the answers of a fact or query, down to their event facts."""
        from engine.explain import explain

        return explain(self, fact_or_query, as_of=as_of, depth=depth, max_proofs=max_proofs,
                       events=events)

    def why_not(self, fact: str, as_of: int | None = None, *, events=None):
        """For each rule that could derive `fact`, the first literal that fails and the
        nearest miss."""
        from engine.explain import why_not

        return why_not(self, fact, as_of=as_of, events=events)

    def diff(self, query: str, from_time: int, to_time: int | None = None, *, events=None):
        """The answers of `query` added and removed between two times, with their causes."""
        from engine.explain import diff

        return diff(self, query, from_time=from_time, to_time=to_time, events=events)

    def relations(self) -> Mapping[str, Relation]:
        return self.program.relations

    @abstractmethod
    def close(self) -> None:
        """Free the backend's resources; the engine answers nothing afterwards."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def sorted_rows(rows: Iterable[Sequence[Value]]) -> list[Row]:
    """Answer rows in the one order every backend returns: distinct, numbers before symbols
    (as in Prolog's standard order; a column holds one kind anyway), then by value. Of rows
    equal by Python's equality (0.0 == -0.0), the first in that order is kept: -0.0, as
    SWI-Prolog's sort/2 keeps it, whatever order the rows came in."""
    ordered = sorted(map(tuple, rows), key=lambda row: tuple(
        (isinstance(v, str), v, math.copysign(1, v) if isinstance(v, float) else 0)
        for v in row))
    return [row for i, row in enumerate(ordered) if i == 0 or row != ordered[i - 1]]


def check_rows(relation: Relation, rows: Iterable) -> list[Row]:
    """`rows` as `relation` stores them (ints in a float column become floats), or
    RowRejected naming the relation, the column and the value of the first bad one."""
    return _row_checker(relation)(rows)


@lru_cache(maxsize=1024)
def _row_checker(relation: Relation) -> Callable[[Iterable], list[Row]]:
    """The check of `relation`'s rows as a function generated from its types: this is the
    hot loop of loading facts. Values are exact types (a bool is no int); floats finite;
    text valid Unicode (a lone surrogate is no text, and SWI-Prolog refuses it)."""
    names = [f"a{i}" for i in range(relation.arity)]
    lines = ["def check(rows):", "    out = []", "    for row in rows:", "        try:",
             f"            [{', '.join(names)}] = row",
             "        except (TypeError, ValueError):", "            bad_row(row)"]
    for i, (name, type_) in enumerate(zip(names, relation.types)):
        text_ok = f"({name}.isascii() or text(i{i}, {name}))"
        finite = f"{name} - {name} == 0.0"  # false for inf and NaN
        if type_ == "symbol":
            lines.append(f"        if type({name}) is not str or not {text_ok}: bad({i}, {name})")
        elif type_ in INTEGER_TYPES:
            lines.append(f"        if type({name}) is not int: bad({i}, {name})")
        elif type_ == "float":
            lines += [f"        if type({name}) is int: {name} = to_float({i}, {name})",
                      f"        elif type({name}) is not float or not {finite}: "
                      f"bad({i}, {name})"]
        else:
            lines += [f"        if type({name}) is str:",
                      f"            if not {text_ok}: bad({i}, {name})",
                      f"        elif type({name}) is float:",
                      f"            if not {finite}: bad({i}, {name})",
                      f"        elif type({name}) is not int: bad({i}, {name})"]
    fresh = f"({''.join(n + ', ' for n in names)})"
    if "float" not in relation.types:  # nothing converted: a tuple row is kept as it is
        fresh = f"row if type(row) is tuple else {fresh}"
    lines += [f"        out.append({fresh})", "    return out"]
    scope = _problems(relation)
    scope.update({f"i{i}": i for i in range(relation.arity)})
    exec("\n".join(lines), scope)  # noqa: S102 - code generated from the relation's types
    return scope["check"]


def _problems(relation: Relation) -> dict[str, Callable]:
    """The functions a generated row check calls for a bad value: each raises RowRejected."""
    name = relation.name

    def bad_row(row: object) -> None:
        try:
            count = f"{len(tuple(row))}: {row!r}"
        except TypeError:
            count = repr(row)
        raise RowRejected(f"{name} takes {relation.arity} values, not {count}")

    def bad(column: int, value: object) -> None:
        field, type_ = relation.fields[column], relation.types[column]
        if isinstance(value, float) and not isinstance(value, bool) and \
                type_ in ("float", None):
            wanted = "finite numbers only"
        else:
            wanted = {None: "a symbol or a number"}.get(type_, f"a {type_}")
        raise RowRejected(f"column {field} of {name} holds {wanted}, not {value!r}")

    def text(column: int, value: str) -> bool:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise RowRejected(f"column {relation.fields[column]} of {name} holds valid "
                              f"Unicode text, not {value!r}") from None
        return True

    def to_float(column: int, value: int) -> float:
        try:
            return float(value)
        except OverflowError:
            raise RowRejected(f"column {relation.fields[column]} of {name} holds finite "
                              f"numbers only, not {value!r}") from None

    return {"bad_row": bad_row, "bad": bad, "text": text, "to_float": to_float}
