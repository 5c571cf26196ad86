"""An analysed Program compiled to the text of one SWI-Prolog module."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from engine.analysis.program import Program
from engine.backends.swipl.clause import ClauseCompiler, CompileError, Forms
from engine.backends.swipl.prefix_index import Site, site_clauses, site_predicates
from engine.backends.swipl.prolog_text import call as _call
from engine.backends.swipl.prolog_text import conj as _conj
from engine.backends.swipl.prolog_text import indent as _indent
from engine.backends.swipl.prolog_text import predicate as _q
from engine.backends.swipl.prolog_text import variables as _vars
from engine.backends.swipl.time_index import PrefixShape, timed_views
from engine.lang import ast

# Every relation becomes a few predicates named `'<kind>:<relation>'`: an event relation's
# facts `'e:r'(Args…, Seq)` (its valid time is its own column); a timed view's tuples
# `'v:v'(Args…, ValidFrom)`, kept up to date as facts arrive; any other relation a tabled
# `'t:p'(AsOf, Args…)` over its rules plus `'b:p'(Args…)` for asserted facts. `AsOf` is
# threaded through every table and filters every event read (`inf` is "now"). Aggregates use
# aggregate_all/findall, never moded tabling (wrong with incremental tabling in 9.0.4);
# negation is \+ on a lower stratum, never tnot. docs/architecture.md has the whole scheme.

__all__ = ["CompileError", "CompiledProgram", "compile_program", "compile_query"]


@dataclass(frozen=True)
class CompiledProgram:
    module: str
    text: str
    kinds: Mapping[str, str]  # relation -> "event" | "view" | "tabled" | "base"
    tabled: tuple[str, ...]
    views: tuple[str, ...]
    initial_facts: tuple[tuple[str, tuple], ...]  # the program's own ground facts
    invalidates: Mapping[str, tuple[str, ...]]  # relation -> tabled relations that read it
    incremental: bool
    sites: Mapping[str, Site] = field(default_factory=dict)  # the prefix-aggregate indexes,
    # by their clauses' text: bottom-up evaluation reads the same indexes


def compile_program(program: Program, module: str, *, incremental: bool = False,
                    time_index: bool = True,
                    hooks: Mapping[str, list[str]] | None = None) -> CompiledProgram:
    """Compile `program` into the text of module `module`.

    `incremental`: tables are `as incremental` and SWI-Prolog invalidates them as facts
    arrive; otherwise (the default) the engine abolishes the tables of the relations a batch
    can change.
    `time_index`: keep timed views and prefix aggregates (off only to test that it changes
    nothing).
    `hooks`: more clauses of `'on:<relation>'(Args…, Time, Kind)`, called for each new fact
    of an event relation or new tuple of a view."""
    compiler = ProgramCompiler(program, module, incremental, time_index)
    for relation, clauses in (hooks or {}).items():  # more `on:` hooks per new fact
        compiler.clauses[_q("on", relation)] += clauses
    return compiler.run()


def compile_query(compiled: CompiledProgram, program: Program,
                  body: Sequence[ast.Literal], columns: Sequence[str],
                  forms: Forms | None = None) -> tuple[str, str]:
    """A query body as (goal, row) Prolog texts; the goal reads the variable `AsOf`. With
    `forms`, derived relations are read untabled, by forms planned for what is bound."""
    compiler = ProgramCompiler(program, compiled.module, compiled.incremental, False)
    compiler.kinds = dict(compiled.kinds)
    clause = ClauseCompiler(compiler, sites=False, direct=forms is not None, forms=forms)
    goals = clause.body(body, clause.scope, set())
    row = "[" + ", ".join(clause.scope[name] for name in columns) + "]"
    return _conj(goals), row


# ---- the program -------------------------------------------------------------

@dataclass
class ProgramCompiler:
    program: Program
    module: str
    incremental: bool
    time_index: bool
    kinds: dict[str, str] = field(default_factory=dict)
    clauses: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    dynamic: dict[str, int] = field(default_factory=dict)
    sites: dict[str, Site] = field(default_factory=dict)
    initial: list[tuple[str, tuple]] = field(default_factory=list)
    aux: dict[str, list[tuple[str, int]]] = field(default_factory=lambda: defaultdict(list))
    # relation -> (the test that a fact is stored, the goal that stores it): reads A1…An, Seq
    adds: dict[str, tuple[str, str]] = field(default_factory=dict)

    def add_aggregate_table(self, owner: str, keys: list[str], goals: list[str]) -> str:
        """A tabled helper `'agg:<owner>:<n>'(AsOf, Keys…, Result)` computing one aggregate
        per group: a rule whose earlier atoms repeat a group (`p(s, _), n = sum …{… s …}`)
        then computes it once, not once per repetition."""
        name = _q("agg", f"{owner}:{len(self.aux[owner]) + 1}")
        body = _conj(goals)
        as_of = "AsOf" if re.search(r"\bAsOf\b", body) else "_"
        self.aux[owner].append((name, len(keys) + 2))
        self.clauses[name].append(
            f"{name}({', '.join([as_of, *keys, 'R'])}) :-\n    {_indent(body)}.")
        return name

    def run(self) -> CompiledProgram:
        program = self.program
        views = timed_views(program) if self.time_index else ()
        for rel in program.relations.values():
            if rel.is_event:
                self.kinds[rel.name] = "event"
            elif rel.name in views:
                self.kinds[rel.name] = "view"
            elif any(not _ground_fact(rule) for rule in program.rules_for(rel.name)):
                self.kinds[rel.name] = "tabled"
            else:
                self.kinds[rel.name] = "base"
        for rule in program.rules:
            if _ground_fact(rule) and self.kinds[rule.head.relation] != "view":
                self.initial.append((rule.head.relation,
                                     tuple(arg.value for arg in rule.head.args)))
        for rel in program.relations.values():
            getattr(self, "_" + self.kinds[rel.name])(rel.name, rel.arity)
        tabled = tuple(n for n, k in self.kinds.items() if k == "tabled")
        for name in tabled:
            for rule in program.rules_for(name):
                if not _ground_fact(rule):
                    self.clauses[_q("t", name)].append(self._rule(rule))
        for name in tabled:  # read as of a time bound in a rule or query (`p @ t`)
            if name not in program.recursive:
                self._untabled(name)
        for name in views:
            for rule in program.rules_for(name):
                self._view_rule(name, rule)
        for site in self.sites.values():
            dynamic, clauses = site_predicates(site, self.incremental)
            self.dynamic.update(dynamic)
            for name, texts in clauses.items():
                self.clauses[name] += texts
        invalidates = self._invalidates(tabled)
        self._maintenance(tabled, invalidates)
        return CompiledProgram(
            module=self.module, text=self._text(tabled), kinds=dict(self.kinds),
            tabled=tabled, views=tuple(views),
            initial_facts=tuple(self.initial), invalidates=invalidates,
            incremental=self.incremental, sites=dict(self.sites))

    # -- storage and fact loading per kind of relation

    def _event(self, name: str, arity: int) -> None:
        if any(not _ground_fact(rule) for rule in self.program.rules_for(name)):
            raise CompileError(f"event relation {name} cannot be derived by rules")
        self.dynamic[_q("e", name)] = arity + 1

    def _event_add(self, name: str, arity: int) -> None:
        """How to add an event fact; written last, once its hooks (`on:`) are known."""
        args = _vars("A", arity)
        time = args[self.program.relations[name].time_column]
        fire = (f",\n        forall({_call('on', name, args + [time, 'new'])}, true)"
                if self.clauses.get(_q("on", name)) else "")
        self.adds[name] = (_call("e", name, args + ["_"]),
                           f"assertz({_call('e', name, args + ['Seq'])}){fire}")

    def _base(self, name: str, arity: int) -> None:
        args = _vars("A", arity)
        self.dynamic[_q("b", name)] = arity
        stored = _call("b", name, args)
        self.adds[name] = (stored, f"assertz({stored})")

    def _tabled(self, name: str, arity: int) -> None:
        self._base(name, arity)
        args = _vars("A", arity)
        self.clauses[_q("t", name)].append(
            f"{_call('t', name, ['_'] + args)} :- {_call('b', name, args)}.")

    def _view(self, name: str, arity: int) -> None:
        args = _vars("A", arity)
        self.dynamic[_q("v", name)] = arity + 1
        self.clauses[_q("put", name)].append(
            f"{_call('put', name, args + ['T'])} :-\n"
            f"    (   {_call('v', name, args + ['F'])}\n"
            f"    ->  (   F =< T\n        ->  true\n"
            f"        ;   retract({_call('v', name, args + ['F'])}),\n"
            f"            assertz({_call('v', name, args + ['T'])}),\n"
            f"            forall({_call('on', name, args + ['T', 'moved'])}, true)\n        )\n"
            f"    ;   assertz({_call('v', name, args + ['T'])}),\n"
            f"        forall({_call('on', name, args + ['T', 'new'])}, true)\n    ).")
        # A fact asserted into a view holds at every time; 'gv:r' keeps such facts apart
        # (ranges.py: the latest time counts their values).
        self.dynamic[_q("gv", name)] = arity
        self.adds[name] = (f"{_call('v', name, args + ['F'])}, F =:= -inf",
                           f"{_call('put', name, args + ['-inf'])}, "
                           f"assertz({_call('gv', name, args)})")

    # -- rules

    def _rule(self, rule: ast.Rule, kind: str = "t") -> str:
        """A rule's clause for `'t:p'` (tabled; aggregates in tabled helpers) or `'at:p'`
        (untabled, reading what it reads untabled too; aggregates inline)."""
        if kind == "t":
            clause = ClauseCompiler(self, sites=self.time_index, owner=rule.head.relation)
        else:
            clause = ClauseCompiler(self, sites=self.time_index, direct=True)
        bound: set[str] = set()
        goals = clause.body(rule.body, clause.scope, bound)
        more, head_args = clause.head(rule.head, bound)
        goals += more
        body = _conj(goals)
        as_of = "AsOf" if re.search(r"\bAsOf\b", body) else "_"
        head = _call(kind, rule.head.relation, [as_of] + head_args)
        return f"{head} :-\n    {_indent(body)}." if goals else f"{head}."

    def _untabled(self, name: str) -> None:
        """`'at:p'(AsOf, Args…)`: p's rules untabled, for `p(…) @ t`. Each call evaluates
        p's rules for its bindings as of that time through the time indexes (timed views,
        prefix aggregates) and keeps nothing, so as many times as there are trades cost no
        tables; an aggregate the time index does not answer is computed per call."""
        args = _vars("A", self.program.relations[name].arity)
        self.clauses[_q("at", name)].append(
            f"{_call('at', name, ['_'] + args)} :- {_call('b', name, args)}.")
        for rule in self.program.rules_for(name):
            if not _ground_fact(rule):
                self.clauses[_q("at", name)].append(self._rule(rule, "at"))

    def _view_rule(self, name: str, rule: ast.Rule) -> None:
        """Propagation: each new fact of the source relation may add a view tuple."""
        clause = ClauseCompiler(self, sites=False)
        atom = next(lit for lit in rule.body if isinstance(lit, ast.Atom))
        pattern, bound = clause.pattern(atom)
        goals: list[str] = []
        rest = [lit for lit in rule.body if lit is not atom]
        goals += clause.body(tuple(rest), clause.scope, bound)
        more, head = clause.head(rule.head, bound)
        goals += more
        goals.append(_call("put", name, head + ["T"]))
        self.clauses[_q("on", atom.relation)].append(
            f"{_call('on', atom.relation, pattern + ['T', '_'])} :-\n    {_indent(_conj(goals))}.")

    # -- prefix aggregates

    def site_for(self, aggregate: ast.Aggregate, shape: PrefixShape) -> Site:
        """The prefix-aggregate index answering `aggregate`, shared by identical aggregates."""
        on_clause, src_clause = site_clauses(self, aggregate, shape)
        signature = on_clause + src_clause
        if signature not in self.sites:
            self.sites[signature] = Site(len(self.sites) + 1, shape, shape.atom.relation,
                                          on_clause, src_clause)
        return self.sites[signature]

    # -- maintenance predicates called by the engine

    def _invalidates(self, tabled: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
        readers: dict[str, set[str]] = defaultdict(set)
        for rule in self.program.rules:
            for atom, _negated in ast.body_atoms(rule.body):
                readers[atom.relation].add(rule.head.relation)
        result = {}
        for name in self.kinds:
            seen, todo = set(), [name]
            while todo:
                current = todo.pop()
                if current in seen:
                    continue
                seen.add(current)
                todo.extend(readers[current])
            result[name] = tuple(sorted(n for n in seen if self.kinds.get(n) == "tabled"))
        return result

    def _maintenance(self, tabled: tuple[str, ...], invalidates: Mapping[str, tuple]) -> None:
        arity = {name: self.program.relations[name].arity for name in self.kinds}
        for name, kind in self.kinds.items():
            if kind == "event":
                self._event_add(name, arity[name])
        for name, kind in self.kinds.items():
            args, (present, write) = _vars("A", arity[name]), self.adds[name]
            self.clauses[_q("batch", name)] += (
                self._event_batch(name, args, present, write) if kind == "event" else
                self._batch(name, args, present, write))
            drops = [f"abolish_table_subgoals({_call('t', t, ['_'] * (arity[t] + 1))})"
                     for t in invalidates[name]]
            drops += [f"abolish_table_subgoals({aux}({', '.join(['_'] * n)}))"
                      for t in invalidates[name] for aux, n in self.aux[t]]
            body = _conj(drops) if drops and not self.incremental else "true"
            self.clauses[_q("inv", name)].append(f"{_q('inv', name)} :- {body}.")
            # By valid time: new facts from time From on leave the tables of earlier as-of
            # times as they are (every read is filtered by AsOf, `p @ t` by min(t, AsOf)).
            templates = [_call("t", t, ["_"] * (arity[t] + 1)) for t in invalidates[name]]
            templates += [f"{aux}({', '.join(['_'] * n)})"
                          for t in invalidates[name] for aux, n in self.aux[t]]
            body = (f"tl_drop_tables_from({self.module}, [{', '.join(templates)}], From)"
                    if templates and not self.incremental else "true")
            self.clauses[_q("inv", name)].append(f"{_q('inv', name)}(From) :- {body}.")
        rebuilds = [_q("rb", str(site.ident)) for site in self.sites.values()]
        self.clauses["tl_rebuild/0"].append(f"tl_rebuild :- {_conj(rebuilds) or 'true'}.")
        forgets = [_q("forget", str(site.ident)) for site in self.sites.values()]
        self.clauses["tl_forget/0"].append(f"tl_forget :- {_conj(forgets) or 'true'}.")
        drops = [f"abolish_table_subgoals({_call('t', t, ['T'] + ['_'] * arity[t])})"
                 for t in tabled]
        drops += [f"abolish_table_subgoals({aux}({', '.join(['T'] + ['_'] * (n - 1))}))"
                  for t in tabled for aux, n in self.aux[t]]
        self.clauses["tl_drop_as_of/1"].append(
            f"tl_drop_as_of(T) :- {_conj(drops) or 'T = T'}.")
        for name in self.kinds:  # every event/view has an `on:` hook, possibly empty
            n = arity[name] + 2
            if not self.clauses.get(_q("on", name)):
                self.clauses[_q("on", name)].append(
                    f"{_call('on', name, ['_'] * n)} :- fail.")

    @staticmethod
    def _batch(name: str, args: list[str], present: str, write: str) -> list[str]:
        """`'batch:r'(Facts, N0, N)`: add the facts not stored yet, counting them."""
        batch, fact = _q("batch", name), f"f({', '.join(args + ['Seq'])})"
        return [f"{batch}([], N, N).",
                f"{batch}([{fact}|Fs], N0, N) :-\n"
                f"    (   {present}\n    ->  N1 = N0\n"
                f"    ;   {write},\n        N1 is N0 + 1\n    ),\n"
                f"    {batch}(Fs, N1, N)."]

    def _event_batch(self, name: str, args: list[str], present: str, write: str) -> list[str]:
        """`'batch:r'(Call, Facts, N0, N)` of an event relation: a fact later than every fact
        stored before the call `Call` (an integer per `assert_many`) cannot be stored already,
        so only the others are looked up. Facts arrive in time order, so a load asks the index
        of `'e:r'` almost nothing: a lookup between asserts costs ~1.5 µs a fact (the hash
        index is rebuilt as the predicate grows), an assert ~0.5. The engine gives a call's
        rows without duplicates among them, so facts of one call, in several requests, need
        not be looked up against each other. `'mx:r'(Latest, Call, Before)`: the latest time
        stored, and the latest before the call; it is raised before any fact is written, so
        facts of a batch stopped half way are still looked up."""
        batch, write_all, latest, stored = (_q(kind, name) for kind in ("batch", "wr", "hi", "mx"))
        fact = f"f({', '.join(args + ['Seq'])})"
        time = args[self.program.relations[name].time_column]
        self.dynamic[stored] = 3
        return [
            f"{batch}(Call, Fs, N0, N) :-\n"
            f"    (   {stored}(Hi0, Call0, Lo0)\n"
            f"    ->  ( Call0 == Call -> Lo = Lo0 ; Lo = Hi0 )\n"
            f"    ;   findall({time}, {_call('e', name, args + ['_'])}, Times),\n"
            f"        max_list(Times, Lo)\n"
            f"    ->  Hi0 = Lo\n    ;   Lo = -inf, Hi0 = -inf\n    ),\n"
            f"    {latest}(Fs, Hi0, Hi),\n"
            f"    retractall({stored}(_, _, _)),\n    assertz({stored}(Hi, Call, Lo)),\n"
            f"    {write_all}(Fs, Lo, N0, N).",
            f"{latest}([], Hi, Hi).",
            f"{latest}([{fact}|Fs], Hi0, Hi) :-\n"
            f"    (   {time} > Hi0\n    ->  {latest}(Fs, {time}, Hi)\n"
            f"    ;   {latest}(Fs, Hi0, Hi)\n    ).",
            f"{write_all}([], _, N, N).",
            f"{write_all}([{fact}|Fs], Lo, N0, N) :-\n"
            f"    (   {time} =< Lo,\n        {present}\n    ->  N1 = N0\n"
            f"    ;   {write},\n        N1 is N0 + 1\n    ),\n"
            f"    {write_all}(Fs, Lo, N1, N).",
        ]

    def _text(self, tabled: tuple[str, ...]) -> str:
        # User rules may name a variable once (`p(x) :- q(x, y).`): not worth a warning here.
        lines = [f"% tempolog program compiled for module {self.module}",
                 ":- style_check(-singleton)."]
        mode = " as incremental" if self.incremental else ""
        # One declaration per predicate: `:- dynamic a/1, b/1 as incremental` would make only
        # b/1 incremental (operator priority; SWI-NOTES trap 5).
        for name, arity in self.dynamic.items():
            incremental = mode if not name.startswith("'d:") else ""
            lines.append(f":- dynamic(({name}/{arity}){incremental}).")
        for name in tabled:
            arity = self.program.relations[name].arity + 1
            lines.append(f":- table {_q('t', name)}/{arity}{mode}.")
            lines += [f":- table {aux}/{n}{mode}." for aux, n in self.aux[name]]
        for clauses in self.clauses.values():
            lines.extend(clauses)
        return "\n".join(lines) + "\n"


# ---- text helpers ----------------------------------------------------------------

def _ground_fact(rule: ast.Rule) -> bool:
    return rule.is_fact and all(isinstance(a, ast.Const) for a in rule.head.args)


def iter_dynamic(text: str) -> Iterator[str]:
    """The predicate indicators a compiled text declares dynamic (for tests of trap 5)."""
    for match in re.finditer(r"^:- dynamic\(\((.+)/(\d+)\)", text, re.M):
        yield f"{match.group(1)}/{match.group(2)}"
