"""The incremental step of bottom-up "now": each component brought up to date from what arrived."""

from __future__ import annotations

from engine.analysis.planner import plan_literals
from engine.backends.swipl import ranges
from engine.backends.swipl.keyed import (
    CHANGING,
    Occurrence,
    affected_body,
    hoist_aggregates,
    key_positions,
    keyed_clauses,
    rederive,
)
from engine.backends.swipl.materialised import NOW, MaterialisedClause, ground_fact
from engine.backends.swipl.prolog_text import atom as _atom
from engine.backends.swipl.prolog_text import call as _call
from engine.backends.swipl.prolog_text import conj as _conj
from engine.backends.swipl.prolog_text import indent as _indent
from engine.backends.swipl.prolog_text import predicate as _q
from engine.backends.swipl.prolog_text import variables as _vars
from engine.lang import ast

# A rule whose head holds its `@` time: after new events from time u on, only its tuples
# from u on are derived again (False: in full, to measure against; bench/as_of.py).
TIME_RANGES = True
# A delta atom skips a change that its twin undoes on every column read (materialised.py;
# False: every change counts, to measure against; bench/ticks.py --compare).
CANCEL_TWINS = True
# A join whose every column is a key loses what its lost inputs derived and no longer
# derives, and gains by its seeds (False: key by key, to measure against).
DELETE_REDERIVE = True
REDONE = "'bu:redone'"  # 'bu:redone'(p): p was evaluated in full in this incremental step


