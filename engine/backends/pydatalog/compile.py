"""pyDatalog compilation: a Program's rules and a query's body to clause specs and resolvers."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from pyDatalog import pyEngine

from engine.analysis.check import Query
from engine.analysis.program import Program, Relation
from engine.analysis.safety import all_var_names
from engine.backends.pydatalog.functions import check_cancelled, compile_expr
from engine.builtins import AGGREGATES, COMPARISONS, NoValue, expression_type
from engine.lang import ast

# Specs are plain data: pyDatalog's objects belong to the thread that made them, so the
# worker thread turns specs into clauses (engine/pydatalog_eval.py). Arithmetic, tests that
# are not a plain comparison, float coercion and aggregates become Python resolvers,
# pyDatalog's hook for predicates computed by code; everything else is pyDatalog clauses.

Value = str | int | float
Arg = tuple[str, Value]  # ("v", variable name) or ("c", constant)
SIMPLE = (ast.Var, ast.Const)

_serial = itertools.count(1)


def pred(relation: str) -> str:
    """pyDatalog's name for a relation; the prefix keeps clear of its built-in names."""
    return "@" + relation


def negated(relation: str) -> str:
    return "~@" + relation


@dataclass(frozen=True)
class Lit:
    pred: str
    args: tuple[Arg, ...]


@dataclass(frozen=True)
class ClauseSpec:
    head: Lit
    body: tuple[Lit, ...]


@dataclass
class PastReader:
    """How an as-of literal's resolver reads a relation at another time (`p @ t`): the
    backend sets `read(relation, time)` to the relation's tuples as of min(t, the query's
    own as-of time)."""

    read: Callable[[str, Value], frozenset[tuple]] | None = None


@dataclass
class Compiled:
    """What a program or a query needs besides its own clauses."""

    resolvers: dict[str, Callable[..., Iterator[tuple]]] = field(default_factory=dict)
    helpers: list[ClauseSpec] = field(default_factory=list)  # aggregate bodies
    past: PastReader = field(default_factory=PastReader)


@dataclass
class CompiledProgram(Compiled):
    strata: list[tuple[tuple[str, ...], list[ClauseSpec]]] = field(default_factory=list)
    facts: dict[str, set[tuple]] = field(default_factory=dict)
    reads: dict[str, set[str]] = field(default_factory=dict)  # relation -> what its rules read
    helpers_of: dict[str, list[ClauseSpec]] = field(default_factory=dict)  # by relation

    def needs(self, relations) -> set[str]:
        """`relations` and every relation they depend on, through any rule."""
        found, todo = set(), list(relations)
        while todo:
            name = todo.pop()
            if name not in found:
                found.add(name)
                todo.extend(self.reads.get(name, ()))
        return found


@dataclass
class CompiledQuery(Compiled):
    clause: ClauseSpec | None = None
    columns: tuple[str, ...] = ()
    reads: set[str] = field(default_factory=set)  # relations the query's body reads


def coerce(value: Value, type_: str | None) -> Value:
    """A value as its column stores it: a float column holds floats, even if given 1."""
    return float(value) if type_ == "float" and not isinstance(value, str) else value


