"""Recursive rules of three or more atoms split into joins of two, each stored without the
variables the rest of the rule no longer needs."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from engine.analysis.program import Program, Relation
from engine.analysis.safety import all_var_names
from engine.analysis.stratify import components, dependency_edges
from engine.lang import ast

# Semi-naive evaluation derives a tuple once per way of joining its rule's body, so a rule
# like `is_ptr(to, o) :- load(to, base), is_ptr(base, b), heap_ptr(b, o)` derives is_ptr
# once per base through which `to` loads from b: a new heap_ptr(b, o) looks up every base
# pointing to b (most of them never loaded from) before load(to, base) filters them. Split,
# `j(to, b) :- load(to, base), is_ptr(base, b)` keeps each (to, b) once, whatever the
# bases, and a new heap_ptr(b, o) reads only the j(to, b) there are. Measured on the
# hmmer-shaped points-to program (bench/pointsto.py, docs/benchmarks.md): the derivations
# and lookups of the recursive component fell by about half.
#
# A pair of atoms is joined when they share a variable that nothing else in the rule
# reads (so storing the pair's join drops it, and with it duplicates) and at least one of
# them is over the rule's own recursive component (a join of inputs alone is computed
# once anyway; two input relations sharing only a small column can be near a cross
# product). Pairs with an input atom go first (their join is bounded by that input), then
# pairs with an earlier split, then the rest, ties in the written order. The split is made
# without statistics, so that every plan of a program (plans change as facts arrive) has
# the same stored relations; the planner orders each two-atom body by the statistics.
# Rules with aggregates, `@` or disjunctions are left whole.

SEPARATOR = "#"  # in a split relation's name: a user's relation name never holds it


def split_recursive_joins(program: Program, kinds: Mapping[str, str]
                          ) -> tuple[Program, dict[str, str]]:
    """The program with its recursive rules of three or more atoms split, and the kinds
    with every new relation "tabled" (derived; materialised by bottom-up evaluation)."""
    derived = [name for name, kind in kinds.items() if kind == "tabled"]
    rules = [r for r in program.rules if kinds.get(r.head.relation) == "tabled"]
    edges = [e for e in dependency_edges(rules) if kinds.get(e.body) == "tabled"]
    self_loops = {e.head for e in edges if e.head == e.body}
    component: dict[str, frozenset[str]] = {}
    for scc in components(derived, edges):
        if len(scc) > 1 or scc[0] in self_loops:
            component.update((name, frozenset(scc)) for name in scc)
    relations = dict(program.relations)
    new_kinds = dict(kinds)
    new_rules: list[ast.Rule] = []
    added: dict[str, list[str]] = {}  # head relation -> the relations split from its rules
    for rule in program.rules:
        members = component.get(rule.head.relation)
        if members is None or not _splittable(rule):
            new_rules.append(rule)
            continue
        pieces = _split(rule, members, relations, added.setdefault(rule.head.relation, []))
        for piece in pieces:
            if piece.head.relation not in relations:
                relations[piece.head.relation] = _relation_of(piece.head, piece.body, relations)
                new_kinds[piece.head.relation] = "tabled"
        new_rules += pieces
    if not any(added.values()):
        return program, new_kinds
    strata = tuple(tuple(name for relation in stratum
                         for name in [relation, *added.get(relation, [])])
                   for stratum in program.strata)
    return dataclasses.replace(program, relations=relations, rules=tuple(new_rules),
                               strata=strata), new_kinds


def _splittable(rule: ast.Rule) -> bool:
    atoms = [lit for lit in rule.body if isinstance(lit, ast.Atom)]
    plain = all(isinstance(lit, (ast.Atom, ast.Negation)) or (
        isinstance(lit, ast.Comparison) and not ast.aggregates_in(lit.left)
        and not ast.aggregates_in(lit.right)) for lit in rule.body)
    return plain and len(atoms) >= 3 and not rule.is_fact


def _split(rule: ast.Rule, members: frozenset[str], relations: dict[str, Relation],
           names: list[str]) -> list[ast.Rule]:
    """The rule as a chain of rules of two atoms each, the new ones first."""
    body = list(rule.body)
    pieces: list[ast.Rule] = []
    made: set[str] = set()
    while sum(isinstance(lit, ast.Atom) for lit in body) >= 3:
        pair = _best_pair(rule.head, body, members | made)
        if pair is None:
            break
        i, j, kept = pair
        first, second = body[i], body[j]
        joined = set(all_var_names(first)) | set(all_var_names(second))
        attached = [lit for k, lit in enumerate(body) if not isinstance(lit, ast.Atom)
                    and all_var_names(lit) <= joined]
        name = f"{rule.head.relation}{SEPARATOR}{len(names) + 1}"
        names.append(name)
        made.add(name)
        head = ast.Atom(name, tuple(ast.Var(v, first.pos) for v in kept), first.pos)
        pieces.append(ast.Rule(head, (first, second, *attached), rule.pos))
        body = [head if k == i else lit for k, lit in enumerate(body)
                if k != j and not any(lit is a for a in attached)]
    return [*pieces, dataclasses.replace(rule, body=tuple(body))]


def _best_pair(head: ast.Atom, body: list[ast.Literal], recursive: set[str]
               ) -> tuple[int, int, list[str]] | None:
    """The pair of atoms to join first (positions in `body`) and the variables their join
    keeps, in order of appearance; None if no pair drops a variable they share."""
    atoms = [k for k, lit in enumerate(body) if isinstance(lit, ast.Atom)]
    found = []
    for x, i in enumerate(atoms):
        for j in atoms[x + 1:]:
            a, b = body[i], body[j]
            if a.relation not in recursive and b.relation not in recursive:
                continue
            both = _var_list(a) + [v for v in _var_list(b) if v not in _var_list(a)]
            joined = set(both)
            elsewhere = set(all_var_names(head))
            for k, lit in enumerate(body):
                if k in (i, j):
                    continue
                names = all_var_names(lit)
                if isinstance(lit, ast.Atom) or not names <= joined:
                    elsewhere |= names
            dropped = set(_var_list(a)) & set(_var_list(b)) - elsewhere
            if not dropped:
                continue
            rank = 0 if (a.relation not in recursive or b.relation not in recursive) else (
                1 if SEPARATOR in a.relation or SEPARATOR in b.relation else 2)
            found.append((rank, i, j, [v for v in both if v in elsewhere]))
    if not found:
        return None
    _, i, j, kept = min(found, key=lambda f: (f[0], f[1], f[2]))
    return i, j, kept


def _var_list(atom: ast.Atom) -> list[str]:
    return list(dict.fromkeys(arg.name for arg in atom.args if isinstance(arg, ast.Var)))


def _relation_of(head: ast.Atom, body, relations: Mapping[str, Relation]) -> Relation:
    """A split relation's signature: each column typed as the atom it comes from."""
    types = {}
    for lit in body:
        if isinstance(lit, ast.Atom):
            for arg, type_ in zip(lit.args, relations[lit.relation].types):
                if isinstance(arg, ast.Var):
                    types.setdefault(arg.name, type_)
    names = tuple(arg.name for arg in head.args)
    return Relation(head.relation, names, tuple(types.get(n) for n in names))
