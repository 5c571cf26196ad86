"""Analysis: parsed files to a checked Program, or every mistake found in them."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from engine.analysis.desugar import builtin_literals, disjunctions_in, split_rule
from engine.analysis.program import TYPES, Program, Relation
from engine.analysis.safety import Findings, plan_body, plan_rule
from engine.analysis.stratify import dependency_edges, stratify
from engine.analysis.types import TypeChecker
from engine.builtins import FUNCTIONS
from engine.errors import ERROR, WARNING, Diagnostic, RuleAnalysisError, line_at
from engine.lang import ast
from engine.lang.loader import load_files
from engine.lang.parser import parse, parse_query

UNSAFE_TEXT = {
    "head": ("variable {v} in the head is not bound by the body",
             "bind {v} with a positive atom of the body, or write a constant"),
    "negation": ("variable {v} of a negated atom is used elsewhere too, but no positive atom "
                 "binds it",
                 "bind {v} with a positive atom; a variable that stands only inside one "
                 "negated atom means any value there"),
    "comparison": ("variable {v} is compared or computed but never bound",
                   "bind {v} with a positive atom, or assign it first with `{v} = …`"),
    "group": ("variable {v} is shared with an aggregate but bound nowhere outside it",
              "bind {v} with a positive atom outside the aggregate, or rename it inside"),
    "aggregate": ("variable {v} of the aggregated expression is not bound in the aggregate",
                  "use a variable bound by an atom inside the braces"),
    "as-of": ("the time {v} of an as-of literal (`@ {v}`) has no value here",
              "bind {v} with a positive atom of the body (e.g. an event's time), or give "
              "it a value in the query (`{v} = 100`)"),
}


@dataclass(frozen=True)
class Query:
    """An analysed query: its body in evaluation order and its answer columns."""

    body: tuple[ast.Literal, ...]
    columns: tuple[str, ...]
    text: str
    warnings: tuple[Diagnostic, ...] = ()


class _Analysis:
    def __init__(self, files: list[ast.RuleFile], extra: Mapping[str, int]):
        self.files = files
        self.sources = {f.path: f for f in files}
        self.extra = dict(extra)
        self.diagnostics: list[Diagnostic] = []
        self.declarations: dict[str, ast.Declaration] = {}
        self.arity: dict[str, tuple[int, ast.Pos | None]] = {}

    def error(self, code: str, pos: ast.Pos, message: str, hint: str, notes=(),
              severity: str = ERROR) -> None:
        file = self.sources.get(pos.path)
        line = line_at(file.source, pos.line) if file else ""
        self.diagnostics.append(Diagnostic(code, message, pos.path, pos.line, pos.column, hint,
                                           line, tuple(notes), severity))

    def warn(self, code: str, pos: ast.Pos, message: str, hint: str, notes=()) -> None:
        self.error(code, pos, message, hint, notes, WARNING)

    def failed(self) -> bool:
        return any(d.is_error for d in self.diagnostics)

    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(sorted(_unique([d for d in self.diagnostics if not d.is_error]),
                            key=Diagnostic.sort_key))

    def items(self, kind: type) -> list:
        return [item for f in self.files for item in f.of_type(kind)]

    # ---- declarations and arity

    def declare(self) -> None:
        for decl in self.items(ast.Declaration):
            first = self.declarations.get(decl.relation)
            if first is not None:
                self.error("duplicate-declaration", decl.pos,
                           f"relation {decl.relation} is declared twice",
                           "remove one of the declarations", [f"first declared at {first.pos}"])
                continue
            self.declarations[decl.relation] = decl
            self.arity[decl.relation] = (len(decl.fields), decl.pos)
            for f in decl.fields:
                if f.type not in TYPES:
                    guess = difflib.get_close_matches(f.type, TYPES, n=1)
                    self.error("unknown-type", f.pos, f"unknown type {f.type!r}",
                               f"did you mean {guess[0]!r}?" if guess else
                               "types are " + ", ".join(TYPES))
            times = [f for f in decl.fields if f.type == "time"]
            if decl.is_event and len(times) != 1:
                self.error("event-time-column", decl.pos,
                           f"event relation {decl.relation} has {len(times)} time columns",
                           "an .event relation needs exactly one column of type time, "
                           "its valid time")
        for name, arity in self.extra.items():
            self.arity.setdefault(name, (arity, None))

    def check_arity(self, atom: ast.Atom) -> None:
        known = self.arity.get(atom.relation)
        if known is None:
            self.arity[atom.relation] = (len(atom.args), atom.pos)
            return
        arity, where = known
        if arity != len(atom.args):
            origin = (f"declared at {where}" if atom.relation in self.declarations
                      else f"first used at {where}" if where else "given as input")
            self.error("arity-mismatch", atom.pos,
                       f"{atom.relation} takes {arity} argument{'s' * (arity != 1)} "
                       f"({origin}) but is given {len(atom.args)} here",
                       f"give {atom.relation} exactly {arity} arguments")

    # ---- rules

    def check_rules(self, rules: list[ast.Rule], defined: set[str]) -> list[ast.Rule]:
        planned = []
        for rule in rules:
            self.check_arity(rule.head)
            decl = self.declarations.get(rule.head.relation)
            if decl is not None and decl.is_event:
                self.error("event-head", rule.head.pos,
                           f"{rule.head.relation} is an event relation and cannot be derived",
                           "events come from the event store; derive a new relation instead")
            for arg in rule.head.args:
                if isinstance(arg, ast.Wildcard):
                    self.error("wildcard-in-head", arg.pos, "'_' cannot stand in a rule's head",
                               "name the variable and bind it in the body, or write a constant")
                self.check_calls(arg)
            self.check_literals(rule.body, defined)
            plan, found = plan_rule(rule)
            self.report(found)
            planned.append(plan)
        return planned

    def check_literals(self, body: tuple[ast.Literal, ...], defined: set[str]) -> None:
        for disjunction in disjunctions_in(body):
            self.error("disjunction-not-here", disjunction.pos,
                       "';' (or) can only split a rule's own body",
                       "define a relation with one rule per alternative and use it here")
        for literal in body:  # `@` inside an aggregate's braces
            if isinstance(literal, ast.Comparison):
                for agg in ast.aggregates_in(literal.left) + ast.aggregates_in(literal.right):
                    for as_of in ast.as_of_literals(agg.body):
                        self.error("as-of-in-aggregate", as_of.pos,
                                   "an as-of literal (`@`) cannot stand inside an aggregate",
                                   "define a relation with the `@` literal in its rule and "
                                   "aggregate over that relation")
        for atom, _ in ast.body_atoms(body):
            for arg in atom.args:
                self.check_calls(arg)
            self.check_arity(atom)
            for arg in atom.args:  # `p(x, -_)`: an expression of '_' has no value to compute
                if isinstance(arg, ast.BinOp | ast.Negate):
                    self.check_wildcards(arg)
            if atom.relation not in defined:
                guess = difflib.get_close_matches(atom.relation, sorted(defined), n=1)
                self.error("undefined-relation", atom.pos,
                           f"relation {atom.relation} is not defined",
                           f"did you mean {guess[0]}?" if guess else
                           f"declare it with `.decl {atom.relation}(…)` or give it a rule")
        for literal in body:
            if isinstance(literal, ast.Comparison):
                for side in (literal.left, literal.right):
                    self.check_wildcards(side)
                    self.check_calls(side)

    def check_calls(self, term: ast.Term) -> None:
        """Every function a term applies exists and gets as many arguments as it takes."""
        if isinstance(term, ast.Call):
            function = FUNCTIONS.get(term.func)
            if function is None:
                guess = difflib.get_close_matches(term.func, sorted(FUNCTIONS), n=1)
                self.error("unknown-function", term.pos, f"unknown function {term.func!r}",
                           f"did you mean {guess[0]}?" if guess else
                           "functions are " + ", ".join(sorted(FUNCTIONS)))
            elif not function.accepts(len(term.args)):
                self.error("function-arity", term.pos,
                           f"{term.func} is given {len(term.args)} argument"
                           f"{'s' * (len(term.args) != 1)}",
                           f"call it as {function.signature}")
            for arg in term.args:
                self.check_calls(arg)
        elif isinstance(term, ast.BinOp):
            self.check_calls(term.left)
            self.check_calls(term.right)
        elif isinstance(term, ast.Negate):
            self.check_calls(term.operand)
        elif isinstance(term, ast.Aggregate) and term.target is not None:
            self.check_calls(term.target)

    def check_wildcards(self, term: ast.Term) -> None:
        if isinstance(term, ast.Wildcard):
            self.error("wildcard-in-expression", term.pos,
                       "'_' cannot stand in a comparison or arithmetic",
                       "use '_' only as an argument of an atom")
        elif isinstance(term, ast.BinOp):
            self.check_wildcards(term.left)
            self.check_wildcards(term.right)
        elif isinstance(term, ast.Negate):
            self.check_wildcards(term.operand)
        elif isinstance(term, ast.Call):
            for arg in term.args:
                self.check_wildcards(arg)
        elif isinstance(term, ast.Aggregate):
            if term.target is not None:
                self.check_wildcards(term.target)
            self.check_literals(term.body, self.defined)

    def report(self, found: Findings) -> None:
        for problem in found.unsafe:
            message, hint = UNSAFE_TEXT[problem.where]
            self.error("unsafe-variable", problem.var.pos,
                       message.format(v=problem.var.name), hint.format(v=problem.var.name))
        for local in found.negation_locals:
            v, atom = local.var.name, local.atom.relation
            if len(local.columns) == 1:
                notes = [f"the negation holds when no {atom} row matches, whatever {v} is"]
                hint = f"write `_` if any value will do, or bind {v} in a positive atom"
            else:
                columns = ", ".join(map(str, local.columns[:-1])) + f" and {local.columns[-1]}"
                notes = [f"the negation holds when no {atom} row matches with the same value "
                         f"in columns {columns}"]
                hint = (f"bind {v} in a positive atom to test one value; write `_` in each "
                        "place if the columns need not be equal")
            self.warn("negation-only-variable", local.var.pos,
                      f"variable {v} occurs only in this negated atom: it means "
                      f"\"for no value of {v}\"", hint, notes)

    def check_invariants(self) -> list[ast.Invariant]:
        seen: dict[str, ast.Invariant] = {}
        planned = []
        for inv in self.items(ast.Invariant):
            if inv.name in seen:
                self.error("duplicate-invariant", inv.pos, f"invariant {inv.name} is defined twice",
                           "give each .never invariant its own name",
                           [f"first defined at {seen[inv.name].pos}"])
            seen.setdefault(inv.name, inv)
            inv_body = builtin_literals(inv.body, self.defined)
            self.check_literals(inv_body, self.defined)
            body, found = plan_body(inv_body)
            self.report(found)
            planned.append(ast.Invariant(inv.name, body, inv.pos))
        return planned

    # ---- stratification

    def check_strata(self, rules: list[ast.Rule]) -> list[list[str]]:
        derived = list(dict.fromkeys(r.head.relation for r in rules))
        strata, cycles = stratify(derived, dependency_edges(rules))
        for cycle in cycles:
            first = cycle[0]
            names = " -> ".join([first.head] + [edge.body for edge in cycle])
            code = f"{first.kind}-cycle"
            hint = (f"{first.head} cannot depend on itself through {first.kind}; "
                    "break the cycle or move the " + first.kind + " to a later relation")
            if first.kind == "as-of":
                hint = (f"{first.head} cannot be read as of a time (`@`) by the rules that "
                        f"define it; read {first.body} with `@` "
                        "only in a relation it does not depend on")
            self.error(code, first.pos, f"{first.kind} inside a recursive cycle: {names}",
                       hint,
                       [f"{e.head} depends on {e.body} ({e.kind}) at {e.pos}" for e in cycle])
        return strata

    # ---- types and relations

    def relations(self, rules, invariants, strata) -> dict[str, Relation]:
        columns: dict[str, list[str | None]] = {}
        for name, decl in self.declarations.items():
            columns[name] = [f.type if f.type in TYPES else None for f in decl.fields]
        for name, (arity, _) in self.arity.items():
            columns.setdefault(name, [None] * arity)
        checker = TypeChecker(columns, set(self.declarations), self._type_error)
        rank = {name: i for i, name in enumerate(n for stratum in strata for n in stratum)}
        in_order = sorted(rules, key=lambda rule: rank.get(rule.head.relation, -1))
        for final in (False, True):  # infer in dependency order, then check with all known
            for rule in in_order:
                checker.check_rule(rule, final)
        for inv in invariants:
            checker.check_body(inv.body)
        first_rule = {}
        for rule in rules:
            first_rule.setdefault(rule.head.relation, rule)
        relations = {}
        for name, types in columns.items():
            decl = self.declarations.get(name)
            if decl is not None:
                fields = tuple(f.name for f in decl.fields)
            else:
                fields = _field_names(first_rule.get(name), len(types))
            relations[name] = Relation(name, fields, tuple(types),
                                       bool(decl and decl.is_event), decl.pos if decl else None)
        return relations

    def _type_error(self, pos: ast.Pos, message: str, hint: str) -> None:
        self.error("type-mismatch", pos, message, hint)

    def run(self) -> Program:
        self.declare()
        written = self.items(ast.Rule)
        self.defined = (set(self.declarations) | set(self.extra)
                        | {r.head.relation for r in written})
        rules = [split for rule in written for split in split_rule(
            ast.Rule(rule.head, builtin_literals(rule.body, self.defined), rule.pos))]
        planned = self.check_rules(rules, self.defined)
        invariants = self.check_invariants()
        strata = self.check_strata(planned)
        relations = self.relations(planned, invariants, strata)
        if self.failed():
            raise RuleAnalysisError(_unique(self.diagnostics))
        return Program(relations, tuple(planned), tuple(invariants),
                       tuple(tuple(s) for s in strata), tuple(self.files), self.warnings())


def _unique(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return list(dict.fromkeys(diagnostics))


def _field_names(rule: ast.Rule | None, arity: int) -> tuple[str, ...]:
    """Names for an undeclared relation's columns: its first rule's head variables."""
    if rule is not None:
        names = [a.name if isinstance(a, ast.Var) and not a.name.startswith("_") else ""
                 for a in rule.head.args]
        if all(names) and len(set(names)) == len(names):
            return tuple(names)
    return tuple(f"c{i + 1}" for i in range(arity))


# ---- entry points ---------------------------------------------------------------------

def analyse(files: list[ast.RuleFile], extra_relations: Mapping[str, int] | None = None
            ) -> Program:
    """Check parsed files together; `extra_relations` are inputs known only by arity."""
    return _Analysis(files, extra_relations or {}).run()


def load_program(paths: list[str | Path]) -> Program:
    return analyse(load_files(list(paths)))


def program_from_source(text: str, path: str = "<input>",
                        extra_relations: Mapping[str, int] | None = None) -> Program:
    """Analyse source text; its `.include`s are read relative to `path`'s folder."""
    root = parse(text, path)
    return analyse(load_files([], root) + [root], extra_relations)


def analyse_query(program: Program, text: str, path: str = "<query>") -> Query:
    """Check a query body against a program; raise positioned errors for every mistake."""
    body = builtin_literals(parse_query(text, path), set(program.relations))
    query_file = ast.RuleFile(path, (), text)
    analysis = _Analysis([query_file], {n: r.arity for n, r in program.relations.items()})
    analysis.arity = {n: (r.arity, r.declared_at) for n, r in program.relations.items()}
    analysis.declarations = {n: ast.Declaration(n, (), r.is_event, r.declared_at)
                             for n, r in program.relations.items() if r.declared_at}
    analysis.defined = set(program.relations)
    analysis.check_literals(body, analysis.defined)
    planned, found = plan_body(body)
    analysis.report(found)
    columns = {n: list(r.types) for n, r in program.relations.items()}
    TypeChecker(columns, set(columns), analysis._type_error).check_body(planned)
    if analysis.failed():
        raise RuleAnalysisError(_unique(analysis.diagnostics))
    no_value = {local.var.name for local in found.negation_locals}
    columns = tuple(dict.fromkeys(
        v.name for literal in body for v in ast.literal_vars(literal) if v.name not in no_value))
    return Query(planned, columns, text, analysis.warnings())
