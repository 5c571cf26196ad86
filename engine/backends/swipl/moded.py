"""Untabled forms of derived relations planned for a call's bound arguments (`'am:p:bf…'`)."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from engine.analysis.planner import NO_STATISTICS, Statistics, plan_literals
from engine.analysis.program import Program
from engine.backends.swipl.clause import ClauseCompiler, CompileError, assigned_names
from engine.backends.swipl.prefix_index import Site, site_clauses
from engine.backends.swipl.prolog_text import call as _call
from engine.backends.swipl.prolog_text import conj as _conj
from engine.backends.swipl.prolog_text import indent as _indent
from engine.backends.swipl.prolog_text import predicate as _q
from engine.backends.swipl.prolog_text import variables as _vars
from engine.lang import ast

# `'at:p'` (p's rules untabled, for `p @ t`) runs each body in its written order: asked
# `pending_order(o, "client-3", "AAPL", …)` it scans every accepted order before it reads
# the client's. A moded form `'am:p:fbbfff'` is p's rules planned with the bound head
# arguments known (the join planner, with the engine's statistics), reading what they read
# through moded forms too. Forms are made when a query first needs them and loaded into the
# engine's module next to its rules; they read the same time indexes and answer the same.


class ModedForms:
    """Makes and remembers the moded forms of one compiled program."""

    def __init__(self, program: Program, kinds: Mapping[str, str], sites: Mapping[str, Site],
                 module: str):
        self.program = program
        self.kinds = dict(kinds)
        self.module = module
        self._sites = sites
        self.stats: Statistics = NO_STATISTICS
        self.lock = threading.Lock()  # guards the sets below and loading new forms
        self.defined: set[str] = set()  # forms loaded into the module
        self._wanted: dict[str, tuple[str, str]] = {}  # name -> (relation, mode), to make

    # -- what ClauseCompiler asks of its program (clause.ProgramContext, clause.Forms)

    def request(self, relation: str, mode: str) -> str:
        name = _q("am", f"{relation}:{mode}")
        if name not in self.defined:
            self._wanted.setdefault(name, (relation, mode))
        return name

    def site_for(self, aggregate: ast.Aggregate, shape) -> Site | None:
        """An index the program keeps already (none can be made after its facts came)."""
        return self._sites.get("".join(site_clauses(self, aggregate, shape)))

    def add_aggregate_table(self, owner, keys, goals) -> str:
        raise CompileError("a moded form computes its aggregates inline")

    # -- making forms

    def take_text(self) -> tuple[list[str], str]:
        """The forms requested and not made yet, and those they read, as Prolog text (call
        with `lock` held; add the names to `defined` once the text is loaded)."""
        made: dict[str, list[str]] = {}
        while self._wanted:
            name, (relation, mode) = self._wanted.popitem()
            if name in made or name in self.defined:
                continue
            made[name] = self._clauses(name, relation, mode)
        return list(made), "\n".join(c for clauses in made.values() for c in clauses) + "\n"

    def _clauses(self, name: str, relation: str, mode: str) -> list[str]:
        args = _vars("A", self.program.relations[relation].arity)
        clauses = [f"{name}({', '.join(['_'] + args)}) :- {_call('b', relation, args)}."]
        for rule in self.program.rules_for(relation):
            if rule.is_fact and all(isinstance(a, ast.Const) for a in rule.head.args):
                continue  # asserted as a fact of 'b:p'
            clauses.append(self._rule(name, rule, mode))
        return clauses

    def _rule(self, name: str, rule: ast.Rule, mode: str) -> str:
        entry = _head_bound(self.program, rule, mode)
        planned = plan_literals(rule.body, entry, self.stats) if entry else rule.body
        if entry and not _same_aggregate_keys(rule.body, entry):
            planned, entry = rule.body, set()  # see _same_aggregate_keys
        try:
            return self._compile(name, rule, planned, entry)
        except CompileError:  # an order the compiler cannot follow: the written one
            return self._compile(name, rule, rule.body, set())

    def _compile(self, name: str, rule: ast.Rule, body, entry: set[str]) -> str:
        clause = ClauseCompiler(self, sites=True, direct=True, forms=self,
                                assigned=assigned_names(rule.body) & entry)
        bound = set(entry)
        goals = clause.body(body, clause.scope, bound)
        more, head_args = clause.head(rule.head, bound)
        goals += more
        head = f"{name}({', '.join(['AsOf'] + head_args)})"
        return f"{head} :-\n    {_indent(_conj(goals + ['true']))}."


def _head_bound(program: Program, rule: ast.Rule, mode: str) -> set[str]:
    """The variables a call in `mode` binds through the head: a variable argument at a bound
    position (not in a float column: there the head holds its float, computed last)."""
    types = program.relations[rule.head.relation].types
    return {arg.name for arg, flag, type_ in zip(rule.head.args, mode, types)
            if flag == "b" and isinstance(arg, ast.Var) and type_ != "float"}


def _same_aggregate_keys(body, entry: set[str]) -> bool:
    """Whether every aggregate keeps its group keys when `entry` is bound first. Its keys
    are the variables bound before it in the rule's order; one bound by the head would
    become a key (and the aggregate one per value) if it was not bound there already."""
    bound: set[str] = set()
    for literal in body:
        if isinstance(literal, ast.Atom):
            bound |= {a.name for a in literal.args if isinstance(a, ast.Var)}
            continue
        if isinstance(literal, ast.AsOf):
            if not literal.negated:
                bound |= {a.name for a in literal.atom.args if isinstance(a, ast.Var)}
            continue
        for aggregate in (n for n in ast.walk(literal) if isinstance(n, ast.Aggregate)):
            if ({n.name for n in ast.walk(aggregate) if isinstance(n, ast.Var)}
                    & entry) - bound:
                return False
        if isinstance(literal, ast.Comparison) and literal.op == "=":
            for target in (literal.left, literal.right):
                if isinstance(target, ast.Var) and target.name not in bound:
                    bound.add(target.name)
                    break
    return True
