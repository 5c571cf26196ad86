"""Compiling one rule or query body to Prolog goals, left to right, tracking bound variables."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Protocol

from engine.analysis.planner import Statistics
from engine.analysis.program import Program
from engine.backends.swipl import prolog_text as pl
from engine.backends.swipl import ranges
from engine.backends.swipl.prolog_text import call as _call
from engine.backends.swipl.prolog_text import conj as _conj
from engine.backends.swipl.prolog_text import predicate as _q
from engine.backends.swipl.time_index import PrefixShape, prefix_shape, site_read
from engine.builtins import AGGREGATES, ARITHMETIC, COMPARISONS, FUNCTIONS
from engine.errors import CompileError
from engine.lang import ast


class Site(Protocol):
    ident: int  # a prefix-aggregate index's number: its predicates are 'pq:<ident>' …


class ProgramContext(Protocol):
    """What compiling one body needs of the program around it (the ProgramCompiler)."""

    program: Program
    kinds: dict[str, str]  # relation -> event | view | tabled | base

    def site_for(self, aggregate: ast.Aggregate, shape: PrefixShape) -> Site | None:
        """The prefix-aggregate index that answers `aggregate` (None: there is none, and the
        aggregate is computed from its facts)."""

    def add_aggregate_table(self, owner: str, keys: list[str], goals: list[str]) -> str:
        """The name of a tabled helper computing one aggregate per group."""


class Forms(Protocol):
    """Untabled forms of derived relations planned for a call's bound arguments."""

    def request(self, relation: str, mode: str) -> str:
        """The name of `relation`'s form for `mode` (`b`/`f` per argument), made if new."""


class Scope:
    """Prolog variable names for the user variables of one rule or aggregate body."""

    def __init__(self, prefix: str, inherited: Mapping[str, str] | None = None):
        self.prefix = prefix
        self.names = dict(inherited or {})

    def __getitem__(self, name: str) -> str:
        if name not in self.names:
            self.names[name] = self.prefix + name
        return self.names[name]


# An atom that binds nothing is read with once/1 (False: every match, to measure against;
# bench/ticks.py --compare once).
TESTS_ONCE = True


