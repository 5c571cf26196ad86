"""Prefix-aggregate indexes: an aggregate over a timed relation, in time order, read as of T."""

from __future__ import annotations

from dataclasses import dataclass

from engine.backends.swipl.clause import ClauseCompiler, ProgramContext
from engine.backends.swipl.prolog_text import call as _call
from engine.backends.swipl.prolog_text import conj as _conj
from engine.backends.swipl.prolog_text import indent as _indent
from engine.backends.swipl.prolog_text import predicate as _q
from engine.backends.swipl.prolog_text import variables as _vars
from engine.backends.swipl.time_index import PrefixShape
from engine.lang import ast


@dataclass
class Site:
    """One prefix-aggregate index, shared by identical aggregates of a program."""

    ident: int
    shape: PrefixShape
    source: str  # the event relation or timed view it aggregates
    on_clause: str  # the `on:` hook adding an entry, with 'px:@' for the index's name
    src_clause: str  # the index's source facts, to rebuild a group, with 'src:@'


def site_clauses(context: ProgramContext, aggregate: ast.Aggregate,
                 shape: PrefixShape) -> tuple[str, str]:
    """The `on:` hook adding an entry to the index answering `aggregate`, and the clause of
    its source facts ('px:@' and 'src:@' stand for the index's names): together, the index's
    identity, so that every compiled form of a program finds the same index."""
    clause = ClauseCompiler(context, sites=False)
    pattern, bound = clause.pattern(shape.atom)
    goals = clause.body(shape.conditions, clause.scope, bound)
    if aggregate.target is not None:
        more, target = clause.value(aggregate.target, clause.scope, bound)
        goals += more
    else:
        target = "1"
    keys = [clause.scope[name] for name in shape.keys]
    source = shape.atom.relation
    on_body = _conj(goals + [_call("px", "@", keys + ["T", target, "Kind"])])
    on_clause = f"{_call('on', source, pattern + ['T', 'Kind'])} :-\n    {_indent(on_body)}."
    if context.kinds[source] == "event":
        stored, col = list(pattern), context.program.relations[source].time_column
        read = [_call("e", source, stored + ["_"]), f"T = {stored[col]}"]
        if stored[col] == "_":
            stored[col] = "T"
            read = [_call("e", source, stored + ["_"])]
    else:
        read = [_call("v", source, pattern + ["T"])]
    src_body = _conj(read + goals + [f"V = {target}"])
    return on_clause, f"{_call('src', '@', keys + ['T', 'V'])} :-\n    {_indent(src_body)}."


def site_predicates(site: Site, incremental: bool) -> tuple[dict[str, int], dict[str, list[str]]]:
    """The index's dynamic predicates (name -> arity) and its clauses (predicate -> texts)."""
    k = str(site.ident)
    clauses = {_q("on", site.source): [site.on_clause.replace("'px:@'", _q("px", k))],
               _q("src", k): [site.src_clause.replace("'src:@'", _q("src", k))]}
    keys = _vars("K", len(site.shape.keys))
    dynamic = {_q("k", k): len(keys) + 2, _q("x", k): 7, _q("d", k): 2}
    text = _SITE_TEMPLATE
    for kind in ("px", "pq", "bs", "rb", "kept", "before", "src", "k", "x", "d", "forget"):
        text = text.replace(f"<{kind}>", _q(kind, k))
    text = text.replace("<KEYS>", "".join(key + ", " for key in keys))
    probe = f"once({_q('x', k)}(_, Gid, _, _, _, _, _)),"
    text = text.replace("<dep>", "\n        " + probe if incremental else "")
    clauses[f"site {k}"] = [text.strip()]
    return dynamic, clauses


