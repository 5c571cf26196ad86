"""Running a query and showing its answers as a table, JSON or CSV, with money as money."""

from __future__ import annotations

import csv
import io
import time
import weakref
from dataclasses import dataclass, field, replace
from enum import StrEnum

from rich.table import Table

from engine import analyse_query
from sim import EVENT_TYPES
from sim.money import to_dollars

# Fields that hold cents: a field declared `money`, an event field of kind price or money,
# and any declared field of a derived relation that carries one of those names (avg_price,
# realized …).
MONEY_KINDS = ("price", "money")
MONEY_FIELDS = frozenset(name for event_type in EVENT_TYPES.values()
                         for name, kind in event_type.fields if kind in MONEY_KINDS)


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


@dataclass(frozen=True)
class Answer:
    """A query's answers with what it took: `money` names the columns that hold cents."""

    query: str
    columns: tuple[str, ...]
    rows: tuple[tuple, ...]
    elapsed_ms: float
    as_of: int | None = None
    money: frozenset[str] = field(default_factory=frozenset)
    cached: bool = False  # given again from the answer cache (api/answers.py)
    waited_ms: float = 0.0  # of elapsed_ms, waiting for the engine behind other requests

    def __len__(self) -> int:
        return len(self.rows)

    def again(self, elapsed_ms: float) -> Answer:
        """This answer given again from the cache, in `elapsed_ms`."""
        return replace(self, elapsed_ms=elapsed_ms, cached=True, waited_ms=0.0)

    def to_json(self) -> dict:
        """Columns and rows as they are: money stays integer cents."""
        return {"columns": list(self.columns), "rows": [list(row) for row in self.rows],
                "count": len(self.rows), "elapsed_ms": round(self.elapsed_ms, 3),
                "as_of": self.as_of, "money_columns": sorted(self.money)}

    def shown_rows(self) -> list[list[str]]:
        """Rows as a person reads them: cents as dollars with two decimals."""
        is_money = [column in self.money for column in self.columns]
        return [[_shown(value, money) for value, money in zip(row, is_money)]
                for row in self.rows]

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.columns)
        writer.writerows(self.shown_rows())
        return out.getvalue()

    def summary(self, *, timing: bool = True) -> str:
        """`3 rows in 1.2 ms, as of t=500`."""
        text = f"{len(self.rows):,} row{'s' if len(self.rows) != 1 else ''}"
        text += f" in {self.elapsed_ms:.1f} ms" if timing else ""
        return text + (f", as of t={self.as_of}" if self.as_of is not None else "")

    def to_table(self) -> Table:
        table = Table()
        for column in self.columns:
            money = column in self.money
            table.add_column(f"{column} ($)" if money else column,
                             justify="right" if money else "left")
        for row in self.shown_rows():
            table.add_row(*row)
        return table


def money_text(cents: int) -> str:
    """Cents as a person reads money: 12345678 -> '123,456.78', -5 -> '-0.05'."""
    return f"{to_dollars(cents):,.2f}"


def _shown(value, money: bool) -> str:
    if money and type(value) is int:
        return money_text(value)
    return str(value)


_MONEY_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_MONEY_CACHE_SIZE = 1024


def money_columns(engine, text: str) -> frozenset[str]:
    """The query's variables that stand, in a positive atom, where a relation holds cents
    (remembered per engine: a service asks the same few queries again and again)."""
    known = _MONEY_CACHE.setdefault(engine, {})
    found = known.get(text)
    if found is None:
        if len(known) >= _MONEY_CACHE_SIZE:
            known.clear()
        found = known[text] = _money_columns(engine, text)
    return found


def known_money_columns(engine, text: str) -> frozenset[str] | None:
    """money_columns when it was found for this text before, else None (analyses nothing)."""
    return _MONEY_CACHE.get(engine, {}).get(text)


def _money_columns(engine, text: str) -> frozenset[str]:
    relations = engine.relations()
    found = set()
    for literal in analyse_query(engine.program, text).body:
        relation = relations.get(getattr(literal, "relation", None))
        if relation is None:
            continue  # a comparison or a negation binds nothing shown
        for name, type_, arg in zip(relation.fields, relation.types, literal.args):
            if (type_ == "money" or name in MONEY_FIELDS) and type(arg).__name__ == "Var":
                found.add(arg.name)
    return frozenset(found)


def query_text(text: str) -> str:
    """A query as the engine takes it: without its final '.' (it may be typed either way)."""
    text = text.rstrip()
    if text.endswith("."):
        text = text[:-1].rstrip()
    return text


def run_query(engine, text: str, *, as_of: int | None = None, limit: int | None = None,
              timeout: float = 5.0) -> Answer:
    """Answer `text` (a body, with or without its final '.'); errors are the engine's, their
    columns counted in `text` as given."""
    text = query_text(text)
    started = time.perf_counter()
    result = engine.query(text, as_of=as_of, limit=limit, timeout=timeout)
    elapsed = (time.perf_counter() - started) * 1000
    return Answer(text, result.columns, result.rows, elapsed, as_of, money_columns(engine, text),
                  waited_ms=result.waited_ms)


def render(answer: Answer, output: Format, console, *, timing: bool = True) -> None:
    """Print an answer on a rich console in the chosen format."""
    import json

    if output is Format.json:
        body = answer.to_json()
        if not timing:
            body.pop("elapsed_ms")
        console.print_json(json.dumps(body))
    elif output is Format.csv:
        console.out(answer.to_csv(), end="", highlight=False)
    else:
        if answer.columns:
            console.print(answer.to_table())
        console.print(answer.summary(timing=timing), highlight=False)


COUNT_BUDGET = 2.0  # seconds to count every relation of a listing, all of them together


def relation_count(engine, relation, timeout: float = 2.0,
                   as_of: int | None = None) -> int | None:
    """How many facts a relation has now (or as of a time), counted inside the engine (no
    rows are sent); None for a nullary relation or when counting takes longer than
    `timeout`."""
    if relation.arity == 0:
        return None
    wildcards = ", ".join(["_"] * relation.arity)
    try:
        result = engine.query(f"n = count : {{ {relation.name}({wildcards}) }}",
                              as_of=as_of, timeout=timeout)
    except Exception:  # noqa: BLE001 - a count is a courtesy; a listing must not fail
        return None
    return result.rows[0][0] if result.rows else 0


def relation_counts(engine, budget: float = COUNT_BUDGET,
                    as_of: int | None = None) -> dict[str, int | None]:
    """Every relation's count within one time `budget` for them all: event relations first
    (counted from their facts), then derived ones; None where the budget ran out. A listing
    of a big rule set must not wait for each of its relations to be evaluated."""
    deadline = time.monotonic() + budget
    counts: dict[str, int | None] = {}
    for name, relation in sorted(engine.relations().items(),
                                 key=lambda item: (not item[1].is_event, item[0])):
        left = deadline - time.monotonic()
        counts[name] = relation_count(engine, relation, left, as_of) if left > 0 else None
    return counts
