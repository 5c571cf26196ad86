"""Bottom-up evaluation of "now": each derived relation computed once per stratum, semi-naive."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from engine.analysis.planner import NO_STATISTICS, Statistics, plan_literals
from engine.analysis.program import Program
from engine.analysis.stratify import components, dependency_edges
from engine.backends.swipl import ranges
from engine.backends.swipl.clause import CompileError
from engine.backends.swipl.increment import REDONE, IncrementalStep
from engine.backends.swipl.joins import split_recursive_joins
from engine.backends.swipl.kept import KeptAggregate, kept_shape
from engine.backends.swipl.keyed import delta_first
from engine.backends.swipl.materialised import NOW, MaterialisedClause, ground_fact
from engine.backends.swipl.prefix_index import Site, site_clauses
from engine.backends.swipl.prolog_text import call as _call
from engine.backends.swipl.prolog_text import conj as _conj
from engine.backends.swipl.prolog_text import indent as _indent
from engine.backends.swipl.prolog_text import predicate as _q
from engine.backends.swipl.prolog_text import variables as _vars
from engine.backends.swipl.time_index import PrefixShape
from engine.lang import ast

# Goal-directed tabling makes one table per call pattern: `is_ptr(V, O)` called with V
# bound builds a table per variable, each completed on its own, and a points-to analysis
# runs out of table space (docs/architecture.md has the measurements). Here "now" is
# computed bottom-up instead, as a Datalog engine does: every derived relation is stored as
# dynamic facts `'m:p'(A1, …, An)`, its strongly connected components evaluated in
# dependency order, each recursive one by semi-naive iteration — every rule is run once per
# round for each of its atoms over the component, that atom reading only the tuples the
# previous round added (`'d0:p'`/`'d1:p'`, by the round's parity), the others reading
# everything. SWI-Prolog's JIT indexes any argument bound at a call, so each join is an
# indexed lookup. Every body is ordered by the join planner, its delta atom first.
# As-of queries keep the tabled path (tables per as-of time, the time index).

# Counts, sums and means over one derived atom kept per group and moved by its delta
# (kept.py; False: aggregated again per group, to measure against; bench/ticks.py --compare).
COUNT_DELTAS = True
# A semi-naive variant turns `m = n - 1` round when its delta holds m (keyed.delta_first;
# False: as analysed, to measure against).
TURN_ASSIGNMENTS = True
DONE = "'bu:done'"  # 'bu:done'(k): component k is materialised (and clean when state is)
__all__ = ["DONE", "NOW", "REDONE", "BottomUpCompiler", "bottom_up_plan", "compile_now_query"]


@dataclass
class BottomUpCompiler(IncrementalStep):
    """The predicates of bottom-up evaluation for one compiled program: `'bu:scc'(k)`
    computes component k from scratch, `'bu:incr'` brings the materialised ones up to date
    from what arrived; `cone` says which components a reader needs (now_state.py)."""

    program: Program
    kinds: Mapping[str, str]
    stats: Statistics = NO_STATISTICS
    plan_joins: bool = True  # False: bodies in the analysed (written) order, to measure
    clauses: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    dynamic: dict[str, int] = field(default_factory=dict)
    plans: dict[int, list[tuple[str, tuple[ast.Literal, ...]]]] = field(
        default_factory=lambda: defaultdict(list))
    helpers: dict[str, tuple[str, int]] = field(default_factory=dict)  # text -> (name, arity)
    emit_helpers: bool = True
    helper_clauses: list[str] = field(default_factory=list)
    tracked: set[str] = field(default_factory=set)  # event/view relations whose news count
    deltas: set[tuple[str, str]] = field(default_factory=set)  # ('de'|'dn', relation)
    component_of: dict[str, int] = field(default_factory=dict)  # derived relation -> k
    below: dict[int, set[int]] = field(default_factory=dict)  # k -> components it reads
    sites: Mapping[str, Site] = field(default_factory=dict)  # the program's prefix indexes
    kept: dict[str, KeptAggregate] = field(default_factory=dict)  # by store name
    count_deltas: bool = field(default_factory=lambda: COUNT_DELTAS)
    time_columns: dict[str, frozenset[int]] = field(default_factory=dict)  # ranges.py

    # the interface ClauseCompiler uses
    def add_aggregate_table(self, owner: str, keys: list[str], goals: list[str]) -> str:
        """An aggregate per group, computed once per group and evaluation step: its value (or
        that it has none) is kept in `'bmemo:…'` until the step ends. Helpers are loaded
        once with the program, so a new plan reuses them by their text. (They were tabled:
        abolishing their tables before each step walked every table SWI-Prolog had made for
        them since the start, ~10 ms each a tick at 350k facts.)"""
        body = _conj(goals)
        key = re.sub(r"\bL\d+_", "L_", f"{owner}({', '.join(keys)}) :- {body}")
        if key not in self.helpers:
            if not self.emit_helpers:
                raise CompileError(f"a new plan needs an aggregate helper not loaded: {key}")
            name = _q("bagg", f"{owner}:{len(self.helpers) + 1}")
            self.helpers[key] = (name, len(keys) + 2)
            args = ", ".join(["AsOf", *keys])
            self.helper_clauses.append(
                f"{name}({args}, R) :-\n"
                f"    (   {memo(name)}({args}, Value)\n    ->  true\n"
                f"    ;   (   {_indent(_indent(_indent(body)))}\n"
                f"        ->  Value = some(R)\n        ;   Value = none\n        ),\n"
                f"        assertz({memo(name)}({args}, Value))\n    ),\n"
                f"    Value = some(R).")
        return self.helpers[key][0]

    def kept_for(self, owner: str, aggregate: ast.Aggregate,
                 bound: set[str]) -> KeptAggregate | None:
        """The kept aggregate answering `aggregate` in a rule of `owner`, if it is one
        (kept.py); named by its text, so that every plan finds the same store."""
        shape = kept_shape(self.program, self.kinds, aggregate, bound) \
            if self.count_deltas else None
        if shape is None:
            return None
        read = f"{shape['relation']}({','.join(shape['args'])})"
        if shape["func"] != "count":
            read = f"{shape['func']} {shape['target']} of {read}"
        name = f"{owner}:{read}" + "".join(f" if {f}" for f in shape["filters"])
        if name not in self.kept:
            self.kept[name] = kept = KeptAggregate(owner, name, **shape)
            self.dynamic[kept.store] = 1
            self._shrank(kept.relation)  # declares 'dr:<relation>', read by kept.apply
            self.clauses.update(kept.clauses())
        return self.kept[name]

    def site_for(self, aggregate: ast.Aggregate, shape: PrefixShape) -> Site | None:
        """The prefix-aggregate index the program keeps for `aggregate`, if any: a windowed
        count over events is then two binary searches per group, not a scan of the group."""
        on_clause, src_clause = site_clauses(self, aggregate, shape)
        return self.sites.get(on_clause + src_clause)

    # ---- the program

    def run(self) -> str:
        given = set(self.kinds)
        self.program, self.kinds = split_recursive_joins(self.program, self.kinds)
        self.time_columns = ranges.time_columns(self.program, self.kinds)
        self.clauses["'tl:latest'/1"].append(ranges.latest_clause(
            self.kinds, self.program.relations, self.time_columns, given))
        derived = [n for n, k in self.kinds.items() if k == "tabled"]
        rules = [r for r in self.program.rules
                 if r.head.relation in self.kinds and self.kinds[r.head.relation] == "tabled"
                 and not ground_fact(r)]
        edges = [e for e in dependency_edges(rules) if self.kinds.get(e.body) == "tabled"]
        sccs = components(derived, edges)
        self_loops = {e.head for e in edges if e.head == e.body}
        for k, scc in enumerate(sccs, 1):
            self.component_of.update((name, k) for name in scc)
            self.below[k] = set()
        for e in edges:
            if self.component_of[e.head] != self.component_of[e.body]:
                self.below[self.component_of[e.head]].add(self.component_of[e.body])
        for name in derived:
            arity = self.program.relations[name].arity
            self.dynamic[_q("m", name)] = arity
            args = _vars("A", arity)
            if name in given:  # a relation of the program may be given facts too
                self.clauses[_q("bu:all", name)].append(
                    f"{_call('bu:all', name, args)} :- {_call('b', name, args)}.")
        increments = []
        for k, scc in enumerate(sccs, 1):
            members = set(scc)
            recursive = len(scc) > 1 or scc[0] in self_loops
            for name in scc:
                self._new(name)
                for rule in self.program.rules_for(name):
                    if not ground_fact(rule):
                        self._full_rule(rule)
                        self._seed_rules(rule, members)
                        if recursive:
                            self._delta_rules(rule, members)
            self.clauses["'bu:scc'/1"].append(f"'bu:scc'({k}) :- {_q('bu:scc', str(k))}.")
            # only a materialised component is maintained: its cone is materialised too
            increments.append(f"( {DONE}({k}) -> {_q('bu:inc', str(k))} ; true )")
            (self._recursive if recursive else self._flat)(k, scc)
            self._increment(k, scc, recursive)
        self._count_hooks()
        drops = [f"retractall({memo(name)}({', '.join(['_'] * n)}))"
                 for name, n in self.helpers.values()]
        self.clauses["'bu:drop_helpers'/0"].append(
            f"'bu:drop_helpers' :-\n    {_indent(_conj(drops or ['true']))}.")
        first = [*drops, f"retractall({REDONE}(_))"]
        self.clauses["'bu:incr'/0"].append(
            f"'bu:incr' :-\n    {_indent(_conj(first + increments))}.")
        clear = [f"retractall({_call(kind, name, ['_'] * self.program.relations[name].arity)})"
                 for kind, name in sorted(self.deltas)] + drops  # no value kept past a step
        self.clauses["'bu:clear'/0"].append(
            f"'bu:clear' :-\n    {_indent(_conj(clear))}.")
        return self.text()

    def _count_hooks(self) -> None:
        """`'bu:counts_clear'(k)` and `'bu:counts_apply'(k)`: the kept aggregates that component
        k's rules read, emptied when k is evaluated from scratch, moved by the step's
        differences before k's incremental step."""
        by_component: dict[int, list[KeptAggregate]] = defaultdict(list)
        for kept in self.kept.values():
            by_component[self.component_of[kept.owner]].append(kept)
        for hook, goal in (("'bu:counts_clear'", lambda c: c.clear()),
                           ("'bu:counts_apply'", lambda c: c.apply(REDONE))):
            for k, counts in sorted(by_component.items()):
                self.clauses[f"{hook}/1"].append(
                    f"{hook}({k}) :-\n    !,\n    "
                    f"{_indent(_conj([goal(c) for c in counts]))}.")
            self.clauses[f"{hook}/1"].append(f"{hook}(_).")

    # ---- storing tuples, and the rules of full evaluation

    def _new(self, name: str) -> None:
        """`'bu:new:p'(Mode, Next, Args…)`: store a tuple unless stored; put it in the next
        round's delta (Next: 0, 1 or none) and, incrementally (Mode inc), in `'dn:p'`."""
        arity = self.program.relations[name].arity
        args = _vars("A", arity)
        self.dynamic[_q("dn", name)] = arity
        self.deltas.add(("dn", name))
        self.clauses[_q("bu:new", name)].append(
            f"{_call('bu:new', name, ['Mode', 'Next'] + args)} :-\n"
            f"    (   {_call('m', name, args)}\n    ->  true\n"
            f"    ;   assertz({_call('m', name, args)}),\n"
            f"        ( Mode == inc -> assertz({_call('dn', name, args)}) ; true ),\n"
            f"        (   Next == 0\n        ->  assertz({_call('d0', name, args)})\n"
            f"        ;   Next == 1\n        ->  assertz({_call('d1', name, args)})\n"
            f"        ;   true\n        )\n    ).")

    def _plan(self, rule: ast.Rule, delta: ast.Atom | None = None,
              step: bool = False) -> tuple[ast.Literal, ...]:
        if not self.plan_joins:
            return rule.body
        body = rule.body if delta is None or not TURN_ASSIGNMENTS \
            else delta_first(self.program, rule.body, delta)
        return plan_literals(body, stats=self.stats, delta=delta, step=step)

    def _compile(self, predicate: str, extra: list[str], rule: ast.Rule,
                 body: tuple[ast.Literal, ...], delta=None, twins: bool = False) -> None:
        clause = MaterialisedClause(self, owner=rule.head.relation, delta=delta, twins=twins)
        bound: set[str] = set()
        goals = clause.body(body, clause.scope, bound)
        more, head_args = clause.head(rule.head, bound)
        head = f"{predicate}({', '.join(extra + head_args)})"
        self.clauses[predicate].append(
            f"{head} :-\n    {_indent(_conj([f'AsOf = {NOW}'] + goals + more))}.")

    def _full_rule(self, rule: ast.Rule) -> None:
        body = self._plan(rule)
        self.plans[id(rule)].append(("all", body))
        self._compile(_q("bu:all", rule.head.relation), [], rule, body)

    def _delta_rules(self, rule: ast.Rule, members: set[str]) -> None:
        """One variant per atom of the rule over its own component: that atom reads the
        last round's new tuples, the others everything."""
        for atom in rule.body:
            if isinstance(atom, ast.Atom) and atom.relation in members:
                body = self._plan(rule, delta=atom)
                self.plans[id(rule)].append((f"delta {atom.relation}", body))
                for parity in ("0", "1"):
                    self._compile(_q("bu:step", rule.head.relation), [parity], rule, body,
                                  delta=(atom, f"d{parity}"))

    # ---- evaluation of one component

    def _clear(self, name: str, kinds: Sequence[str]) -> list[str]:
        blank = ", ".join(["_"] * self.program.relations[name].arity)
        return [f"retractall({_q(kind, name)}({blank}))" for kind in kinds]

    def _flat(self, k: int, scc: list[str]) -> None:
        (name,) = scc
        args = ", ".join(_vars("A", self.program.relations[name].arity))
        goals = [f"'bu:counts_clear'({k})"] + self._clear(name, ["m"]) + [
            f"findall(t({args}), {_q('bu:all', name)}({args}), Found)",
            "sort(Found, Tuples)",
            f"forall(member(t({args}), Tuples), assertz({_q('m', name)}({args})))"]
        self.clauses[_q("bu:scc", str(k))].append(
            f"{_q('bu:scc', str(k))} :-\n    {_indent(_conj(goals))}.")

    def _recursive(self, k: int, scc: list[str]) -> None:
        scc_name, loop = _q("bu:scc", str(k)), _q("bu:loop", str(k))
        start = [f"'bu:counts_clear'({k})"]
        for name in scc:
            arity = self.program.relations[name].arity
            args = _vars("A", arity)
            for kind in ("d0", "d1"):
                self.dynamic[_q(kind, name)] = arity
            start += self._clear(name, ["m", "d0", "d1"])
        for name in scc:
            args = _vars("A", self.program.relations[name].arity)
            start.append(f"forall({_call('bu:all', name, args)}, "
                         f"{_call('bu:new', name, ['full', '1'] + args)})")
        self.clauses[scc_name].append(
            f"{scc_name} :-\n    {_indent(_conj(start + [f'{loop}(full, 1)']))}.")
        for parity, following in (("0", "1"), ("1", "0")):
            empty, rounds, clear = [], [], []
            for name in scc:
                arity = self.program.relations[name].arity
                args = _vars("A", arity)
                empty.append(f"\\+ {_q('d' + parity, name)}({', '.join(['_'] * arity)})")
                if self.clauses.get(_q("bu:step", name)):
                    rounds.append(f"forall({_call('bu:step', name, [parity] + args)}, "
                                  f"{_call('bu:new', name, ['Mode', following] + args)})")
                clear += self._clear(name, ["d" + parity])
            self.clauses[loop].append(
                f"{loop}(Mode, {parity}) :-\n"
                f"    (   {_indent(_conj(empty))}\n    ->  true\n"
                f"    ;   {_indent(_conj(rounds + clear + [f'{loop}(Mode, {following})']))}"
                "\n    ).")

    def cone(self, relations) -> list[int]:
        """The components a reader of `relations` needs, closed downward, in evaluation
        order (lower first)."""
        todo = [self.component_of[r] for r in relations if r in self.component_of]
        found: set[int] = set()
        while todo:
            k = todo.pop()
            if k not in found:
                found.add(k)
                todo.extend(self.below[k])
        return sorted(found)

    def declarations(self) -> str:
        """The stored predicates and the aggregate helpers, loaded once with the program (a
        new plan replaces only the rules)."""
        lines = [f":- dynamic(({name}/{arity}))." for name, arity in self.dynamic.items()]
        lines += [f":- dynamic(({memo(name)}/{n}))." for name, n in self.helpers.values()]
        return "\n".join(lines + self.helper_clauses) + "\n"

    def text(self) -> str:
        lines = []
        for clauses in self.clauses.values():
            lines.extend(clauses)
        return "\n".join(lines) + "\n"


