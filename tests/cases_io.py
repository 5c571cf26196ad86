"""Reading evaluation golden cases: `tests/cases/<name>/` with `<name>.dl`, `input/`,
`expected/` and `as_of_<T>/` folders of `<relation>.csv` files (no header, rows sorted)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from engine.analysis import load_program
from engine.analysis.program import Program, Relation

CASES = Path(__file__).parent / "cases"


def evaluation_cases() -> list[str]:
    """Cases with expected answers (a case holds either `expected/` or a `.err`)."""
    return sorted(p.name for p in CASES.iterdir() if (p / "expected").is_dir())


@dataclass
class Case:
    name: str
    program: Program
    inputs: dict[str, list[tuple]]  # input relation -> rows, in file order
    expected: dict[int | None, dict[str, list[tuple]]]  # as_of (None: now) -> answers


def parse_value(text: str, type_: str | None):
    if type_ == "symbol":
        return text
    if type_ in ("number", "time", "money"):
        return int(text)
    if type_ == "float":
        return float(text)
    for convert in (int, float):  # a column whose type nothing fixes
        try:
            return convert(text)
        except ValueError:
            pass
    return text


def read_rows(path: Path, relation: Relation) -> list[tuple]:
    with path.open(newline="", encoding="utf-8") as f:
        return [tuple(parse_value(v, t) for v, t in zip(row, relation.types))
                for row in csv.reader(f)]


def write_rows(path: Path, rows) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        for row in rows:
            writer.writerow([repr(v) if isinstance(v, float) else v for v in row])


def load_case(name: str) -> Case:
    folder = CASES / name
    program = load_program([folder / f"{name}.dl"])
    inputs = {}
    if (folder / "input").is_dir():
        for path in sorted((folder / "input").glob("*.csv")):
            inputs[path.stem] = read_rows(path, program.relations[path.stem])
    expected: dict[int | None, dict[str, list[tuple]]] = {}
    for sub in sorted(folder.iterdir()):
        if sub.is_dir() and (sub.name == "expected" or sub.name.startswith("as_of_")):
            as_of = None if sub.name == "expected" else int(sub.name[len("as_of_"):])
            expected[as_of] = {path.stem: read_rows(path, program.relations[path.stem])
                               for path in sorted(sub.glob("*.csv"))}
    return Case(name, program, inputs, expected)


def relation_query(relation: Relation) -> str:
    """A query whose answers are exactly the relation's tuples, columns in order."""
    return f"{relation.name}({', '.join(f'c{i}' for i in range(relation.arity))})"
