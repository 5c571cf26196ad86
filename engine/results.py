"""What a query answers: values, rows and the Result that holds them."""

from __future__ import annotations

from dataclasses import dataclass, field

Value = str | int | float
Row = tuple[Value, ...]


@dataclass(frozen=True)
class Result:
    """A query's answers: `columns` are the query's named variables in order of first
    appearance; `rows` are sorted, duplicate-free tuples of str/int/float."""

    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    waited_ms: float = field(default=0.0, compare=False)  # of the query's time, waiting
    # for the engine behind other queries and writes; 0 for a backend that never queues

    def as_dicts(self) -> list[dict[str, Value]]:
        return [dict(zip(self.columns, row)) for row in self.rows]

    def __len__(self) -> int:
        return len(self.rows)
