"""A body unfolded through the rules down to event atoms, and which bodies only grow in time."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import count

from engine.lang import ast

# Unfolding multiplies a body by the rules of each derived atom; past these bounds an atom is
# dropped instead (which keeps the result a relaxation, see `unfold`).
MAX_DERIVATIONS = 32
MAX_DEPTH = 6


def monotone_relations(program) -> frozenset[str]:
    """Relations whose answers as of T can only grow with T: event relations (their facts
    are never taken back), stored relations, and derived relations whose every rule reads
    only such relations positively, with comparisons free of aggregates. The greatest such
    set, so positive recursion is monotone."""
    monotone = set(program.relations)
    changed = True
    while changed:
        changed = False
        for name in list(monotone):
            if any(not _monotone_literals(rule.body, monotone) for rule in program.rules_for(name)):
                monotone.discard(name)
                changed = True
    return frozenset(monotone)


def is_monotone(program, body: Sequence[ast.Literal]) -> bool:
    return _monotone_literals(tuple(body), monotone_relations(program))


def _monotone_literals(body: Sequence[ast.Literal], monotone) -> bool:
    for literal in body:
        if isinstance(literal, ast.Atom):
            if literal.relation not in monotone:
                return False
        elif isinstance(literal, ast.Comparison):
            if ast.aggregates_in(literal.left) or ast.aggregates_in(literal.right):
                return False
        else:  # a negation (or anything analysis did not split away)
            return False
    return True


@dataclass(frozen=True)
class Derivation:
    """A conjunction of event atoms, stored atoms and plain comparisons; `times` names the
    variable holding each event atom's time. As of T it holds iff a row of it has every
    time <= T: so it became true at the least, over its rows, of their greatest time."""

    body: tuple[ast.Literal, ...]
    times: tuple[str, ...]


@dataclass(frozen=True)
class Unfolding:
    """`derivations` cover the body: whenever the body has an answer as of T, one of them
    does. `exact`: nothing was dropped, so they also imply it (the body holds as of T iff
    one of them does)."""

    derivations: tuple[Derivation, ...]
    exact: bool


def unfold(program, body: Sequence[ast.Literal]) -> Unfolding:
    """Replace each derived atom of `body` by the bodies of its rules, down to event and
    stored atoms. What cannot be unfolded is dropped — negations, aggregates, atoms past
    MAX_DEPTH or MAX_DERIVATIONS, comparisons left without their variables — and dropping a
    conjunct only loosens a body, so the derivations still cover it."""
    names = count(1)
    found = _conjunction(program, tuple(body), 0, names)
    derivations, exact = [], True
    for literals, whole in found:
        derivation, kept = _derivation(program, literals, names)
        derivations.append(derivation)
        exact = exact and whole and kept
    return Unfolding(tuple(dict.fromkeys(derivations)), exact)


Option = tuple[tuple[ast.Literal, ...], bool]  # literals, and whether nothing was dropped


def _conjunction(program, body, depth: int, names) -> list[Option]:
    options: list[Option] = [((), True)]
    for literal in body:
        choices = _literal(program, literal, depth, names)
        if len(options) * len(choices) > MAX_DERIVATIONS:
            choices = [((), False)]
        options = [(mine + theirs, a and b) for mine, a in options for theirs, b in choices]
    return options


def _literal(program, literal, depth: int, names) -> list[Option]:
    if isinstance(literal, ast.Comparison):
        if ast.aggregates_in(literal.left) or ast.aggregates_in(literal.right):
            return [((), False)]
        return [((literal,), True)]
    alternatives = getattr(literal, "alternatives", None)  # a disjunction, where analysis kept one
    if alternatives is not None:
        return [o for alt in alternatives for o in _conjunction(program, alt, depth, names)]
    if not isinstance(literal, ast.Atom):
        return [((), False)]  # a negation: it can only remove answers
    rules = program.rules_for(literal.relation)
    if not rules or program.relations[literal.relation].is_event:
        return [((literal,), True)]  # an event's facts (even the program's own) carry a time
    if depth >= MAX_DEPTH:
        return [((), False)]
    options: list[Option] = []
    for rule in rules:
        inner, extra = _rule_at(rule, literal, next(names))
        for literals, whole in _conjunction(program, inner, depth + 1, names):
            options.append((literals + extra, whole))
    return options


def _rule_at(rule: ast.Rule, atom: ast.Atom, number: int):
    """The rule's body with its variables renamed apart and its head matched to `atom`'s
    arguments: (body, comparisons the match needs)."""
    mapping: dict[str, ast.Term] = {name: ast.Var(f"__u{number}_{name}")
                                    for name in ast.var_names(rule)}
    extra, matched = [], set()
    for head_arg, arg in zip(rule.head.args, atom.args):
        if isinstance(head_arg, ast.Var) and head_arg.name not in matched \
                and isinstance(arg, ast.Var | ast.Const):
            mapping[head_arg.name] = arg  # the head's variable is the atom's argument
            matched.add(head_arg.name)
        elif not isinstance(arg, ast.Wildcard):
            extra.append(ast.Comparison("=", arg, substitute(head_arg, mapping), atom.pos))
    return substitute(rule.body, mapping), tuple(extra)


def _derivation(program, literals, names) -> tuple[Derivation, bool]:
    """Event atoms get a variable in their time column; comparisons are put after what
    binds them, and dropped if nothing does. Returns (derivation, nothing dropped)."""
    placed, waiting, times, bound = [], [], [], set()

    def flush() -> None:  # comparisons go right after what binds them (a join, not a product)
        nonlocal waiting
        while ready := [c for c in waiting if _usable(c, bound)]:
            for comparison in ready:
                bound.update(v.name for v in ast.literal_vars(comparison))
            placed.extend(ready)
            waiting = [c for c in waiting if c not in ready]

    for literal in literals:
        if isinstance(literal, ast.Comparison):
            waiting.append(literal)
            flush()
            continue
        relation = program.relations[literal.relation]
        column = relation.time_column
        if column is not None:
            args = list(literal.args)
            if not isinstance(args[column], ast.Var):
                time = ast.Var(f"__t{next(names)}")
                if not isinstance(args[column], ast.Wildcard):
                    waiting.append(ast.Comparison("=", time, args[column], literal.pos))
                args[column] = time
                literal = ast.Atom(literal.relation, tuple(args), literal.pos)
            times.append(args[column].name)
        placed.append(literal)
        bound.update(v.name for v in ast.literal_vars(literal))
        flush()
    return Derivation(tuple(placed), tuple(dict.fromkeys(times))), not waiting


def _usable(comparison: ast.Comparison, bound: set[str]) -> bool:
    """All its variables are bound, or it is `x = term` binding x from bound ones."""
    left = {v.name for v in ast.term_vars(comparison.left)}
    right = {v.name for v in ast.term_vars(comparison.right)}
    if left <= bound and right <= bound:
        return True
    if comparison.op != "=":
        return False
    return (isinstance(comparison.left, ast.Var) and right <= bound) or \
        (isinstance(comparison.right, ast.Var) and left <= bound)


def substitute(node, mapping: dict[str, ast.Term]):
    """`node` (a term, literal or tuple of them) with variables replaced per `mapping`."""
    if isinstance(node, ast.Var):
        return mapping.get(node.name, node)
    if isinstance(node, tuple):
        return tuple(substitute(item, mapping) for item in node)
    if dataclasses.is_dataclass(node) and not isinstance(node, ast.Pos):
        changes = {f.name: substitute(getattr(node, f.name), mapping)
                   for f in dataclasses.fields(node) if f.name != "pos"}
        return dataclasses.replace(node, **changes)
    return node


def event_patterns(program, body: Sequence[ast.Literal], depth: int = 0) -> list[ast.Atom]:
    """Event atoms covering every fact an evaluation of `body` can read — through rules,
    negations and aggregates alike — with the body's constants kept and every variable a
    wildcard: an answer of `body` as of T can change only at the time of a fact matching
    one. Past MAX_DEPTH a relation stands for all its events."""
    patterns: list[ast.Atom] = []
    for node in ast.walk(tuple(body), lambda n: not isinstance(n, ast.Atom)):
        if not isinstance(node, ast.Atom):
            continue
        relation = program.relations[node.relation]
        if relation.is_event:
            patterns.append(ast.Atom(node.relation, tuple(
                arg if isinstance(arg, ast.Const) else ast.Wildcard() for arg in node.args)))
        elif depth >= MAX_DEPTH:
            patterns += [_everything(program.relations[name])
                         for name in _reads(program, node.relation)]
        else:
            for number, rule in enumerate(program.rules_for(node.relation)):
                inner, _ = _rule_at(rule, node, number)
                patterns += event_patterns(program, inner, depth + 1)
    return list(dict.fromkeys(patterns))


def _everything(relation) -> ast.Atom:
    return ast.Atom(relation.name, tuple(ast.Wildcard() for _ in range(relation.arity)))


def _reads(program, name: str) -> set[str]:
    """The event relations `name` reads, directly or through rules."""
    todo, seen = [name], set()
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo += [atom.relation for rule in program.rules_for(current)
                     for atom, _ in ast.body_atoms(rule.body)]
    return {n for n in seen if program.relations[n].is_event}