class ClauseCompiler:
    """Compiles one body left to right, tracking which variables already have values."""

    _aggregate_scopes = itertools.count(1)

    def __init__(self, program: ProgramContext, *, sites: bool, owner: str | None = None,
                 direct: bool = False, forms: Forms | None = None,
                 assigned: set[str] = frozenset()):
        self.program = program
        self.sites = sites
        self.owner = owner  # the rule's head relation; None for a query
        self.direct = direct  # derived relations read untabled (`'at:p'`), as `@` reads them
        self.forms = forms  # with `direct`: read untabled forms planned for what is bound
        # Variables a moded form's head binds that the rule's own order assigns with `=`:
        # still assigned (unified, as the head would), never compared by value.
        self.assigned = set(assigned)
        self.scope = Scope("V_")
        self._temps = itertools.count(1)
        self._aggregating = 0  # inside an aggregate's body: its solutions are counted
        self.stats: Statistics | None = None  # the planner's: with them, ranges are read
        # value by value where that is cheaper (ranged)

    def temp(self) -> str:
        return f"G{next(self._temps)}"

    def body(self, literals: Sequence[ast.Literal], scope: Scope, bound: set[str]) -> list[str]:
        """Goals for `literals`; adds the variables they bind to `bound`."""
        goals: list[str] = []
        for index, literal in enumerate(literals):
            if isinstance(literal, ast.Atom):
                goals += self.ranged(literal, literals[index + 1:], scope, bound)
                read = self.atom(literal, scope, bound)
                if TESTS_ONCE and not self._aggregating and self._only_tests(literal, bound):
                    # it binds nothing: one match is as good as all (trade_volume's
                    # trade_executed(_, s, _, …) read every trade of s to find one)
                    read = [f"once(( {_conj(read)} ))"]
                goals += read
                bound |= {a.name for a in literal.args if isinstance(a, ast.Var)}
            elif isinstance(literal, ast.Negation):
                inner = self.atom(literal.atom, scope, bound)
                goals.append(f"\\+ ( {_conj(inner)} )")
            elif isinstance(literal, ast.AsOf):
                inner = self.as_of_atom(literal, scope, bound)
                if literal.negated:
                    goals.append(f"\\+ ( {_conj(inner)} )")
                else:
                    goals += inner
                    bound |= {a.name for a in literal.atom.args if isinstance(a, ast.Var)}
            else:
                goals += self.comparison(literal, scope, bound)
        return goals

    def _only_tests(self, atom: ast.Atom, bound: set[str]) -> bool:
        """Whether every argument of `atom` is a constant, a wildcard or a variable with a
        value (outside an aggregate, which counts its matches, it is then a test)."""
        return all(not isinstance(arg, ast.Var) or (arg.name in bound
                                                     and arg.name not in self.assigned)
                   for arg in atom.args)

    def ranged(self, atom: ast.Atom, rest: Sequence[ast.Literal], scope: Scope,
               bound: set[str]) -> list[str]:
        """A goal reading a bounded integer column of `atom` value by value (ranges.py)."""
        return ranges.range_goals(self, atom, rest, scope, bound)

    def atom(self, atom: ast.Atom, scope: Scope, bound: set[str]) -> list[str]:
        args = self.arguments(atom, scope)
        if self.forms is None:  # (subclasses' read() take no mode)
            return self.read(atom.relation, args)
        return self.read(atom.relation, args, mode=mode_of(atom, bound))

    def as_of_atom(self, literal: ast.AsOf, scope: Scope, bound: set[str]) -> list[str]:
        """`p(…) @ t`: the same read as the atom's, as of `min(t, AsOf)`, so that a rule
        using `@` never sees past the time it is itself asked as of."""
        goals, time = self.value(literal.time, scope, bound)
        at = self.temp()
        goals.append(f"{at} is min({time}, AsOf)")
        args = self.arguments(literal.atom, scope)
        if self.forms is None:
            return goals + self.read(literal.atom.relation, args, as_of=at)
        return goals + self.read(literal.atom.relation, args, as_of=at,
                                 mode=mode_of(literal.atom, bound))

    def arguments(self, atom: ast.Atom, scope: Scope) -> list[str]:
        """An atom's arguments as Prolog text: safety left only variables, wildcards and
        constants there (an expression argument became a variable and an `=`)."""
        args = []
        types = self.program.program.relations[atom.relation].types
        for arg, type_ in zip(atom.args, types):
            if isinstance(arg, ast.Wildcard):
                args.append("_")
            elif isinstance(arg, ast.Var):
                args.append(scope[arg.name])
            elif isinstance(arg, ast.Const):
                args.append(const_text(arg, type_))
            else:
                raise CompileError(f"{arg.pos}: an expression argument was not normalised")
        return args

    def read(self, relation: str, args: list[str], as_of: str = "AsOf",
             mode: str | None = None) -> list[str]:
        """Goals reading `relation` as of the time `as_of` (a Prolog variable's name).

        A derived relation is read from its tables when `as_of` is the body's own AsOf;
        as of another time (`p @ t`, one per binding of t) it is read untabled from its
        rules (`'at:p'`), so that "p at each trade" reads the time indexes (a lookup per
        timed view, a binary search per prefix aggregate) and builds no table per time.
        A recursive relation cannot be read so and keeps its tables, one per time. With
        `forms`, untabled reads call the form planned for `mode`, the bound arguments."""
        kind = self.program.kinds.get(relation)
        if kind == "event":
            args = list(args)
            col = self.program.program.relations[relation].time_column
            if args[col] == "_":
                args[col] = self.temp()
            elif args[col].startswith("'"):
                return ["fail"]  # a symbol is never a valid time
            return [_call("e", relation, args + ["_"]), f"{args[col]} =< {as_of}"]
        if kind == "view":
            valid_from = self.temp()
            return [_call("v", relation, args + [valid_from]), f"{valid_from} =< {as_of}"]
        if kind == "tabled":
            untabled = (self.direct or as_of != "AsOf") \
                and relation not in self.program.program.recursive
            if not untabled:
                return [_call("t", relation, [as_of] + args)]
            if self._aggregating:  # untabled, a tuple can come once per derivation: an
                # aggregate must see it once, as a table holds it (a mean of rates)
                args = [self.temp() if arg == "_" else arg for arg in args]
            if self.forms is not None and mode is not None:
                goal = f"{self.forms.request(relation, mode)}({', '.join([as_of] + args)})"
            else:
                goal = _call("at", relation, [as_of] + args)
            return [f"distinct([{', '.join(args)}], {goal})" if self._aggregating else goal]
        if kind == "base":
            return [_call("b", relation, args)]
        raise CompileError(f"unknown relation {relation}")

    def head(self, atom: ast.Atom, bound: set[str]) -> tuple[list[str], list[str]]:
        """Goals computing a head's arguments, and their texts; float columns get floats."""
        types = self.program.program.relations[atom.relation].types
        goals, args = [], []
        for arg, type_ in zip(atom.args, types):
            if isinstance(arg, ast.Const):
                args.append(const_text(arg, type_))
                continue
            more, text = self.value(arg, self.scope, bound)
            goals += more
            if type_ == "float":
                floated = self.temp()
                goals.append(f"tl_float({text}, {floated})")
                text = floated
            args.append(text)
        return goals, args

    def pattern(self, atom: ast.Atom) -> tuple[list[str], set[str]]:
        """An atom's arguments as a clause-head pattern, and the variables it binds."""
        return self.arguments(atom, self.scope), {a.name for a in atom.args
                                                  if isinstance(a, ast.Var)}

    def comparison(self, comparison: ast.Comparison, scope: Scope, bound: set[str]) -> list[str]:
        if comparison.op == "=":
            for target, other in ((comparison.left, comparison.right),
                                  (comparison.right, comparison.left)):
                if isinstance(target, ast.Var) and (target.name not in bound
                                                    or target.name in self.assigned):
                    self.assigned.discard(target.name)
                    goals = self.assign(scope[target.name], other, scope, bound)
                    bound.add(target.name)
                    return goals
        left_goals, left = self.value(comparison.left, scope, bound)
        right_goals, right = self.value(comparison.right, scope, bound)
        goal = COMPARISONS[comparison.op].prolog_goal
        return left_goals + right_goals + [f"{goal}({left}, {right})"]

    def assign(self, var: str, term: ast.Term, scope: Scope, bound: set[str]) -> list[str]:
        if isinstance(term, ast.Aggregate):
            return self.aggregate(term, var, scope, bound)
        if isinstance(term, (ast.Var, ast.Const, ast.Call)):
            goals, text = self.value(term, scope, bound)
            return goals + [f"{var} = {text}"]
        goals, expression = self.expression(term, scope, bound)
        return goals + [f"tl_eval({expression}, {var})"]

    def value(self, term: ast.Term, scope: Scope, bound: set[str]) -> tuple[list[str], str]:
        """Goals that compute `term`, and the Prolog text of its value."""
        if isinstance(term, ast.Var):
            if term.name not in bound:
                raise CompileError(f"{term.pos}: variable {term.name} has no value here")
            return [], scope[term.name]
        if isinstance(term, ast.Const):
            return [], const_text(term)
        if isinstance(term, ast.Wildcard):
            raise CompileError(f"{term.pos}: '_' cannot stand in an expression")
        result = self.temp()
        if isinstance(term, ast.Aggregate):
            return self.aggregate(term, result, scope, bound), result
        if isinstance(term, ast.Call):
            return self.call(term, result, scope, bound), result
        goals, expression = self.expression(term, scope, bound)
        return goals + [f"tl_eval({expression}, {result})"], result

    def call(self, term: ast.Call, result: str, scope: Scope, bound: set[str]) -> list[str]:
        """Goals applying a built-in function (engine/builtins.py) to its arguments."""
        goals, args = [], []
        for arg in term.args:
            more, text = self.value(arg, scope, bound)
            goals += more
            args.append(text)
        template = FUNCTIONS[term.func].prolog
        return goals + [template.format(*args, args=", ".join(args), r=result)]

    def expression(self, term: ast.Term, scope: Scope, bound: set[str]) -> tuple[list[str], str]:
        """An arithmetic expression text for `is`; `/` and `%` become goals of their own."""
        if isinstance(term, ast.BinOp):
            left_goals, left = self.expression(term.left, scope, bound)
            right_goals, right = self.expression(term.right, scope, bound)
            goals = left_goals + right_goals
            helper = ARITHMETIC[term.op].prolog_goal
            if helper is not None:  # it may have no value (division by zero): a goal
                result = self.temp()
                return goals + [f"{helper}({left}, {right}, {result})"], result
            return goals, f"({left} {term.op} {right})"
        if isinstance(term, ast.Negate):
            goals, operand = self.expression(term.operand, scope, bound)
            return goals, f"(-{operand})"
        return self.value(term, scope, bound)

    def aggregate(self, agg: ast.Aggregate, result: str, scope: Scope,
                  bound: set[str]) -> list[str]:
        if self.sites:
            relations = self.program.program.relations
            events = {n: relations[n].time_column for n, k in self.program.kinds.items()
                      if k == "event"}
            shape = prefix_shape(agg, bound, {n for n, k in self.program.kinds.items()
                                              if k in ("event", "view")}, events)
            site = self.program.site_for(agg, shape) if shape is not None else None
            if site is not None:
                keys = [scope[name] for name in shape.keys]
                pq = _q("pq", str(site.ident))
                if shape.window != (None, None):
                    return self.window_read(pq, keys, agg.func, shape.window, result, scope,
                                            bound)
                return site_read(pq, keys, agg.func, result, next(self._temps))
        if self.owner is not None:
            keys = [name for name in ast.var_names(agg) if name in bound]
            helper = type(self)(self.program, sites=self.sites, owner=self.owner)
            helper.stats = None  # a helper is loaded once, by its text: nothing of one plan's
            # statistics (a range's limit) may be in it
            goals = helper.inline_aggregate(agg, "R", helper.scope, set(keys))
            name = self.program.add_aggregate_table(
                self.owner, [helper.scope[k] for k in keys], goals)
            return [f"{name}({', '.join(['AsOf'] + [scope[k] for k in keys] + [result])})"]
        return self.inline_aggregate(agg, result, scope, bound)

    def window_read(self, pq: str, keys: list[str], func: str, window, result: str,
                    scope: Scope, bound: set[str]) -> list[str]:
        """A windowed count, sum or mean, (lo, hi] of the event time and never past AsOf:
        two binary searches in the prefix index, prefix(hi) - prefix(lo)."""
        lo, hi = window
        n = next(self._temps)
        goals, upper = [], f"H{n}"
        if hi is None:
            goals.append(f"{upper} = AsOf")
        else:
            more, text = self.value(hi, scope, bound)
            goals += more + [f"{upper} is min({text}, AsOf)"]
        goals.append(f"{pq}({', '.join(keys + [upper, f'C1_{n}', f'S1_{n}', '_', '_'])})")
        if lo is None:
            goals += [f"C{n} = C1_{n}", f"S{n} = S1_{n}"]
        else:
            more, text = self.value(lo, scope, bound)
            goals += more + [f"L{n} is min({text}, {upper})",
                             f"{pq}({', '.join(keys + [f'L{n}', f'C0_{n}', f'S0_{n}', '_', '_'])})",
                             f"tl_window(C1_{n}, S1_{n}, C0_{n}, S0_{n}, C{n}, S{n})"]
        if func == "count":
            return goals + [f"{result} = C{n}"]
        if func == "sum":
            return goals + [f"tl_sum_value(S{n}, {result})"]
        return goals + [f"C{n} > 0", f"tl_mean_of(S{n}, C{n}, {result})"]

    def inline_aggregate(self, agg: ast.Aggregate, result: str, scope: Scope,
                         bound: set[str]) -> list[str]:
        inner = Scope(f"L{next(self._aggregate_scopes)}_",
                       {name: scope[name] for name in bound})
        inner_bound = set(bound)
        self._aggregating += 1
        try:
            goals = self.body(agg.body, inner, inner_bound)
        finally:
            self._aggregating -= 1
        function = AGGREGATES[agg.func]
        if not function.takes_target:
            return [f"aggregate_all(count, ( {_conj(goals)} ), {result})"]
        if agg.target is None:
            raise CompileError(f"{agg.pos}: {agg.func} needs a value to aggregate")
        more, target = self.value(agg.target, inner, inner_bound)
        return [f"{function.prolog_goal}({target}, ( {_conj(goals + more)} ), {result})"]


