"""A read's filters as SQL conditions: the same on every backend but for its placeholder."""

from __future__ import annotations

from collections.abc import Iterable

_BOUNDS = (("seq >= {}", "from_seq"), ("seq <= {}", "to_seq"), ("time >= {}", "from_time"),
           ("time <= {}", "to_time"), ("stream_id = {}", "stream_id"),
           ("correlation_id = {}", "correlation_id"))


def conditions(placeholder: str, *, types: Iterable[str] | None = None, **bounds
               ) -> tuple[list[str], list]:
    """The conditions of the filters given (a bound of None is not given) and their
    parameters, for `EventStore.read`'s bounds and types; `placeholder` is the backend's
    parameter ('?' for SQLite, '%s' for psycopg). Every bound is inclusive."""
    unknown = set(bounds) - {name for _, name in _BOUNDS}
    if unknown:
        raise TypeError(f"no read filter named {sorted(unknown)[0]}")
    clauses, args = [], []
    for clause, name in _BOUNDS:
        value = bounds.get(name)
        if value is not None:
            clauses.append(clause.format(placeholder))
            args.append(value)
    if types is not None:
        names = list(types)
        clauses.append(f"type IN ({', '.join([placeholder] * len(names))})" if names
                       else "0 = 1")
        args.extend(names)
    return clauses, args


def where(clauses: list[str]) -> str:
    return " WHERE " + " AND ".join(clauses) if clauses else ""
