"""How answers look in a terminal: money columns (integer cents) as 1,234.56."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal

from engine.analysis.program import Relation
from engine.lang import ast
from engine.lang.parser import parse_query


def money(cents: int) -> str:
    """12345678 -> '123,456.78', -5 -> '-0.05'."""
    return f"{Decimal(cents).scaleb(-2):,.2f}"


def money_variables(relations: Mapping[str, Relation], query: str) -> set[str]:
    """The query's variables that stand in a money column of some atom of it."""
    found = set()
    for atom, _ in ast.body_atoms(parse_query(query)):
        relation = relations.get(atom.relation)
        if relation is None:
            continue
        for arg, type_ in zip(atom.args, relation.types):
            if isinstance(arg, ast.Var) and type_ == "money":
                found.add(arg.name)
    return found


def formatters(relations: Mapping[str, Relation], query: str,
               columns: tuple[str, ...]) -> list[Callable[[object], str]]:
    """One function per answer column turning a value into its cell text."""
    moneyed = money_variables(relations, query)
    return [(lambda v: money(v) if isinstance(v, int) else str(v)) if name in moneyed
            else str for name in columns]