def mode_of(atom: ast.Atom, bound: set[str]) -> str:
    """`b` for each argument bound when the atom is read (a constant, or a variable bound
    before it), `f` for the others."""
    return "".join("b" if isinstance(arg, ast.Const)
                   or (isinstance(arg, ast.Var) and arg.name in bound) else "f"
                   for arg in atom.args)


def assigned_names(body: Sequence[ast.Literal]) -> set[str]:
    """The variables that `=` assigns in `body` compiled in its own order (ClauseCompiler's
    rule: the left side if unbound, else the right)."""
    bound: set[str] = set()
    assigned: set[str] = set()
    for literal in body:
        if isinstance(literal, ast.Atom):
            bound |= {a.name for a in literal.args if isinstance(a, ast.Var)}
        elif isinstance(literal, ast.AsOf) and not literal.negated:
            bound |= {a.name for a in literal.atom.args if isinstance(a, ast.Var)}
        elif isinstance(literal, ast.Comparison) and literal.op == "=":
            for target in (literal.left, literal.right):
                if isinstance(target, ast.Var) and target.name not in bound:
                    assigned.add(target.name)
                    bound.add(target.name)
                    break
    return assigned


def const_text(const: ast.Const, column_type: str | None = None) -> str:
    """A constant's text; in a float column a number is stored, and matched, as a float."""
    if const.type == "symbol":
        return pl.atom(const.value)
    return pl.number(float(const.value) if column_type == "float" else const.value)