# A prefix-aggregate index. `k` maps a group key to the group's id and the name of a global
# variable holding its number of entries and latest running values (so "now" is one lookup,
# and appending rewrites no clause: a retract/assert per fact leaves dead clauses that slow
# every lookup until clause GC). `x` holds every entry in time order, numbered from 0 and
# keyed by one integer, Slot = Group << 32 + Number, so that each probe of a binary search is
# one first-argument hash lookup ("as of T" is O(log n)). With incremental tabling, `<dep>`
# reads `x(_, Group, …)` so that a table depends on every later entry of its group. A value
# that arrives out of time order marks the group dirty (`d`, with the earliest such time);
# at the end of the batch the group's entries from that time on are made again from its
# source facts (a view fed by several event relations, one after another in a batch, gets
# its facts out of order in each: remaking whole groups cost 10% of a replay's Prolog time).
_SITE_TEMPLATE = r"""
<px>(<KEYS>T, V, Kind) :-
    (   <k>(<KEYS>Gid, Key)
    ->  nb_getval(Key, s(Len, T0, C0, S0, Mn0, Mx0)),
        (   Kind == new, T >= T0
        ->  tl_px_next(V, C0, S0, Mn0, Mx0, C, S, Mn, Mx),
            Slot is Gid << 32 + Len,
            assertz(<x>(Slot, Gid, T, C, S, Mn, Mx)),
            Len1 is Len + 1,
            nb_setval(Key, s(Len1, T, C, S, Mn, Mx))
        ;   <d>(Gid, From)
        ->  (   T < From
            ->  retract(<d>(Gid, From)), assertz(<d>(Gid, T))
            ;   true
            )
        ;   assertz(<d>(Gid, T))
        )
    ;   flag(tl_gid, Gid, Gid + 1),
        atom_concat(tl_px_, Gid, Key),
        tl_px_first(V, C, S, Mn, Mx),
        Slot is Gid << 32,
        assertz(<x>(Slot, Gid, T, C, S, Mn, Mx)),
        nb_setval(Key, s(1, T, C, S, Mn, Mx)),
        assertz(<k>(<KEYS>Gid, Key))
    ).

<pq>(<KEYS>AsOf, C, S, Mn, Mx) :-
    (   <k>(<KEYS>Gid, Key),<dep>
        nb_getval(Key, s(Len, TL, CL, SL, MnL, MxL))
    ->  (   TL =< AsOf
        ->  C = CL, S = SL, Mn = MnL, Mx = MxL
        ;   Slot0 is Gid << 32, <x>(Slot0, _, T0, _, _, _, _), T0 =< AsOf
        ->  Last is Len - 1,
            <bs>(Gid, 0, Last, AsOf, I),
            Slot is Gid << 32 + I,
            <x>(Slot, _, _, C, S, Mn, Mx)
        ;   C = 0, S = 0, Mn = '$none', Mx = '$none'
        )
    ;   C = 0, S = 0, Mn = '$none', Mx = '$none'
    ).

<bs>(Gid, Lo, Hi, AsOf, I) :-
    (   Hi - Lo =< 1
    ->  I = Lo
    ;   Mid is (Lo + Hi) // 2,
        Slot is Gid << 32 + Mid,
        <x>(Slot, _, T, _, _, _, _),
        (   T =< AsOf
        ->  <bs>(Gid, Mid, Hi, AsOf, I)
        ;   <bs>(Gid, Lo, Mid, AsOf, I)
        )
    ).

<rb> :-
    forall(retract(<d>(Gid, From)), <rb>(Gid, From)).

%   Entries before From (the earliest time that arrived out of order) stand; the rest are
%   made again from the group's source facts at From or later.
<rb>(Gid, From) :-
    <k>(<KEYS>Gid, Key),
    nb_getval(Key, s(Len, _, _, _, _, _)),
    <kept>(Gid, Len, From, Keep),
    findall(T-V, ( <src>(<KEYS>T, V), T >= From ), Pairs),
    msort(Pairs, Sorted),
    Last0 is Len - 1,
    forall(between(Keep, Last0, I),
           ( Slot is Gid << 32 + I, retract(<x>(Slot, _, _, _, _, _, _)) )),
    (   Keep =:= 0
    ->  tl_px_entries(Sorted, Entries)
    ;   Before is Gid << 32 + Keep - 1,
        <x>(Before, _, _, C0, S0, Mn0, Mx0),
        tl_px_more(Sorted, Keep, C0, S0, Mn0, Mx0, Entries)
    ),
    forall(member(e(I, T, C, S, Mn, Mx), Entries),
           ( Slot is Gid << 32 + I, assertz(<x>(Slot, Gid, T, C, S, Mn, Mx)) )),
    last(Entries, e(Last, TL, CL, SL, MnL, MxL)),
    Len1 is Last + 1,
    nb_setval(Key, s(Len1, TL, CL, SL, MnL, MxL)).

%   How many of a group's entries (in time order) are earlier than From.
<kept>(Gid, Len, From, Keep) :-
    Slot0 is Gid << 32,
    <x>(Slot0, _, T0, _, _, _, _),
    (   T0 >= From
    ->  Keep = 0
    ;   Last is Len - 1,
        <before>(Gid, 0, Last, From, I),
        Keep is I + 1
    ).

%   The last index of entries earlier than From, between Lo (earlier) and Hi.
<before>(Gid, Lo, Hi, From, I) :-
    (   Hi =< Lo
    ->  I = Lo
    ;   Mid is (Lo + Hi + 1) // 2,
        Slot is Gid << 32 + Mid,
        <x>(Slot, _, T, _, _, _, _),
        (   T < From
        ->  <before>(Gid, Mid, Hi, From, I)
        ;   Hi1 is Mid - 1,
            <before>(Gid, Lo, Hi1, From, I)
        )
    ).

<forget> :-
    forall(<k>(<KEYS>_, Key), nb_delete(Key)).
"""
