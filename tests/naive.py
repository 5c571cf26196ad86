"""A naive bottom-up evaluator of a Program: the slow, obvious oracle both backends must match.

It shares nothing with the backends but the analysed Program: each stratum's rules are
applied to every combination of facts until nothing new appears. Semantics (Soufflé's):
an aggregate runs over every solution of its body (one per combination of matching
tuples); count and sum of nothing are 0, min/max/mean of nothing give no answer; float
sums and means are the exact result rounded once (independent of answer order);
int / int truncates toward zero, % takes the dividend's sign, and a division by zero
gives that binding no answer; float columns hold floats.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from fractions import Fraction

from engine.analysis import analyse_query
from engine.analysis.program import Program
from engine.builtins import FUNCTIONS, NoValue
from engine.lang import ast

Row = tuple
Env = dict[str, object]


class _NoValue(Exception):
    pass


def _div(a, b):
    if b == 0:
        raise _NoValue
    if isinstance(a, int) and isinstance(b, int):
        q = abs(a) // abs(b)
        return q if (a >= 0) == (b >= 0) else -q
    return a / b


def _mod(a, b):
    if b == 0:
        raise _NoValue
    if isinstance(a, int) and isinstance(b, int):
        return a - b * _div(a, b)
    return math.fmod(a, b)


_ARITH = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
          "/": _div, "%": _mod}
_TEST = {"=": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
         "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


def _coerce(row: Iterable, types) -> Row:
    return tuple(float(v) if t == "float" and not isinstance(v, str) else v
                 for v, t in zip(row, types))


class _Evaluator:
    """`inputs` and `as_of` (the database's own facts and time) serve as-of literals: `p @ t`
    reads p from a database evaluated again over the facts up to min(t, as_of), p's stratum
    and those below only (stratification keeps p's stratum below the rule's)."""

    def __init__(self, program: Program, db: dict[str, set[Row]],
                 inputs: Mapping[str, Iterable[Row]] | None = None, as_of: int | None = None):
        self.program = program
        self.db = db
        self.inputs = inputs or {}
        self.as_of = as_of
        self._past: dict[tuple, dict[str, set[Row]]] = {}

    def past(self, relation: str, time) -> set[Row]:
        """`relation` as of `time` (never past the database's own as-of time)."""
        if self.as_of is not None:
            time = min(time, self.as_of)
        levels = [i for i, stratum in enumerate(self.program.strata) if relation in stratum]
        level = levels[0] if levels else -1
        key = (time, level)
        if key not in self._past:
            self._past[key] = evaluate(self.program, self.inputs, as_of=time, strata=level + 1)
        return self._past[key][relation]

    def value(self, term: ast.Term, env: Env):
        if isinstance(term, ast.Var):
            return env[term.name]
        if isinstance(term, ast.Const):
            return term.value
        if isinstance(term, ast.Negate):
            return -self.value(term.operand, env)
        if isinstance(term, ast.BinOp):
            return _ARITH[term.op](self.value(term.left, env), self.value(term.right, env))
        if isinstance(term, ast.Call):
            args = [self.value(arg, env) for arg in term.args]
            try:
                return FUNCTIONS[term.func].python(*args)
            except NoValue:
                raise _NoValue from None
        raise TypeError(f"unexpected term {term!r}")

    def match(self, atom: ast.Atom, row: Row, env: Env) -> Env | None:
        new = dict(env)
        for arg, value in zip(atom.args, row):
            if isinstance(arg, ast.Wildcard):
                continue
            if isinstance(arg, ast.Const):
                if arg.value != value:
                    return None
            elif arg.name in new:
                if new[arg.name] != value:
                    return None
            else:
                new[arg.name] = value
        return new

    def solve(self, body: tuple, env: Env) -> Iterator[Env]:
        """Every solution of a body, one per combination of matching tuples."""
        if not body:
            yield env
            return
        literal, rest = body[0], body[1:]
        if isinstance(literal, ast.Atom):
            for row in list(self.db[literal.relation]):
                found = self.match(literal, row, env)
                if found is not None:
                    yield from self.solve(rest, found)
        elif isinstance(literal, ast.Negation):
            rows = self.db[literal.atom.relation]
            if not any(self.match(literal.atom, row, env) is not None for row in rows):
                yield from self.solve(rest, env)
        elif isinstance(literal, ast.AsOf):
            rows = self.past(literal.atom.relation, self.value(literal.time, env))
            found = [m for m in (self.match(literal.atom, row, env) for row in rows)
                     if m is not None]
            if literal.negated:
                if not found:
                    yield from self.solve(rest, env)
            else:
                for match in found:
                    yield from self.solve(rest, match)
        elif isinstance(literal.right, ast.Aggregate):
            for value in self.aggregate(literal.right, env):
                yield from self.solve(rest, {**env, literal.left.name: value})
        else:
            yield from self.compare(literal, rest, env)

    def compare(self, literal: ast.Comparison, rest: tuple, env: Env) -> Iterator[Env]:
        left, right = literal.left, literal.right
        try:
            if literal.op == "=" and isinstance(left, ast.Var) and left.name not in env:
                yield from self.solve(rest, {**env, left.name: self.value(right, env)})
            elif literal.op == "=" and isinstance(right, ast.Var) and right.name not in env:
                yield from self.solve(rest, {**env, right.name: self.value(left, env)})
            elif _TEST[literal.op](self.value(left, env), self.value(right, env)):
                yield from self.solve(rest, env)
        except _NoValue:
            return

    def aggregate(self, agg: ast.Aggregate, env: Env) -> list:
        values = []
        for solution in self.solve(agg.body, env):
            if agg.target is None:
                values.append(1)
                continue
            try:
                values.append(self.value(agg.target, solution))
            except _NoValue:
                continue
        if agg.func == "count":
            return [len(values)]
        if agg.func in ("sum", "mean"):
            exact = sum(map(Fraction, values))  # floats are exact fractions: no rounding yet
            if agg.func == "sum":
                return [float(exact) if any(isinstance(v, float) for v in values)
                        else int(exact)]
            return [float(exact / len(values))] if values else []
        if not values:
            return []
        return [min(values) if agg.func == "min" else max(values)]

    def run(self, strata: int | None = None) -> None:
        for stratum in self.program.strata[:strata]:
            rules = [r for r in self.program.rules if r.head.relation in stratum]
            changed = True
            while changed:
                changed = False
                for rule in rules:
                    types = self.program.relations[rule.head.relation].types
                    derived = [_coerce((a.value if isinstance(a, ast.Const) else env[a.name]
                                        for a in rule.head.args), types)
                               for env in self.solve(rule.body, {})]
                    table = self.db[rule.head.relation]
                    for row in derived:
                        if row not in table:
                            table.add(row)
                            changed = True


def evaluate(program: Program, inputs: Mapping[str, Iterable[Row]] | None = None,
             as_of: int | None = None, strata: int | None = None) -> dict[str, set[Row]]:
    """Every relation's tuples given input rows; `as_of` keeps events with time <= as_of;
    `strata`: evaluate only that many strata (the lowest)."""
    inputs = {name: list(rows) for name, rows in (inputs or {}).items()}
    db: dict[str, set[Row]] = {name: set() for name in program.relations}
    for name, rows in inputs.items():
        relation = program.relations[name]
        for row in rows:
            if as_of is None or not relation.is_event or row[relation.time_column] <= as_of:
                db[name].add(_coerce(row, relation.types))
    _Evaluator(program, db, inputs, as_of).run(strata)
    return db


def query(program: Program, db: dict[str, set[Row]], text: str,
          inputs: Mapping[str, Iterable[Row]] | None = None,
          as_of: int | None = None) -> list[Row]:
    """A query's sorted, distinct answers over an evaluated database (`inputs` and `as_of`,
    the ones it was evaluated from, are needed only by a query with `@` in it)."""
    planned = analyse_query(program, text)
    evaluator = _Evaluator(program, db, {n: list(r) for n, r in (inputs or {}).items()}, as_of)
    rows = {tuple(env[c] for c in planned.columns) for env in evaluator.solve(planned.body, {})}
    return sorted(rows, key=lambda row: tuple((isinstance(v, str), v) for v in row))
