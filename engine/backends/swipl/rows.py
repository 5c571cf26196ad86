"""Answer rows from SWI-Prolog in bulk: one JSON text per query, written by rows.pl."""

from __future__ import annotations

import weakref
from pathlib import Path

from engine.backends.swipl import prolog_text as pl
from engine.engine import Row, sorted_rows
from engine.errors import QueryError

# A query's rows used to be written by library(http/json)'s json_write/3 (~30 us of CPU a
# row) and sorted again in Python with a key per value (~12 us a row). rows.pl writes each
# value by its type (~4 us a row); Prolog's sort/2 has already put the rows in the order
# every backend returns, so Python's sort only confirms it (linear on sorted input).

ROWS_PL = Path(__file__).with_name("rows.pl")
_loaded: weakref.WeakSet = weakref.WeakSet()  # the Prolog threads that have rows.pl


def fetch(call, args: str) -> list[Row]:
    """The rows of `tl_rows(Args…)` (tl_query's arguments: module, time limit, limit, as-of,
    AsOf, row, goal), through `call` on the Prolog thread, as answer rows."""
    _ensure_loaded(call)
    return answer_rows(call(f"tempolog_rows:tl_rows({args})", ""))


def answer_rows(rows: list[list]) -> list[Row]:
    """Rows as tuples, distinct, in the order of engine.sorted_rows: numbers before symbols,
    then by value."""
    tuples = list(map(tuple, rows))
    try:
        tuples.sort()
    except TypeError:  # a column holding numbers and symbols: the general order
        return sorted_rows(tuples)
    # Distinct by Python's equality, which is looser than Prolog's (1 == 1.0).
    return [row for i, row in enumerate(tuples) if i == 0 or row != tuples[i - 1]]


def _ensure_loaded(call) -> None:
    owner = getattr(call, "__self__", None)
    if owner is not None and owner in _loaded:
        return
    answer = call(f"tl_call_json(load_files({pl.atom(str(ROWS_PL))}, [silent(true)]))", "")
    if answer != {"ok": True}:
        raise QueryError(f"SWI-Prolog could not load {ROWS_PL.name}", code="prolog-error")
    if owner is not None:
        _loaded.add(owner)