class IncrementalStep:
    """`'bu:inc:k'` for each component k of a BottomUpCompiler (which this is mixed into:
    it holds the program, kinds, statistics and the clauses written): semi-naive from the
    inputs' new tuples, key by key, from an `@` time on, or in full."""

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
                    body = self._plan(rule, delta=atom, step=True)
                    if delta == "dn" and CANCEL_TWINS:
                        self._shrank(atom.relation)  # declares the twins' 'dr:<relation>'
                    self._compile(_q("bu:seed", rule.head.relation), [], rule, body,
                                  delta=(atom, delta), twins=CANCEL_TWINS)


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
        if positions and positions == list(range(arity)) and self._positive(relation) \
                and DELETE_REDERIVE:  # a join: what it lost checked, what it gained seeded
            self._key_rules(relation, positions)
            self._lost_step(relation)
            branches.append((" ; ".join(redone) or "fail", full))
            branches.append((" ; ".join(lost) or "fail", _indent(_conj(
                [_q("bu:lost", relation), *seeds]))))
        elif positions:  # lost tuples or changed negations and aggregates: key by key
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
        self.clauses[name].append(f"{name} :-\n    'bu:counts_apply'({k}),\n"
                                  f"    (   {text}\n    ;   true\n    ).")


    def _positive(self, relation: str) -> bool:
        """Whether every rule of `relation` reads what can change only through atoms of its
        body (not negated, not in an aggregate): a join, which gains only from what its
        inputs gained and loses only through what they lost."""
        for rule in self.program.rules_for(relation):
            direct = {id(lit) for lit in rule.body if isinstance(lit, ast.Atom)}
            for atom, negated in ast.body_atoms(rule.body):
                if self.kinds.get(atom.relation) in CHANGING and (
                        negated or id(atom) not in direct):
                    return False
        return True

    def _lost_step(self, relation: str) -> None:
        """`'bu:lost:p'`, for a join whose every column is a key: each stored tuple that a
        lost input tuple derived (found by a join, keyed.affected_body) and that its rules no
        longer derive (`'bu:key:p'`, every column given) is removed and kept in 'dr:p'.
        What the inputs gained is then added by the seeds: a new order ranks N pairs once,
        instead of 2N keys each derived again and compared with what was stored."""
        arity = self.program.relations[relation].arity
        keys = [f"K{i}" for i in range(arity)]
        goals = []
        for rule in self.program.rules_for(relation):
            if rule.is_fact:
                continue
            first = {}
            for i, arg in enumerate(rule.head.args):
                first.setdefault(arg.name, i)
            same = [f"K{i} = K{first[arg.name]}" for i, arg in enumerate(rule.head.args)
                    if first[arg.name] != i]
            for atom in (lit for lit in rule.body if isinstance(lit, ast.Atom)):
                if self.kinds.get(atom.relation) == "tabled":
                    found = self._affected(rule, Occurrence(atom, frozenset()),
                                           list(range(arity)), deltas=("dr",))
                    goals.append(", ".join([found, *same]))
        key = f"k({', '.join(keys)})"
        stored, lost = _call("m", relation, keys), _call("dr", relation, keys)
        # (rules that differ only in comparisons, as ahead's, find the same tuples once)
        found = " ;\n    ".join(f"( {g} )" for g in dict.fromkeys(goals)) or "fail"
        self.clauses[_q("bu:lost", relation)].append(
            f"{_q('bu:lost', relation)} :-\n    findall({key}, (\n    {_indent(found)}), Keys0),\n"
            f"    sort(Keys0, Keys),\n    forall(( member({key}, Keys), {stored},\n"
            f"             \\+ {_call('bu:key', relation, keys)} ),\n"
            f"           ( retract({stored}), assertz({lost}) )).")

    def _as_of_column(self, relation: str) -> int | None:
        """A head column that holds, in every rule, the time of each of its `@` literals
        (and a variable in rules without one), so that tuples from time u on are the only
        ones a new event at u can change; None if there is none."""
        found = None
        for rule in self.program.rules_for(relation):
            if ground_fact(rule):
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
            if ground_fact(rule):
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
        old = f"{stored}, {args[column]} >= From"
        limit = int(self.stats.rows.get(relation, 0) / ranges.COST_PER_VALUE)
        if (ranges.READ_RANGES and column in self.time_columns.get(relation, ())
                and limit >= ranges.MIN_LIMIT):  # the tuples from From on, time by time
            enumerated = ranges.enumerated(["'tl:latest'(M)"], "From", "M", args[column], limit)
            old = f"{enumerated}, {old}"
        step = _q("bu:range_step", relation)
        self.dynamic[_q("dr", relation)] = arity
        self.deltas.add(("dr", relation))
        self.clauses[step].append(
            f"{step} :-\n"
            f"    (   aggregate_all(min(T), ( {' ; '.join(times)} ), From)\n"
            f"    ->  findall({tuple_}, {_call('bu:range', relation, ['From'] + args)}, New0),\n"
            f"        sort(New0, New),\n"
            f"        findall({tuple_}, ( {old} ), Old0),\n"
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


    def _affected(self, rule: ast.Rule, occurrence, positions: list[int],
                  deltas: tuple[str, ...] | None = None) -> str:
        """A goal binding the keys (K<i>) that the changed tuples of `occurrence` touch, by
        a join of them with the rule's atoms (keyed.affected_body). The derived relations
        joined are read with the tuples they lost in this step: a superset of both their
        old and new states, so every binding made or unmade is found."""
        body, atom = affected_body(rule, occurrence)
        if deltas is None:  # what it gained and what it lost
            deltas = [self._delta_of(atom.relation)]
            if deltas == ["dn"]:
                self._shrank(atom.relation)
                deltas.append("dr")
        for relation in {a.relation for a in body if isinstance(a, ast.Atom)}:
            if self.kinds.get(relation) == "tabled":
                self._shrank(relation)  # declares 'dr:<relation>'
        if self.plan_joins:
            body = plan_literals(body, stats=self.stats, delta=atom, step=True)
        goals = []
        for delta in deltas:
            clause = MaterialisedClause(self, owner=rule.head.relation, delta=(atom, delta),
                                        widened=True,
                                        twins=CANCEL_TWINS and occurrence.aggregate is None)
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
            if ground_fact(rule):
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
