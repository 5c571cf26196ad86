"""`evaluate(source, facts)`: parse, analyse and run a program once, answering every relation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from engine.analysis.check import program_from_source
from engine.backends.factory import open_engine
from engine.engine import Value
from engine.lang import ast
from engine.lang.parser import parse


def evaluate(source: str, facts: Mapping[str, Iterable[tuple]] | None = None, *,
             backend: str | None = None, path: str = "<input>"
             ) -> dict[str, set[tuple[Value, ...]]]:
    """Every relation of the program, input and derived, as a set of tuples of str/int/float.

    Relations that appear only in `facts` are inferred from the rows' width, or, given no
    rows, from the program's own atoms of that name: a defined, empty input. Event rows carry
    their valid time in the relation's `time` column and get seqs in the order given.
    Errors raise the TempologError tree."""
    facts = {name: [tuple(row) for row in rows] for name, rows in (facts or {}).items()}
    extra = {}
    used = None
    for name, rows in facts.items():
        if rows:
            extra[name] = len(rows[0])
            continue
        if used is None:
            used = _atom_arities(parse(source, path))
        if name in used:
            extra[name] = used[name]
    program = program_from_source(source, path, extra_relations=extra)
    with open_engine(program, backend) as engine:
        for name, rows in facts.items():
            if rows or name in program.relations:
                engine.assert_facts(name, rows)
        return {name: set(engine.query(_all(name, relation.arity), timeout=None).rows)
                for name, relation in program.relations.items()}


def _atom_arities(rule_file: ast.RuleFile) -> dict[str, int]:
    """The arity each relation is used with in the file's rule and invariant bodies."""
    arities: dict[str, int] = {}
    for item in rule_file.items:
        if isinstance(item, (ast.Rule, ast.Invariant)):
            for atom, _ in ast.body_atoms(item.body):
                arities.setdefault(atom.relation, len(atom.args))
    return arities


def _all(name: str, arity: int) -> str:
    return f"{name}({', '.join(f'c{i}' for i in range(arity))})"
