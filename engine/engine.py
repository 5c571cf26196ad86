"""The one Engine interface that every backend implements, and what they share."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from engine.analysis import Program, Relation, load_program
from engine.errors import QueryError

Value = str | int | float
Row = tuple[Value, ...]

# The backend factory registers itself here, so that the interface need not import it.
_open_engine: Callable[[Program, str | None], Engine] | None = None


def register_factory(open_engine: Callable[[Program, str | None], Engine]) -> None:
    """Called once by engine.backends.factory: how `Engine.from_files` picks a backend."""
    global _open_engine
    _open_engine = open_engine


@dataclass(frozen=True)
class Result:
    """A query's answers: `columns` are the query's named variables in order of first
    appearance; `rows` are sorted, duplicate-free tuples of str/int/float."""

    columns: tuple[str, ...]
    rows: tuple[Row, ...]

    def as_dicts(self) -> list[dict[str, Value]]:
        return [dict(zip(self.columns, row)) for row in self.rows]

    def __len__(self) -> int:
        return len(self.rows)


def check_query_options(as_of, limit, timeout) -> None:
    """Reject bad `query` options alike on every backend, before any work is done."""
    if as_of is not None and (isinstance(as_of, bool) or not isinstance(as_of, int)):
        raise QueryError(f"as_of must be an integer time, not {as_of!r}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                              or limit < 0):
        raise QueryError(f"limit must be a non-negative integer, not {limit!r}")
    if timeout is not None and not timeout > 0:
        raise QueryError(f"timeout must be positive, not {timeout!r}")


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

    @abstractmethod
    def assert_facts(self, relation: str, rows: Iterable[Row], *,
                     seqs: Iterable[int] | None = None) -> int:
        """Add rows to an input relation; returns how many were new."""

    def assert_many(self, batch: Mapping[str, tuple[Iterable[Row], Iterable[int] | None]]) -> int:
        """Add rows (with optional seqs) to several input relations; returns how many were new."""
        # Both backends override this to write all or nothing. This default checks only
        # relation names and seq counts before writing: a bad value in a later relation's
        # rows is rejected by assert_facts after the earlier relations were written.
        checked = []
        for relation, (rows, seqs) in batch.items():
            if relation not in self.program.relations:
                raise QueryError(f"unknown relation {relation!r}")
            rows, seqs = list(rows), None if seqs is None else list(seqs)
            if seqs is not None and len(seqs) != len(rows):
                raise QueryError(f"{len(rows)} rows of {relation} but {len(seqs)} seqs")
            checked.append((relation, rows, seqs))
        return sum(self.assert_facts(relation, rows, seqs=seqs) for relation, rows, seqs in checked)

    @abstractmethod
    def query(self, text: str, *, as_of: int | None = None, limit: int | None = None,
              timeout: float = 5.0) -> Result:
        """Answer a body such as `pending_order(o, c, "AAPL", s, q, p), q > 10`."""

    def relations(self) -> Mapping[str, Relation]:
        return self.program.relations

    @abstractmethod
    def close(self) -> None:
        """Free the backend's resources; the engine answers nothing afterwards."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
