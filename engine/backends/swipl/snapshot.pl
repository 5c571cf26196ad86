/*  Engine snapshots: a compiled program's whole stored state written to a file and read back
    into another module of the same program (engine/backends/swipl/snapshot.py).

    The state is every dynamic predicate the module defines (event facts with their seqs,
    base facts, timed views, prefix-aggregate entries, the materialised 'm:' tuples, the
    deltas and 'bu:done' marks of bottom-up evaluation), the module's bottom-up state
    (`'bu:<Module>'`: clean, delta or full) and the running values of its prefix aggregates
    (one global variable per group). Tables are left out: they are caches, made again on
    demand. The file is a sequence of fast_write/2 terms: fast_read/2 of them and assertz
    costs ~1.5 us a fact, against ~15 us through tl_batch (its duplicate tests and hooks).
*/
:- module(tempolog_snapshot, [tl_dump_state/4, tl_restore_state/4, tl_prolog_version/2]).
:- use_module(library(lists)).

%   tl_dump_state(+Module, +File, _, -Json): write Module's state to File; answers how many
%   facts of how many predicates were written.
tl_dump_state(Module, File, _, Json) :-
    state_variable(Module, Variable),
    ( nb_current(Variable, State) -> true ; State = none ),
    findall(g(Gid, Value), ( group_key(Module, Gid, Key), nb_getval(Key, Value) ), Groups),
    setup_call_cleanup(
        open(File, write, Out, [type(binary)]),
        ( fast_write(Out, state(State, Groups)),
          findall(N, ( stored(Module, Name, Arity, Head),
                       findall(Head, clause(Module:Head, true), Facts),
                       length(Facts, N),
                       fast_write(Out, p(Name, Arity, Facts)) ), Counts),
          fast_write(Out, end) ),
        close(Out)),
    length(Counts, Predicates),
    sum_list(Counts, Facts),
    format(string(Json), '{"predicates": ~d, "facts": ~d}', [Predicates, Facts]).

%   tl_restore_state(+Module, +File, _, -Json): replace Module's state by the one in File,
%   written by tl_dump_state for the same program (snapshot.py checks that by its hash).
%   Prefix-aggregate groups are renumbered from this process's next free group id, so that
%   their global variables cannot meet another engine's.
tl_restore_state(Module, File, _, Json) :-
    setup_call_cleanup(
        open(File, read, In, [type(binary)]),
        ( fast_read(In, state(State, Groups)),
          abolish_module_tables(Module),
          forget(Module),
          regroup(Groups, Offset),
          restore(In, Module, Offset, 0, Facts) ),
        close(In)),
    state_variable(Module, Variable),
    ( State == none -> true ; nb_setval(Variable, State) ),
    format(string(Json), '{"facts": ~d}', [Facts]).

state_variable(Module, Variable) :-
    atom_concat('bu:', Module, Variable).

% The predicates holding facts: dynamic, defined here (not the runtime's), not the wrapped
% clauses of a tabled predicate, not a kept aggregate's trie (kept.py: a blob, not written;
% restored empty, each group is aggregated again when first read).
stored(Module, Name, Arity, Head) :-
    current_predicate(Module:Name/Arity),
    \+ sub_atom(Name, 0, _, _, '$'),
    \+ sub_atom(Name, 0, _, _, 'cnt:'),
    functor(Head, Name, Arity),
    predicate_property(Module:Head, dynamic),
    \+ predicate_property(Module:Head, imported_from(_)).

% A prefix-aggregate group: 'k:<site>'(Keys…, Gid, Key), Key naming its global variable.
group_key(Module, Gid, Key) :-
    stored(Module, Name, Arity, Head),
    site_predicate(Name, k),
    arg(Arity, Head, Key),
    Before is Arity - 1,
    arg(Before, Head, Gid),
    clause(Module:Head, true).

site_predicate(Name, Kind) :-
    once(sub_atom(Name, Before, 1, After, ':')),
    sub_atom(Name, 0, Before, _, Kind),
    sub_atom(Name, _, After, 0, Site),
    atom_number(Site, _).