class _Compiler:
    def __init__(self, relations: dict[str, Relation], out: Compiled):
        self.relations = relations
        self.out = out
        self.prefix = f"_tl{next(_serial)}"
        self.count = itertools.count(1)

    def fresh(self, stem: str) -> str:
        # '#' cannot start a .dl variable, so fresh names never clash with the user's
        return f"#{stem}{next(self.count)}"

    def resolver(self, stem: str, arity: int, function) -> str:
        name = f"{self.prefix}{stem}{next(self.count)}"
        self.out.resolvers[f"{name}/{arity}"] = function
        return name

    # ---- rules

    def rule(self, rule: ast.Rule) -> ClauseSpec:
        types: dict[str, str | None] = {}
        body, _ = self.body(rule.body, [], types)
        columns = self.relations[rule.head.relation].types
        head: list[Arg] = []
        for arg, type_ in zip(rule.head.args, columns):
            if isinstance(arg, ast.Const):
                head.append(("c", coerce(arg.value, type_)))
            elif type_ == "float" and types.get(arg.name) != "float":
                target = self.fresh("f")
                body.append(self.to_float(arg.name, target))
                head.append(("v", target))
            else:
                head.append(("v", arg.name))
        return ClauseSpec(Lit(pred(rule.head.relation), tuple(head)), tuple(body))

    def body(self, literals, bound: list[str], types: dict[str, str | None]
             ) -> tuple[list[Lit], list[str]]:
        """Clause body literals, and the variables bound after them in binding order."""
        bound = list(bound)
        out: list[Lit] = []

        def bind(name: str) -> None:
            if name not in bound:
                bound.append(name)

        for literal in literals:
            if isinstance(literal, ast.Atom):
                args = self.args(literal.args)
                out.append(Lit(pred(literal.relation), args))
                column_types = self.relations[literal.relation].types
                for (kind, name), type_ in zip(args, column_types):
                    if kind == "v":
                        types.setdefault(name, type_)
                        bind(name)
            elif isinstance(literal, ast.Negation):
                out.append(Lit(negated(literal.atom.relation), self.args(literal.atom.args)))
            elif isinstance(literal, ast.AsOf):
                out.append(self.as_of(literal))
                column_types = self.relations[literal.atom.relation].types
                for arg, type_ in zip(literal.atom.args, column_types):
                    if isinstance(arg, ast.Var) and not literal.negated:
                        types.setdefault(arg.name, type_)
                        bind(arg.name)
            elif isinstance(literal.right, ast.Aggregate):
                out.append(self.aggregate(literal.left.name, literal.right, bound, types))
                bind(literal.left.name)
            else:
                target = _assignment(literal, bound)
                if target is not None:
                    name, source = target
                    types[name] = expression_type(source, types)
                    out.append(self.assign(name, source))
                    bind(name)
                else:
                    out.append(self.test(literal))
        return out, bound

    def args(self, terms) -> tuple[Arg, ...]:
        args: list[Arg] = []
        for term in terms:
            if isinstance(term, ast.Var):
                args.append(("v", term.name))
            elif isinstance(term, ast.Const):
                args.append(("c", term.value))
            else:  # a wildcard: its own variable, so it matches anything
                args.append(("v", self.fresh("w")))
        return tuple(args)

    def as_of(self, literal: ast.AsOf) -> Lit:
        """`p(…) @ t`: a resolver matching the atom against p as of t (PastReader), which
        the backend evaluates over the facts up to that time; the time comes first."""
        relation, negate, past = literal.atom.relation, literal.negated, self.out.past
        kept = [i for i, arg in enumerate(literal.atom.args)  # a wildcard is not passed
                if not isinstance(arg, ast.Wildcard)]

        def resolve(time, *pattern):
            check_cancelled()
            (at,) = _constants((time,))
            found = {tuple(row[i] for i in kept) for row in past.read(relation, at)}
            found = [row for row in found
                     if all(not p.is_const() or p.id == v for p, v in zip(pattern, row))]
            if negate:  # safety bound every variable: the pattern is all constants
                if not found:
                    yield (at, *_constants(pattern))
                return
            for row in found:
                yield (at, *row)

        args = self.args([literal.time]) + self.args([literal.atom.args[i] for i in kept])
        return Lit(self.resolver("at", len(args), resolve), args)

    # ---- builtins

    def assign(self, name: str, source: ast.Term) -> Lit:
        if isinstance(source, SIMPLE):
            return Lit("==", (("v", name), self.args([source])[0]))
        inputs = _vars_of(source)
        compute = compile_expr(source, {n: i for i, n in enumerate(inputs)})

        def resolve(*terms):
            check_cancelled()
            values = _constants(terms[:-1])
            try:
                result = compute(values)
            except NoValue:
                return
            yield values + (result,)

        return Lit(self.resolver("x", len(inputs) + 1, resolve),
                   tuple(("v", n) for n in inputs) + (("v", name),))

    def test(self, comparison: ast.Comparison) -> Lit:
        left, right = comparison.left, comparison.right
        if isinstance(left, SIMPLE) and isinstance(right, SIMPLE):
            return Lit(COMPARISONS[comparison.op].pydatalog, self.args([left, right]))
        inputs = _vars_of(comparison)
        index = {n: i for i, n in enumerate(inputs)}
        left_of, right_of = compile_expr(left, index), compile_expr(right, index)
        holds = COMPARISONS[comparison.op].apply

        def resolve(*terms):
            check_cancelled()
            values = _constants(terms)
            try:
                if holds(left_of(values), right_of(values)):
                    yield values
            except NoValue:
                return

        return Lit(self.resolver("c", len(inputs), resolve), tuple(("v", n) for n in inputs))

    def to_float(self, source: str, target: str) -> Lit:
        def resolve(value, _):
            check_cancelled()
            (number,) = _constants((value,))
            yield number, coerce(number, "float")

        return Lit(self.resolver("f", 2, resolve), (("v", source), ("v", target)))

    def aggregate(self, result: str, agg: ast.Aggregate, bound: list[str],
                  types: dict[str, str | None]) -> Lit:
        """`result = agg{body}`: a helper clause answers the body per group, and a resolver
        folds its answers. Group keys are the aggregate's variables bound before it; the
        aggregate runs over the distinct bindings of all its other variables."""
        keys = [n for n in bound if n in all_var_names(agg)]
        inner_types = dict(types)
        body, inner_bound = self.body(agg.body, keys, inner_types)
        target = None
        if agg.target is not None:
            target = agg.target.name if isinstance(agg.target, ast.Var) else self.fresh("t")
            if not isinstance(agg.target, ast.Var):
                inner_types[target] = expression_type(agg.target, inner_types)
                body.append(self.assign(target, agg.target))
                inner_bound.append(target)
        columns = keys + [n for n in inner_bound if n not in keys]
        helper = Lit(f"{self.prefix}b{next(self.count)}", tuple(("v", n) for n in columns))
        self.out.helpers.append(ClauseSpec(helper, tuple(body)))
        position = columns.index(target) if target is not None else None
        is_float = target is not None and inner_types.get(target) == "float"
        function = AGGREGATES[agg.func]
        types[result] = function.result_type(inner_types.get(target))
        apply, width = function.apply, len(columns) - len(keys)

        def resolve(*terms):
            check_cancelled()
            group = _constants(terms[:-1])
            literal = pyEngine.Literal(helper.pred, [pyEngine.Const(v) for v in group]
                                       + [pyEngine.Var(f"#a{i}") for i in range(width)])
            rows = ask_nested(literal)
            values = [row[position] for row in rows] if position is not None else rows
            for value in apply(values, is_float):
                yield group + (value,)

        name = self.resolver("a", len(keys) + 1, resolve)
        return Lit(name, tuple(("v", n) for n in keys) + (("v", result),))