def memo(helper: str) -> str:
    """The predicate keeping an aggregate helper's values within one step."""
    return helper.replace("'bagg:", "'bmemo:", 1)


def bottom_up_plan(program: Program, kinds: Mapping[str, str],
                   stats: Statistics = NO_STATISTICS, plan_joins: bool = True,
                   helpers: Mapping[str, tuple[str, int]] | None = None,
                   sites: Mapping[str, Site] | None = None) -> BottomUpCompiler:
    """The bottom-up evaluation of a program, planned with `stats`: `.text()` its rules,
    `.declarations()` its stored predicates, `.plans` each rule's bodies.
    `helpers`: the aggregate helpers already loaded (then no new one may be needed).
    `sites`: the compiled program's prefix-aggregate indexes (CompiledProgram.sites)."""
    compiler = BottomUpCompiler(program, kinds, stats, plan_joins, sites=dict(sites or {}))
    if helpers is not None:
        compiler.helpers, compiler.emit_helpers = dict(helpers), False
    compiler.run()
    return compiler


def compile_now_query(program: Program, kinds: Mapping[str, str], body: Sequence[ast.Literal],
                      columns: Sequence[str], stats: Statistics = NO_STATISTICS,
                      plan_joins: bool = True,
                      sites: Mapping[str, Site] | None = None) -> tuple[str, str]:
    """A query body as (goal, row) over the materialised relations; the goal sets `AsOf`."""
    compiler = BottomUpCompiler(program, kinds, stats, sites=dict(sites or {}))
    compiler.time_columns = ranges.time_columns(program, kinds)
    clause = MaterialisedClause(compiler)
    planned = plan_literals(tuple(body), stats=stats) if plan_joins else tuple(body)
    goals = clause.body(planned, clause.scope, set())
    row = "[" + ", ".join(clause.scope[name] for name in columns) + "]"
    return _conj(goals), row


def statistics_from(answer: Mapping[str, Mapping]) -> Statistics:
    """Planner statistics from `tl_stats`: per relation, its rows and distinct values per
    column, over all the predicates that store it (an event's seq, a view's valid-from
    time left out)."""
    rows: dict[str, int] = defaultdict(int)
    distinct: dict[str, list[int]] = {}
    for name, entry in answer.items():
        kind, _, relation = name.partition(":")
        if entry["rows"] == 0:  # nothing stored (a derived relation not evaluated yet)
            continue
        values = list(entry["distinct"])
        if kind in ("e", "v"):
            values = values[:-1]
        rows[relation] += entry["rows"]
        old = distinct.get(relation)
        distinct[relation] = values if old is None else [max(a, b) for a, b in zip(old, values)]
    return Statistics(dict(rows), distinct)