% Everything the module holds now goes first: the facts a new engine asserted (the program's
% own ground facts) and the global variables of its groups.
forget(Module) :-
    forall(group_key(Module, _, Key), nb_delete(Key)),
    forall(stored(Module, _, _, Head), retractall(Module:Head)),
    state_variable(Module, Variable),
    ( nb_current(Variable, _) -> nb_delete(Variable) ; true ).

%   regroup(+Groups, -Offset): take group ids for the snapshot's groups (Offset is added to
%   each) and set their running values.
regroup([], 0) :- !.
regroup(Groups, Offset) :-
    findall(Gid, member(g(Gid, _), Groups), Gids),
    min_list(Gids, Low),
    max_list(Gids, High),
    Count is High - Low + 1,
    flag(tl_gid, Base, Base + Count),
    Offset is Base - Low,
    forall(member(g(Gid, Value), Groups),
           ( New is Gid + Offset, atom_concat(tl_px_, New, Key), nb_setval(Key, Value) )).

restore(In, Module, Offset, Facts0, Facts) :-
    fast_read(In, Term),
    (   Term == end
    ->  Facts = Facts0
    ;   Term = p(Name, Arity, Clauses)
    ->  functor(Head, Name, Arity),
        (   predicate_property(Module:Head, dynamic)
        ->  true
        ;   throw(error(existence_error(dynamic_procedure, Module:Name/Arity), _))
        ),
        kind(Name, Offset, Kind),
        add(Kind, Clauses, Module),
        length(Clauses, N),
        Facts1 is Facts0 + N,
        restore(In, Module, Offset, Facts1, Facts)
    ;   throw(error(domain_error(tempolog_snapshot_term, Term), _))
    ).

% How a predicate's facts are stored again: as they are, with their group ids moved, or (an
% event relation's 'mx:r'(Latest, Call, Before): the latest time stored, for the load path's
% duplicate test) with the write that stored them made one no later write can be.
kind(Name, Offset, Kind) :-
    (   sub_atom(Name, 0, _, _, 'mx:')
    ->  Kind = latest
    ;   Offset =\= 0, site_predicate(Name, Site), memberchk(Site, [k, x, d])
    ->  Kind = Site-Offset
    ;   Kind = plain
    ).

add(plain, Facts, Module) :-
    add_plain(Facts, Module).
add(latest, Facts, Module) :-
    forall(member(Fact, Facts),
           ( Fact =.. [Name, Latest, _Call, Before],
             New =.. [Name, Latest, restored, Before],
             assertz(Module:New) )).
add(k-Offset, Facts, Module) :-
    forall(member(Fact, Facts),
           ( Fact =.. [Name|Args0],
             append(Keys, [Gid0, _], Args0),
             Gid is Gid0 + Offset,
             atom_concat(tl_px_, Gid, Key),
             append(Keys, [Gid, Key], Args),
             New =.. [Name|Args],
             assertz(Module:New) )).
add(x-Offset, Facts, Module) :-
    Shift is Offset << 32,
    forall(member(Fact, Facts),
           ( Fact =.. [Name, Slot0, Gid0|Rest],
             Slot is Slot0 + Shift,
             Gid is Gid0 + Offset,
             New =.. [Name, Slot, Gid|Rest],
             assertz(Module:New) )).
add(d-Offset, Facts, Module) :-  % 'd:k'(Gid, From): a group dirty from a time on
    forall(member(Fact, Facts),
           ( Fact =.. [Name, Gid0|Rest], Gid is Gid0 + Offset, New =.. [Name, Gid|Rest],
             assertz(Module:New) )).

add_plain([], _).
add_plain([Fact|Facts], Module) :-
    assertz(Module:Fact),
    add_plain(Facts, Module).

%   tl_prolog_version(_, -Json): SWI-Prolog's version (90004 for 9.0.4), part of a program's
%   snapshot identity: fast_read/2 reads what the same version wrote.
tl_prolog_version(_, Json) :-
    current_prolog_flag(version, Version),
    format(string(Json), '{"version": ~d}', [Version]).