def ask_nested(literal) -> list[tuple]:
    """Ask pyDatalog from inside a resolver. `ask` saves the running query's state but skips
    restoring it when the answer is `True`, so this restores it whatever happens."""
    logic = pyEngine.Logic.tl.logic
    saved = (logic.Tasks, logic.Recursive_Tasks, logic.Recursive, logic.Subgoals, logic.Goal)
    try:
        answers = literal.ask()
    finally:
        (logic.Tasks, logic.Recursive_Tasks, logic.Recursive, logic.Subgoals,
         logic.Goal) = saved
    return [()] if answers is True else list(answers)


def _constants(terms) -> tuple:
    if not all(term.is_const() for term in terms):
        # the planner orders bodies so that builtins see bound inputs; this is a bug
        raise RuntimeError(f"builtin called with unbound input: {[str(t) for t in terms]}")
    return tuple(term.id for term in terms)


def _assignment(comparison: ast.Comparison, bound: list[str]):
    """(variable, source) when `comparison` gives a value to a variable not bound yet."""
    if comparison.op != "=":
        return None
    for target, source in ((comparison.left, comparison.right),
                           (comparison.right, comparison.left)):
        if isinstance(target, ast.Var) and target.name not in bound:
            return target.name, source
    return None


def _vars_of(node) -> list[str]:
    terms = (node.left, node.right) if isinstance(node, ast.Comparison) else (node,)
    return list(dict.fromkeys(v.name for term in terms for v in ast.term_vars(term)))


# ---- entry points -------------------------------------------------------------------

def compile_program(program: Program) -> CompiledProgram:
    out = CompiledProgram()
    compiler = _Compiler(program.relations, out)
    for stratum in program.strata:
        rules = []
        for name in stratum:
            types = program.relations[name].types
            for rule in program.rules_for(name):
                if rule.is_fact:
                    row = tuple(coerce(arg.value, t) for arg, t in zip(rule.head.args, types))
                    out.facts.setdefault(name, set()).add(row)
                else:
                    first_helper = len(out.helpers)
                    rules.append(compiler.rule(rule))
                    out.helpers_of.setdefault(name, []).extend(out.helpers[first_helper:])
                    out.reads.setdefault(name, set()).update(
                        atom.relation for atom, _ in ast.body_atoms(rule.body))
        out.strata.append((stratum, rules))
    return out


def compile_query(program: Program, query: Query, past: PastReader | None = None
                  ) -> CompiledQuery:
    out = CompiledQuery(columns=query.columns,
                        reads={atom.relation for atom, _ in ast.body_atoms(query.body)},
                        past=past or PastReader())
    compiler = _Compiler(program.relations, out)
    body, _ = compiler.body(query.body, [], {})
    head = Lit(f"{compiler.prefix}q", tuple(("v", n) for n in query.columns))
    out.clause = ClauseSpec(head, tuple(body))
    return out
