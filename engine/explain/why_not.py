"""Engine.why_not: for each rule that could derive a fact, the first body literal that fails
with the bindings so far, and the nearest miss."""

from __future__ import annotations

from dataclasses import dataclass

from engine.errors import QueryError
from engine.explain.explaining import explain, parse_goal
from engine.explain.proof import Node, indented, when
from engine.explain.prover import EventLookup, Prover, name_wildcards
from engine.explain.terms import (
    atom_values,
    fact_text,
    ground_body,
    ground_literal,
    ground_term,
    unify_head,
    value_text,
)
from engine.lang import ast, pretty
from engine.results import Result

TRIED = 50  # bindings of the passing prefix searched for the nearest miss


@dataclass(frozen=True)
class Attempt:
    """Why one rule (or the relation's own facts) does not give the fact."""

    rule: dict | None  # {"path", "line", "text"}; None for an event or input relation
    reason: str  # head | literal | facts
    message: str  # the failing part, in words
    literal: str | None = None  # the failing body literal as written
    ground: str | None = None  # ... with the bindings that come closest
    index: int | None = None  # its position in the (evaluation-ordered) body
    nearest: str | None = None  # the nearest miss, in words
    proof: Node | None = None  # a negated atom's proof: why the negation fails

    def to_json(self) -> dict:
        return {"rule": self.rule, "reason": self.reason, "message": self.message,
                "literal": self.literal, "ground": self.ground, "index": self.index,
                "nearest": self.nearest,
                "proof": None if self.proof is None else self.proof.to_json()}

    def render(self) -> str:
        lines = []
        if self.rule is not None:
            lines.append(f"{self.rule['path']}:{self.rule['line']}  {self.rule['text']}")
        lines.append(f"  {self.message}")
        if self.nearest:
            lines.append(f"  nearest miss: {self.nearest}")
        if self.proof is not None:
            lines += indented(self.proof.render(), 4)
        return "\n".join(lines)


@dataclass(frozen=True)
class WhyNot:
    fact: str
    as_of: int | None
    holds: bool
    attempts: tuple[Attempt, ...] = ()
    proof: Node | None = None  # when the fact does hold

    def to_json(self) -> dict:
        return {"fact": self.fact, "as_of": self.as_of, "holds": self.holds,
                "proof": None if self.proof is None else self.proof.to_json(),
                "attempts": [a.to_json() for a in self.attempts]}

    def render(self) -> str:
        if self.holds:
            head = f"{self.fact} holds {when(self.as_of)}:"
            return head + ("\n" + self.proof.render() if self.proof is not None else "")
        lines = [f"{self.fact} does not hold {when(self.as_of)}."]
        return "\n\n".join(lines + [a.render() for a in self.attempts])


def why_not(engine, fact: str, *, as_of: int | None = None,
            events: EventLookup | None = None) -> WhyNot:
    """Why `fact` (an atom; `_` for any value) is not an answer as of `as_of`."""
    body = parse_goal(engine, fact)
    if len(body) != 1 or not isinstance(body[0], ast.Atom):
        raise QueryError(f"why-not takes one fact such as p(\"a\", 1), not {fact.strip()!r}")
    atom = body[0]
    prover = Prover(engine, as_of)
    text = fact.strip()
    if prover.holds(body):
        found = explain(engine, text, as_of=as_of, prover=prover, events=events)
        return WhyNot(text, as_of, True, proof=found.proofs[0] if found.proofs else None)
    wanted = [arg.value if isinstance(arg, ast.Const) else None for arg in atom.args]
    relation = engine.program.relations[atom.relation]
    attempts = []
    rules = prover.rules.get(atom.relation, [])
    if relation.is_event or not rules or atom.relation in prover.written:
        kind = "event" if relation.is_event else "fact"
        attempts.append(Attempt(None, "facts", f"no {kind} {pretty.atom(atom)} {when(as_of)}",
                                pretty.atom(atom), pretty.atom(atom), 0,
                                _nearest_atom(prover, atom)))
    for rule in engine.program.rules_for(atom.relation):
        if not rule.is_fact:
            attempts.append(failed_attempt(prover, rule, wanted, events))
    return WhyNot(text, as_of, False, tuple(attempts))


def failed_attempt(prover: Prover, rule: ast.Rule, wanted: list,
                   events: EventLookup | None = None) -> Attempt:
    info = prover.rule_info(rule)
    bindings = unify_head(rule.head, wanted)
    if bindings is None:
        return Attempt(info, "head", "its head " + pretty.atom(rule.head) + " cannot match "
                       + fact_text(rule.head.relation, ["_" if v is None else v for v in wanted])
                       .replace('"_"', "_"))
    # The planner's `_agg1 = sum …` variables, shown as the aggregates they stand for.
    aggregates = {lit.left.name: lit.right for lit in rule.body
                  if isinstance(lit, ast.Comparison) and isinstance(lit.left, ast.Var)
                  and isinstance(lit.right, ast.Aggregate)}
    for index, literal in enumerate(rule.body):
        if prover.holds(ground_body(rule.body[:index + 1], bindings)):
            continue
        before = ground_body(rule.body[:index], bindings)
        rows = prover.ask(before, limit=TRIED) if before else None
        tried = [{**bindings, **dict(zip(rows.columns, row))} for row in rows.rows] \
            if rows is not None else [dict(bindings)]
        return _failed_literal(prover, info, index, literal, tried, aggregates, bindings, events)
    return Attempt(info, "literal", "every literal of its body holds, yet the head differs")


