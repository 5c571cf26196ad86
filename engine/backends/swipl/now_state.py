"""The state of bottom-up "now" in a program's module: what is materialised, what arrived."""

from __future__ import annotations

from collections.abc import Mapping

from engine.analysis.program import Program
from engine.backends.swipl.bottomup import DONE, REDONE, bottom_up_plan
from engine.backends.swipl.prefix_index import Site
from engine.backends.swipl.prolog_text import atom as _atom
from engine.backends.swipl.prolog_text import call as _call
from engine.backends.swipl.prolog_text import predicate as _q
from engine.backends.swipl.prolog_text import variables as _vars
from engine.lang import ast

DELTA_LIMIT = 200_000  # new facts kept for one incremental step; past it, evaluate in full


def bottom_up_state(program: Program, kinds: Mapping[str, str], module: str,
                    incremental: bool = True, sites: Mapping[str, Site] | None = None
                    ) -> tuple[str, dict[str, list[str]], dict]:
    """For the program's module: the text of the stored predicates of bottom-up evaluation,
    `'bu:ensure'` (bring every relation up to date), `'bu:dirty'/1` (called with the
    relations a batch wrote) and `'bu:forget'` (free the state); and the `on:` hook clauses
    (per event or view relation) that keep what arrived for the next incremental step.

    The state (a global variable): `clean`; `delta` (only tracked facts arrived, kept in
    `'de:r'`: the next evaluation is incremental); `full` (or none: the next evaluation is
    from scratch, e.g. after facts of an input relation without time, or an interrupted
    evaluation). `incremental=False` always evaluates from scratch (to test against)."""
    plan = bottom_up_plan(program, kinds, sites=sites)
    state = _q("bu", module)
    hooks = {}
    for name in sorted(plan.tracked):
        args = _vars("A", program.relations[name].arity)
        hooks[name] = [f"{_call('on', name, args + ['_', 'new'])} :-\n"
                       f"    nb_current({state}, S), S \\== full,\n"
                       f"    assertz({_call('de', name, args)}),\n    fail."]
    read = {atom.relation for rule in program.rules if kinds.get(rule.head.relation) == "tabled"
            for atom, _ in ast.body_atoms(rule.body)}
    untracked = sorted(n for n, k in kinds.items()
                       if k == "tabled" or (k == "base" and n in read))
    stored = [_call("de", n, ["_"] * program.relations[n].arity) for n in sorted(plan.tracked)]
    mode = f"nb_current({state}, delta), 'bu:small'" if incremental else "fail"
    # Per component: materialised ('bu:done'(k)) or absent. The module's state says what
    # arrived since the last evaluation: clean (nothing), delta (kept in 'de:r': the
    # materialised components are brought up to date incrementally) or full (they are
    # dropped, evaluated again on demand). A component is marked done only once evaluated;
    # an interrupted step leaves the state full, so nothing half-made counts as done.
    text = plan.declarations() + f":- dynamic(({REDONE}/1)).\n:- dynamic(({DONE}/1)).\n" + (
        f"'bu:ensure' :- 'bu:ensure'({list(range(1, len(plan.below) + 1))}).\n"
        f"'bu:ensure'(Cone) :-\n    (   nb_current({state}, clean)\n    ->  true\n"
        f"    ;   {mode}\n    ->  nb_setval({state}, full),\n        'bu:incr',\n"
        f"        'bu:clear',\n        nb_setval({state}, clean)\n"
        f"    ;   nb_setval({state}, full),\n        retractall({DONE}(_)),\n"
        f"        'bu:clear',\n        nb_setval({state}, clean)\n    ),\n"
        f"    (   member(K, Cone), \\+ {DONE}(K)\n    ->  'bu:drop_helpers',\n"
        f"        forall(( member(K1, Cone), \\+ {DONE}(K1) ),\n"
        f"               ( 'bu:scc'(K1), assertz({DONE}(K1)) ))\n"
        f"    ;   true\n    ).\n"
        f"'bu:dirty'(Written) :-\n"
        f"    (   nb_current({state}, S), S \\== full,\n"
        f"        \\+ ( member(R, Written), memberchk(R, [{', '.join(map(_atom, untracked))}]) )\n"
        f"    ->  nb_setval({state}, delta)\n"
        f"    ;   nb_setval({state}, full),\n        'bu:clear'\n    ).\n"
        f"'bu:small' :-\n"
        f"    aggregate_all(sum(C), ( member(P, [{', '.join(stored)}]),\n"
        f"                            predicate_property(P, number_of_clauses(C)) ), New),\n"
        f"    New =< {DELTA_LIMIT}.\n"
        f"'bu:forget' :- ( nb_current({state}, _) -> nb_delete({state}) ; true ).\n")
    return text, hooks, plan.helpers

