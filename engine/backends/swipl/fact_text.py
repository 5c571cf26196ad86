"""Facts going into Prolog: rows as the text of a batch, in time order, each row once."""

from __future__ import annotations

from functools import lru_cache

from engine.analysis.program import INTEGER_TYPES, Relation
from engine.backends.swipl import prolog_text as pl


def time_ordered(rows, numbers, column: int):
    """The rows (and their numbers) in order of the time column, stable by number."""
    times = [row[column] for row in rows]
    if all(a <= b for a, b in zip(times, times[1:])):
        return rows, numbers
    order = sorted(range(len(rows)), key=lambda i: (times[i], numbers[i]))
    return [rows[i] for i in order], [numbers[i] for i in order]


def first_of_each(rows, numbers):
    """Each row once, with its first number: the Prolog side looks up only the facts no later
    than every stored one, so it must not be given the same new fact twice."""
    if len(set(rows)) == len(rows):
        return rows, numbers
    first: dict = {}
    for row, number in zip(rows, numbers):
        first.setdefault(row, number)
    return list(first), list(first.values())


@lru_cache(maxsize=1024)
def encoder(relation: Relation):
    """A function (rows, seqs) -> Prolog text `[f(A1, …, An, Seq), …]` for rows that
    engine.engine.check_rows accepted (generated per relation: this is the hot loop)."""
    names = [f"a{i}" for i in range(relation.arity)]
    lines = ["def encode(rows, seqs):", "    out = []",
             "    for row, seq in zip(rows, seqs):",
             f"        {''.join(n + ', ' for n in names)}= row" if names else "        () = row"]
    parts = []
    for name, type_ in zip(names, relation.types):
        if type_ == "symbol":
            parts.append(f"'{{{name} if PLAIN({name}) is None else {name}.translate(ESC)}}'")
        elif type_ in INTEGER_TYPES:
            parts.append(f"{{{name}}}")
        elif type_ == "float":
            parts.append(f"{{number({name})}}")
        else:
            parts.append(f"{{value({name})}}")
    lines.append(f"        out.append(f\"f({''.join(p + ',' for p in parts)}{{seq}})\")")
    lines.append("    return '[' + ','.join(out) + ']'")
    scope = {"ESC": pl.ATOM_ESCAPES, "PLAIN": pl.NEEDS_ESCAPE, "number": pl.number,
             "value": pl.value}
    exec("\n".join(lines), scope)  # noqa: S102 - code generated from the relation's types
    return scope["encode"]