def _failed_literal(prover, info, index, literal, tried, aggregates, bindings_of_head,
                    events) -> Attempt:
    written = pretty.literal(ground_literal(literal, aggregates))
    first = ground_literal(literal, tried[0])
    if isinstance(literal, ast.Atom):
        nearest = None
        head = set(bindings_of_head)
        for bindings in tried[:10]:
            nearest = _nearest_atom(prover, ground_literal(literal, bindings), literal, head)
            if nearest:
                first = ground_literal(literal, bindings)
                break
        return Attempt(info, "literal", f"no {pretty.literal(first)} {when(prover.as_of)}",
                       written, pretty.literal(first), index, nearest)
    if isinstance(literal, ast.AsOf):  # `p(…) @ t`: p did not (or, negated, did) hold then
        at = first.time.value if isinstance(first.time, ast.Const) else None
        at = at if prover.as_of is None or at is None else min(at, prover.as_of)
        if not literal.negated:
            return Attempt(info, "literal", f"no {pretty.atom(first.atom)} {when(at)}",
                           written, pretty.literal(first), index, None)
        found = explain(prover.engine, pretty.atom(first.atom), as_of=at, events=events)
        proof = found.proofs[0] if found.proofs else None
        return Attempt(info, "literal", f"{pretty.atom(first.atom)} holds {when(at)}, so "
                       f"{pretty.literal(first)} fails", written, pretty.literal(first),
                       index, None, proof)
    if isinstance(literal, ast.Negation):
        atom = first.atom
        found = explain(prover.engine, pretty.atom(atom), as_of=prover.as_of, prover=prover,
                        events=events)
        proof = found.proofs[0] if found.proofs else None
        return Attempt(info, "literal", f"{pretty.atom(atom)} holds, so {pretty.literal(first)} "
                       "fails", written, pretty.literal(first), index, None, proof)
    best = _closest(prover, literal, tried, aggregates)
    ground, nearest = best if best else (pretty.literal(first), None)
    return Attempt(info, "literal", f"{written} is false for every answer so far", written,
                   ground, index, nearest)


def _closest(prover, literal: ast.Comparison, tried, aggregates) -> tuple[str, str] | None:
    """The bindings under which the comparison's two sides come nearest, described."""
    best = None
    for bindings in tried:
        ground = ground_literal(literal, bindings)
        body = (ast.Comparison("=", ast.Var("__tl_left"), ground.left),
                ast.Comparison("=", ast.Var("__tl_right"), ground.right))
        answer = prover.ask(body, limit=1)
        if not answer.rows:
            continue
        left, right = answer.rows[0]
        gap = abs(left - right) if not isinstance(left, str) and not isinstance(right, str) \
            else (0 if left == right else 1)
        if best is None or gap < best[0]:
            best = (gap, ground, left, right)
    if best is None:
        return None
    _, ground, left, right = best
    sides = []
    for side, value in ((literal.left, left), (literal.right, right)):
        if not isinstance(side, ast.Const):
            sides.append(f"{pretty.term(ground_term(side, aggregates))} is {value_text(value)}")
    written = pretty.literal(ground_literal(literal, aggregates))
    return pretty.literal(ground), f"{', '.join(sides)}; the rule needs {written}"


def _nearest_atom(prover: Prover, atom: ast.Atom, written: ast.Atom | None = None,
                  fixed: set[str] = frozenset()) -> str | None:
    """Facts that match the ground atom in all but one argument, or with a repeated variable
    taking two values, described. Arguments bound by earlier literals are varied first, then
    repeated variables, and those fixed by the fact asked about last."""
    relation = prover.program.relations[atom.relation]
    named = name_wildcards((atom,))[0][0]
    written_args = written.args if written is not None else atom.args

    def given(i: int) -> bool:
        arg = written_args[i]
        return isinstance(arg, ast.Const) or (isinstance(arg, ast.Var) and arg.name in fixed)

    def ask(i: int) -> tuple[ast.Atom, Result] | None:
        free = list(named.args)
        free[i] = ast.Var("__tl_other")
        loose = ast.Atom(atom.relation, tuple(free))
        answer = prover.ask((loose,), limit=3)
        return (loose, answer) if answer.rows else None

    def example(loose: ast.Atom, answer: Result) -> str:
        bound = ground_literal(loose, dict(zip(answer.columns, answer.rows[0])))
        return fact_text(atom.relation, atom_values(bound))

    seen: dict[str, int] = {}
    repeated = []  # (first, later) positions of a variable written twice
    for i, arg in enumerate(named.args):
        if isinstance(arg, ast.Var):
            if arg.name in seen:
                repeated.append((seen[arg.name], i))
            seen.setdefault(arg.name, i)
    varied = [i for i in range(len(atom.args)) if not given(i)]
    for step in [*varied, *repeated, *(i for i in range(len(atom.args)) if given(i))]:
        if isinstance(step, tuple):
            first, later = step
            found = ask(later)
            if found is None:
                continue
            loose, answer = found
            row = dict(zip(answer.columns, answer.rows[0]))
            bound = ground_literal(loose, row)
            one, two = bound.args[first].value, bound.args[later].value
            return (f"{relation.fields[first]} is {value_text(one)} but {relation.fields[later]} "
                    f"is {value_text(two)}; the rule needs them equal "
                    f"({named.args[first].name}): {example(loose, answer)}")
        if not isinstance(atom.args[step], ast.Const):
            continue
        found = ask(step)
        if found is not None:
            loose, answer = found
            other = answer.columns.index("__tl_other")
            values = ", ".join(dict.fromkeys(value_text(row[other]) for row in answer.rows))
            return (f"{relation.fields[step]} is {values} instead of "
                    f"{value_text(atom.args[step].value)}: e.g. {example(loose, answer)}")
    return None
