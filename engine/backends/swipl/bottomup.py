"""Bottom-up evaluation of "now": each derived relation computed once per stratum, semi-naive."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from engine.analysis.planner import NO_STATISTICS, Statistics, plan_literals
from engine.analysis.program import Program
from engine.analysis.stratify import components, dependency_edges
from engine.backends.swipl.clause import ClauseCompiler, CompileError
from engine.backends.swipl.keyed import (
    affected_body,
    hoist_aggregates,
    key_positions,
    keyed_clauses,
    rederive,
)
from engine.backends.swipl.prefix_index import Site, site_clauses
from engine.backends.swipl.prolog_text import atom as _atom
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

NOW = "1.0Inf"
# A rule whose head holds its `@` time: after new events from time u on, only its tuples
# from u on are derived again (False: in full, to measure against; bench/as_of.py).
TIME_RANGES = True
DONE = "'bu:done'"  # 'bu:done'(k): component k is materialised (and clean when state is)
REDONE = "'bu:redone'"  # 'bu:redone'(p): p was evaluated in full in this incremental step


class MaterialisedClause(ClauseCompiler):
    """Compiles a body that reads derived relations from their materialised tuples, and
    one atom (`delta`) from a delta predicate."""

    def __init__(self, program, *, sites: bool = False, owner: str | None = None,
                 delta: tuple[ast.Atom, str] | None = None, widened: bool = False):
        super().__init__(program, sites=bool(program.sites), owner=owner)
        self.delta = delta
        self.widened = widened  # derived relations read with what they lost in this step
        self._reading: ast.Atom | None = None

    def atom(self, atom: ast.Atom, scope, bound) -> list[str]:
        self._reading = atom
        try:
            return super().atom(atom, scope, bound)
        finally:
            self._reading = None

    def read(self, relation: str, args: list[str], as_of: str = "AsOf") -> list[str]:
        if as_of != "AsOf":  # `p @ t`: p as of t, from the time indexes, not from now's
            return super().read(relation, args, as_of)
        if self.delta is not None and self._reading is self.delta[0]:
            return [_call(self.delta[1], relation, args)]
        if self.program.kinds.get(relation) == "tabled":
            if self.widened:
                return [f"( {_call('m', relation, args)} ; {_call('dr', relation, args)} )"]
            return [_call("m", relation, args)]
        return super().read(relation, args)


@dataclass
class BottomUpCompiler:
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

    # the interface ClauseCompiler uses
    def add_aggregate_table(self, owner: str, keys: list[str], goals: list[str]) -> str:
        """An aggregate per group, tabled: computed once per group and evaluation. Helpers
        are loaded once with the program (redefining a tabled predicate that has tables
        crashes SWI-Prolog 9.0.4), so a new plan reuses them by their text."""
        body = _conj(goals)
        key = re.sub(r"\bL\d+_", "L_", f"{owner}({', '.join(keys)}) :- {body}")
        if key not in self.helpers:
            if not self.emit_helpers:
                raise CompileError(f"a new plan needs an aggregate helper not loaded: {key}")
            name = _q("bagg", f"{owner}:{len(self.helpers) + 1}")
            self.helpers[key] = (name, len(keys) + 2)
            self.helper_clauses.append(
                f"{name}({', '.join(['AsOf', *keys, 'R'])}) :-\n    {_indent(body)}.")
        return self.helpers[key][0]

    def site_for(self, aggregate: ast.Aggregate, shape: PrefixShape) -> Site | None:
        """The prefix-aggregate index the program keeps for `aggregate`, if any: a windowed
        count over events is then two binary searches per group, not a scan of the group."""
        on_clause, src_clause = site_clauses(self, aggregate, shape)
        return self.sites.get(on_clause + src_clause)

    # ---- the program

    def run(self) -> str:
        derived = [n for n, k in self.kinds.items() if k == "tabled"]
        rules = [r for r in self.program.rules
                 if r.head.relation in self.kinds and self.kinds[r.head.relation] == "tabled"
                 and not _ground_fact(r)]
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
            self.clauses[_q("bu:all", name)].append(
                f"{_call('bu:all', name, args)} :- {_call('b', name, args)}.")
        increments = []
        for k, scc in enumerate(sccs, 1):
            members = set(scc)
            recursive = len(scc) > 1 or scc[0] in self_loops
            for name in scc:
                self._new(name)
                for rule in self.program.rules_for(name):
                    if not _ground_fact(rule):
                        self._full_rule(rule)
                        self._seed_rules(rule, members)
                        if recursive:
                            self._delta_rules(rule, members)
            self.clauses["'bu:scc'/1"].append(f"'bu:scc'({k}) :- {_q('bu:scc', str(k))}.")
            # only a materialised component is maintained: its cone is materialised too
            increments.append(f"( {DONE}({k}) -> {_q('bu:inc', str(k))} ; true )")
            (self._recursive if recursive else self._flat)(k, scc)
            self._increment(k, scc, recursive)
        drops = [f"abolish_table_subgoals({name}({', '.join(['_'] * n)}))"
                 for name, n in self.helpers.values()]
        self.clauses["'bu:drop_helpers'/0"].append(
            f"'bu:drop_helpers' :-\n    {_indent(_conj(drops or ['true']))}.")
        first = [*drops, f"retractall({REDONE}(_))"]
        self.clauses["'bu:incr'/0"].append(
            f"'bu:incr' :-\n    {_indent(_conj(first + increments))}.")
        clear = [f"retractall({_call(kind, name, ['_'] * self.program.relations[name].arity)})"
                 for kind, name in sorted(self.deltas)]
        self.clauses["'bu:clear'/0"].append(
            f"'bu:clear' :-\n    {_indent(_conj(clear))}.")
        return self.text()

    # ---- incremental evaluation from the facts that arrived

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

    def _delta_of(self, relation: str) -> str | None:
        """The predicate holding what `relation` gained in an incremental step, if tracked."""
        kind = self.kinds.get(relation)
        if kind in ("event", "view"):
            self.tracked.add(relation)
            self.dynamic[_q("de", relation)] = self.program.relations[relation].arity
            self.deltas.add(("de", relation))
            return "de"
        return "dn" if kind == "tabled" else None

    def _seed_rules(self, rule: ast.Rule, members: set[str]) -> None:
        """One variant per atom over a lower relation: that atom reads what it gained."""
        for atom in rule.body:
            if isinstance(atom, ast.Atom) and atom.relation not in members:
                delta = self._delta_of(atom.relation)
                if delta is not None:
                    body = self._plan(rule, delta=atom)
                    self._compile(_q("bu:seed", rule.head.relation), [], rule, body,
                                  delta=(atom, delta))

    def _grew(self, relation: str) -> str:
        """A test: `relation` gained tuples in this step (a relation written in full: fail,
        a written input relation re-evaluates everything anyway)."""
        blank = ", ".join(["_"] * self.program.relations[relation].arity)
        kind = self.kinds.get(relation)
        if kind in ("event", "view"):
            self._delta_of(relation)
            return f"\\+ \\+ {_q('de', relation)}({blank})"
        return f"\\+ \\+ {_q('dn', relation)}({blank})" if kind == "tabled" else "fail"

    def _shrank(self, relation: str) -> str:
        blank = ", ".join(["_"] * self.program.relations[relation].arity)
        if self.kinds.get(relation) != "tabled":
            return "fail"  # events and views only grow
        self.dynamic[_q("dr", relation)] = self.program.relations[relation].arity
        self.deltas.add(("dr", relation))
        return f"\\+ \\+ {_q('dr', relation)}({blank})"

    def _increment(self, k: int, scc: list[str], recursive: bool) -> None:
        """`'bu:inc:k'`: nothing when no input changed; semi-naive from the inputs' new
        tuples when they only grew where read positively; key by key (keyed.py) when a
        relation of one rule set negates or aggregates what changed; else in full."""
        members = set(scc)
        positive, other, at_reads = set(), set(), set()
        for name in scc:
            for rule in self.program.rules_for(name):
                at_atoms = {id(lit.atom) for lit in ast.as_of_literals(rule.body)}
                for atom, negated in ast.body_atoms(rule.body):
                    if id(atom) in at_atoms:
                        at_reads.add(atom.relation)
                    elif atom.relation not in members:
                        direct = any(lit is atom for lit in rule.body)
                        (positive if direct and not negated else other).add(atom.relation)
        inputs = sorted(positive | other)
        redone = [f"{REDONE}({_atom(r)})" for r in inputs if self.kinds.get(r) == "tabled"]
        lost = [self._grew(r) for r in sorted(other)] + [self._shrank(r) for r in inputs]
        # `p @ t` reads p's past, not its materialised now: what can change it is a new
        # event under p (one at time u changes p @ t for t >= u only, see _range_step)
        past = self._events_under(at_reads)
        past_changed = [self._grew(e) for e in past]
        grew = [self._grew(r) for r in sorted(positive)]
        positions = [] if recursive else key_positions(self.program, self.kinds, scc[0])
        name = _q("bu:inc", str(k))
        marks = [f"assertz({REDONE}({_atom(p)}))" for p in scc]
        seeds = []
        for p in scc:
            if self.clauses.get(_q("bu:seed", p)):
                args = _vars("A", self.program.relations[p].arity)
                seeds.append(f"forall({_call('bu:seed', p, args)}, "
                             f"{_call('bu:new', p, ['inc', '1' if recursive else 'none'] + args)})")
        if recursive:
            seeds.append(f"{_q('bu:loop', str(k))}(inc, 1)")
        full = _indent(_conj([_q("bu:scc", str(k))] + marks))
        branches = []
        if not recursive:  # derived again in full, but what changed is kept for the readers
            (relation,) = scc
            arity = self.program.relations[relation].arity
            self.dynamic[_q("dr", relation)] = arity
            self.deltas.add(("dr", relation))
            full = _q("bu:rederive", relation)
            self.clauses[full].append(rederive(full, relation, _vars("A", arity), "bu:all"))
        column = None if recursive or not past else self._as_of_column(scc[0])
        if positions:  # lost tuples or changed negations and aggregates: key by key
            self.clauses.update(keyed_clauses(
                self.program, self.kinds, relation, positions,
                lambda rule, occurrence: self._affected(rule, occurrence, positions)))
            self._key_rules(relation, positions)
            branches.append((" ; ".join(redone) or "fail", full))
            branches.append((" ; ".join(lost) or "fail", _q("bu:keyed", relation)))
        elif column is not None and TIME_RANGES:  # `@ t` with t in the head: from u on
            branches.append((" ; ".join(redone + lost) or "fail", full))
            step = self._range_step(relation, column, past)
            branches.append((" ; ".join(past_changed), _indent(_conj([step, *seeds]))))
        else:
            branches.append((" ; ".join(redone + lost + past_changed) or "fail", full))
        branches.append((" ; ".join(grew) or "fail", _indent(_conj(seeds or ["true"]))))
        text = "\n    ;   ".join(f"( {test} )\n    ->  {then}" for test, then in branches)
        self.clauses[name].append(f"{name} :-\n    (   {text}\n    ;   true\n    ).")

    def _as_of_column(self, relation: str) -> int | None:
        """A head column that holds, in every rule, the time of each of its `@` literals
        (and a variable in rules without one), so that tuples from time u on are the only
        ones a new event at u can change; None if there is none."""
        found = None
        for rule in self.program.rules_for(relation):
            if _ground_fact(rule):
                continue
            times = {lit.time.name if isinstance(lit.time, ast.Var) else None
                     for lit in ast.as_of_literals(rule.body)}
            if None in times or len(times) > 1:
                return None
            columns = {i for i, arg in enumerate(rule.head.args) if isinstance(arg, ast.Var)
                       and (not times or arg.name in times)}
            found = columns if found is None else found & columns
        return min(found) if found else None

    def _range_step(self, relation: str, column: int, events: list[str]) -> str:
        """`'bu:range_step:p'`: derive again only p's tuples whose time column is at least
        the earliest time among the new events under its `@` atoms (U), from rules that
        test `t >= U` before reading anything as of t; store the difference (dn/dr)."""
        arity = self.program.relations[relation].arity
        args = _vars("A", arity)
        derive = _q("bu:range", relation)
        self.clauses[derive].append(
            f"{_call('bu:range', relation, ['From'] + args)} :-\n"
            f"    {_call('b', relation, args)}, {args[column]} >= From.")
        for rule in self.program.rules_for(relation):
            if _ground_fact(rule):
                continue
            test = ast.Comparison(">=", rule.head.args[column], ast.Var("__tl_from"))
            body = list(rule.body)
            first = next((i for i, lit in enumerate(body) if isinstance(lit, ast.AsOf)),
                         len(body))
            body.insert(first, test)  # before the first `@`: planned in that order
            planned = (plan_literals(tuple(body), bound={"__tl_from"}, stats=self.stats)
                       if self.plan_joins else tuple(body))
            clause = MaterialisedClause(self, owner=relation)
            clause.scope.names["__tl_from"] = "From"
            bound = {"__tl_from"}
            goals = clause.body(planned, clause.scope, bound)
            more, head_args = clause.head(rule.head, bound)
            self.clauses[derive].append(
                f"{derive}({', '.join(['From'] + head_args)}) :-\n"
                f"    {_indent(_conj([f'AsOf = {NOW}'] + goals + more))}.")
        times = []
        for event in events:
            event_args = ["_"] * self.program.relations[event].arity
            event_args[self.program.relations[event].time_column] = "T"
            times.append(_call("de", event, event_args))
        tuple_ = f"t({', '.join(args)})"
        stored, gained, lost = (_call(kind, relation, args) for kind in ("m", "dn", "dr"))
        step = _q("bu:range_step", relation)
        self.dynamic[_q("dr", relation)] = arity
        self.deltas.add(("dr", relation))
        self.clauses[step].append(
            f"{step} :-\n"
            f"    (   aggregate_all(min(T), ( {' ; '.join(times)} ), From)\n"
            f"    ->  findall({tuple_}, {_call('bu:range', relation, ['From'] + args)}, New0),\n"
            f"        sort(New0, New),\n"
            f"        findall({tuple_}, ( {stored}, {args[column]} >= From ), Old0),\n"
            f"        sort(Old0, Old),\n"
            f"        ord_subtract(Old, New, Gone),\n        ord_subtract(New, Old, Came),\n"
            f"        forall(member({tuple_}, Gone), ( retract({stored}), assertz({lost}) )),\n"
            f"        forall(member({tuple_}, Came), ( assertz({stored}), assertz({gained}) ))\n"
            f"    ;   true\n    ).")
        return step

    def _events_under(self, relations: set[str]) -> list[str]:
        """The event relations that `relations` read, directly or through rules."""
        seen, todo = set(), list(relations)
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo += [atom.relation for rule in self.program.rules_for(name)
                         for atom, _ in ast.body_atoms(rule.body)]
        return sorted(n for n in seen if self.kinds.get(n) == "event")

    def _plan(self, rule: ast.Rule, delta: ast.Atom | None = None) -> tuple[ast.Literal, ...]:
        if not self.plan_joins:
            return rule.body
        return plan_literals(rule.body, stats=self.stats, delta=delta)

    def _compile(self, predicate: str, extra: list[str], rule: ast.Rule,
                 body: tuple[ast.Literal, ...], delta=None) -> None:
        clause = MaterialisedClause(self, owner=rule.head.relation, delta=delta)
        bound: set[str] = set()
        goals = clause.body(body, clause.scope, bound)
        more, head_args = clause.head(rule.head, bound)
        head = f"{predicate}({', '.join(extra + head_args)})"
        self.clauses[predicate].append(
            f"{head} :-\n    {_indent(_conj([f'AsOf = {NOW}'] + goals + more))}.")

    def _affected(self, rule: ast.Rule, occurrence, positions: list[int]) -> str:
        """A goal binding the keys (K<i>) that the changed tuples of `occurrence` touch, by
        a join of them with the rule's atoms (keyed.affected_body). The derived relations
        joined are read with the tuples they lost in this step: a superset of both their
        old and new states, so every binding made or unmade is found."""
        body, atom = affected_body(rule, occurrence)
        deltas = [self._delta_of(atom.relation)]
        if deltas == ["dn"]:
            self._shrank(atom.relation)
            deltas.append("dr")
        for relation in {a.relation for a in body if isinstance(a, ast.Atom)}:
            if self.kinds.get(relation) == "tabled":
                self._shrank(relation)  # declares 'dr:<relation>'
        if self.plan_joins:
            body = plan_literals(body, stats=self.stats, delta=atom)
        goals = []
        for delta in deltas:
            clause = MaterialisedClause(self, owner=rule.head.relation, delta=(atom, delta),
                                        widened=True)
            for i in positions:
                clause.scope.names.setdefault(rule.head.args[i].name, f"K{i}")
            goals.append(_conj([f"AsOf = {NOW}"] + clause.body(body, clause.scope, set())))
        return " ; ".join(f"( {' '.join(goal.split())} )" for goal in goals)

    def _key_rules(self, relation: str, positions: list[int]) -> None:
        """`'bu:key:p'(…)`: the rules of `relation` planned and compiled with the arguments
        at `positions` given (as K<i>), for re-deriving one key."""
        predicate = _q("bu:key", relation)
        args = _vars("A", self.program.relations[relation].arity)
        self.clauses[predicate].append(
            f"{_call('bu:key', relation, args)} :- {_call('b', relation, args)}.")
        for rule in self.program.rules_for(relation):
            if _ground_fact(rule):
                continue
            clause = MaterialisedClause(self, owner=relation)
            bound: set[str] = set()
            for i in positions:
                name = rule.head.args[i].name
                if name not in bound:
                    clause.scope.names[name] = f"K{i}"
                    bound.add(name)
            body = rule.body if not self.plan_joins else plan_literals(
                rule.body, bound=set(bound), stats=self.stats)
            goals = clause.body(hoist_aggregates(body, set(bound)), clause.scope, bound)
            more, head_args = clause.head(rule.head, bound)
            self.clauses[predicate].append(
                f"{predicate}({', '.join(head_args)}) :-\n"
                f"    {_indent(_conj([f'AsOf = {NOW}'] + goals + more))}.")

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
        goals = self._clear(name, ["m"]) + [
            f"findall(t({args}), {_q('bu:all', name)}({args}), Found)",
            "sort(Found, Tuples)",
            f"forall(member(t({args}), Tuples), assertz({_q('m', name)}({args})))"]
        self.clauses[_q("bu:scc", str(k))].append(
            f"{_q('bu:scc', str(k))} :-\n    {_indent(_conj(goals))}.")

    def _recursive(self, k: int, scc: list[str]) -> None:
        scc_name, loop = _q("bu:scc", str(k)), _q("bu:loop", str(k))
        start = []
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
        lines += [f":- table {name}/{n}." for name, n in self.helpers.values()]
        return "\n".join(lines + self.helper_clauses) + "\n"

    def text(self) -> str:
        lines = []
        for clauses in self.clauses.values():
            lines.extend(clauses)
        return "\n".join(lines) + "\n"


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
    clause = MaterialisedClause(compiler)
    planned = plan_literals(tuple(body), stats=stats) if plan_joins else tuple(body)
    goals = clause.body(planned, clause.scope, set())
    row = "[" + ", ".join(clause.scope[name] for name in columns) + "]"
    return _conj(goals), row


def _ground_fact(rule: ast.Rule) -> bool:
    return rule.is_fact and all(isinstance(a, ast.Const) for a in rule.head.args)


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
