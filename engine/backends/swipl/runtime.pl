/*  tempolog's SWI-Prolog runtime: arithmetic and comparison semantics, aggregates, the
    prefix-aggregate helpers, loading compiled programs, and the one entry point that the
    Python engine thread calls. Every call returns a JSON text; nothing here throws.
*/
:- module(tempolog_rt,
          [ tl_entry/3, tl_search/8,
            tl_eval/2, tl_div/3, tl_mod/3, tl_float/2,
            tl_eq/2, tl_ne/2, tl_lt/2, tl_le/2, tl_gt/2, tl_ge/2,
            tl_sum/3, tl_min/3, tl_max/3, tl_mean/3, tl_mean_of/3, tl_sum_value/2,
            tl_sum_add/3, tl_sum_sub/3, tl_kept_trie/2, tl_kept_add/2, tl_kept_sub/3,
            tl_px_first/5, tl_px_next/9, tl_px_entries/2, tl_px_more/7,
            tl_min2/3, tl_max2/3, tl_substr/4, tl_to_string/2, tl_to_number/2, tl_contains/3,
            tl_window/6, tl_drop_tables_from/3, tl_budget/4
          ]).
:- use_module(library(http/json)).
:- use_module(library(time)).
:- use_module(library(lists)).
:- use_module(library(apply)).
:- use_module(library(aggregate)).

% ---- interrupts ---------------------------------------------------------------
% PrologThread.interrupt raises SIGUSR1 in this thread; it arrives at the next safe point.
% Only a query (tl_search, which sets tl_interruptible) is stopped by it: a write of facts
% must never stop half done, so anywhere else the signal is dropped.

:- nb_setval(tl_interruptible, false).
:- on_signal(usr1, _, tempolog_rt:tl_interrupted).

tl_interrupted(_) :-
    (   nb_current(tl_interruptible, true)
    ->  throw(tl_cancelled)
    ;   true
    ).

% ---- arithmetic -------------------------------------------------------------
% Integers are unbounded (GMP) and stay integers under + - *. An expression that cannot be
% evaluated (division by zero, float overflow, a symbol in arithmetic) has no value: the
% rule produces no answer for that binding.

tl_eval(Expr, Value) :-
    catch(Value is Expr, error(_, _), fail).

% `/`: integer division truncating toward zero on two integers, float division otherwise.
tl_div(A0, B0, X) :-
    catch(tl_div_(A0, B0, X), error(_, _), fail).
tl_div_(A0, B0, X) :-
    A is A0, B is B0,
    (   integer(A), integer(B)
    ->  B =\= 0, X is A // B
    ;   X is A / B
    ).

% `%`: the remainder with the sign of the dividend, as C's `%` and `fmod` (on floats it is
% computed as A - B * trunc(A / B)).
tl_mod(A0, B0, X) :-
    catch(tl_mod_(A0, B0, X), error(_, _), fail).
tl_mod_(A0, B0, X) :-
    A is A0, B is B0,
    B =\= 0,
    (   integer(A), integer(B)
    ->  X is A rem B
    ;   X is A - B * float_integer_part(A / B)
    ).

% A float column holds floats, even when a rule computes an integer for it.
tl_float(V, F) :- ( number(V) -> F is float(V) ; F = V ).

% ---- built-in functions (engine/builtins.py): no value rather than an error

% substr(S, I, N): N characters from index I (0-based), fewer at the end.
tl_substr(S, I, N, R) :-
    integer(I), integer(N), I >= 0, N >= 0,
    atom_length(S, L), I =< L,
    Take is min(N, L - I),
    sub_atom(S, I, Take, _, R).

tl_to_string(N, R) :- integer(N), atom_number(R, N).

% Only an optional '-' and ASCII digits spell a number (not 0x1A, 1.0e3 or " 12").
tl_to_number(S, N) :-
    atom_codes(S, Codes),
    ( Codes = [0'-|Digits] -> true ; Digits = Codes ),
    Digits \== [],
    forall(member(C, Digits), between(0'0, 0'9, C)),
    number_codes(N, Codes).

tl_contains(Part, Whole, R) :- ( sub_atom(Whole, _, _, _, Part) -> R = 1 ; R = 0 ).

% ---- comparison: numbers by value, symbols by code point, numbers before symbols

tl_eq(A, B) :- ( number(A), number(B) -> A =:= B ; A == B ).
tl_ne(A, B) :- \+ tl_eq(A, B).
tl_lt(A, B) :- ( number(A), number(B) -> A < B ; A @< B ).
tl_le(A, B) :- ( number(A), number(B) -> A =< B ; A @=< B ).
tl_gt(A, B) :- tl_lt(B, A).
tl_ge(A, B) :- tl_le(B, A).

% ---- aggregates: count is aggregate_all(count, …) in the compiled code; sum of nothing is
% 0; min, max and mean of nothing have no value. A symbol in a sum or mean: no value.
% A sum or mean with a float in it is the exact (rational) result rounded once, so it does
% not depend on the order answers come in (1e16 + 1.0 - 1e16 is 1.0, not 0.0).

:- meta_predicate tl_sum(?, 0, -), tl_min(?, 0, -), tl_max(?, 0, -), tl_mean(?, 0, -).

tl_sum(T, Goal, Sum) :-
    findall(T, Goal, Values),
    foldl(tl_sum_add, Values, 0, Exact),
    tl_sum_value(Exact, Sum).
tl_min(T, Goal, Min) :-
    findall(T, Goal, [First|Rest]),
    foldl(tl_min2, Rest, First, Min).
tl_max(T, Goal, Max) :-
    findall(T, Goal, [First|Rest]),
    foldl(tl_max2, Rest, First, Max).
tl_mean(T, Goal, Mean) :-
    findall(T, Goal, Values),
    Values \== [],
    foldl(tl_sum_add, Values, 0, Exact),
    length(Values, Count),
    tl_mean_of(Exact, Count, Mean).

%   A running sum is an integer while every value is one, then r(ExactRational) once a
%   float has been added, or '$nan' once a symbol has.
tl_sum_add(V, S0, S) :-
    (   S0 == '$nan' -> S = '$nan'
    ;   integer(V), integer(S0) -> S is S0 + V
    ;   float(V) -> tl_exact(S0, Q0), Q is Q0 + rational(V), S = r(Q)
    ;   integer(V) -> tl_exact(S0, Q0), Q is Q0 + V, S = r(Q)
    ;   S = '$nan'
    ).

%   tl_sum_sub(+V, +S0, -S): a running sum with V taken back out; fails where that may
%   not be exact (a symbol or an integer in a sum of floats): it must be summed again.
tl_sum_sub(V, S0, S) :-
    (   integer(V), integer(S0) -> S is S0 - V
    ;   float(V), S0 = r(Q0) -> Q is Q0 - rational(V), S = r(Q)
    ).

%   Kept aggregates (kept.py): each group's v(Count, Sum) in a trie, updated in place.
:- meta_predicate tl_kept_trie(:, -).
tl_kept_trie(Module:Holder, Trie) :-
    (   call(Module:Holder, Trie0)
    ->  Trie = Trie0
    ;   trie_new(Trie),
        Fact =.. [Holder, Trie],
        assertz(Module:Fact)
    ).

%   tl_kept_add(+Trie, +Key-Value): the group Key gained a tuple of Value.
tl_kept_add(Trie, Key-V) :-
    trie_lookup(Trie, Key, v(N0, S0)),
    N is N0 + 1,
    tl_sum_add(V, S0, S),
    trie_update(Trie, Key, v(N, S)).

%   tl_kept_sub(+Trie, +Floats, +Key-Value): the group Key lost a tuple of Value; emptied, or
%   not taken back exactly (Floats false: an integer column, where a float may have come),
%   it is dropped, to be aggregated again when next read.
tl_kept_sub(Trie, Floats, Key-V) :-
    trie_lookup(Trie, Key, v(N0, S0)),
    N is N0 - 1,
    (   N > 0,
        ( Floats == true ; integer(S0) ),
        tl_sum_sub(V, S0, S)
    ->  trie_update(Trie, Key, v(N, S))
    ;   trie_delete(Trie, Key, _)
    ).

tl_exact(r(Q), Q) :- !.
tl_exact(I, I).

tl_sum_value(S, Sum) :-
    (   integer(S) -> Sum = S
    ;   S = r(Q) -> catch(Sum is float(Q), error(_, _), fail)
    ).

tl_mean_of(S, Count, Mean) :-
    S \== '$nan',
    tl_exact(S, Q),
    catch(Mean is float(Q rdiv Count), error(_, _), fail).

%   tl_window(+C1, +S1, +C0, +S0, -C, -S): a window's count and running sum, the prefix up
%   to its upper bound less the prefix up to its lower bound.
tl_window(C1, S1, C0, S0, C, S) :-
    C is C1 - C0,
    (   ( S1 == '$nan' ; S0 == '$nan' ) -> S = '$nan'
    ;   integer(S1), integer(S0) -> S is S1 - S0
    ;   tl_exact(S1, Q1), tl_exact(S0, Q0), Q is Q1 - Q0, S = r(Q)
    ).

tl_min2(X, M0, M) :- ( tl_lt(X, M0) -> M = X ; M = M0 ).
tl_max2(X, M0, M) :- ( tl_gt(X, M0) -> M = X ; M = M0 ).

% ---- prefix aggregates: running count, sum, min and max of a group's values in time order.

tl_px_first(V, 1, S, V, V) :-
    tl_sum_add(V, 0, S).
tl_px_next(V, C0, S0, Mn0, Mx0, C, S, Mn, Mx) :-
    C is C0 + 1,
    tl_sum_add(V, S0, S),
    tl_min2(V, Mn0, Mn),
    tl_max2(V, Mx0, Mx).

%   tl_px_entries(+SortedTimeValuePairs, -Entries) numbers running entries e(I,T,C,S,Mn,Mx).
tl_px_entries([], []).
tl_px_entries([T-V|Rest], [e(0, T, C, S, Mn, Mx)|Entries]) :-
    tl_px_first(V, C, S, Mn, Mx),
    tl_px_entries_(Rest, 1, C, S, Mn, Mx, Entries).
%   tl_px_more(+SortedTimeValuePairs, +I, +C0, +S0, +Mn0, +Mx0, -Entries): entries numbered
%   from I, running on from the values C0, S0, Mn0, Mx0 of the entry before them.
tl_px_more(Pairs, I, C0, S0, Mn0, Mx0, Entries) :-
    tl_px_entries_(Pairs, I, C0, S0, Mn0, Mx0, Entries).

tl_px_entries_([], _, _, _, _, _, []).
tl_px_entries_([T-V|Rest], I, C0, S0, Mn0, Mx0, [e(I, T, C, S, Mn, Mx)|Entries]) :-
    tl_px_next(V, C0, S0, Mn0, Mx0, C, S, Mn, Mx),
    I1 is I + 1,
    tl_px_entries_(Rest, I1, C, S, Mn, Mx, Entries).

% ---- the entry point --------------------------------------------------------
%   tl_entry(+GoalText, +Arg, -Json): read GoalText, call it with Arg and an output
%   variable, and return its JSON text, or {"error": Kind, "message": Text}.

tl_entry(GoalText, Arg, Json) :-
    catch(tl_entry_(GoalText, Arg, Json), Error, tl_error_json(Error, Json)),
    !.
tl_entry(_, _, "{\"error\":\"failed\",\"message\":\"the request failed\"}").

tl_entry_(GoalText, Arg, Json) :-
    term_string(Goal, GoalText),
    (   call(Goal, Arg, Json)
    ->  true
    ;   Json = "{\"error\":\"failed\",\"message\":\"the request failed\"}"
    ).

tl_error_json(time_limit_exceeded, Json) :-
    !,
    tl_json(json([error=timeout, message="the query ran past its time limit"]), Json).
tl_error_json(tl_cancelled, Json) :-
    !,
    tl_json(json([error=cancelled, message="the query was cancelled"]), Json).
tl_error_json(error(resource_error(What), _), Json) :-
    !,
    tl_resource(What, Message),
    tl_json(json([error=resource, message=Message]), Json).
tl_error_json(Error, Json) :-
    tl_message(Error, Message),
    tl_json(json([error=prolog, message=Message]), Json).

%   What ran out, in words, with the limit that was set (see tl_set_limits/3).
tl_resource(What, Message) :-
    (   memberchk(What-Flag, [table_space-table_space, private_table_space-table_space,
                              shared_table_space-shared_table_space])
    ->  current_prolog_flag(Flag, Limit),
        format(string(Message), "SWI-Prolog ran out of table space (~w, limit ~D bytes)",
               [What, Limit])
    ;   memberchk(What, [memory, global_stack, local_stack, trail_stack, stack])
    ->  current_prolog_flag(stack_limit, Limit),
        format(string(Message), "SWI-Prolog ran out of stack space (~w, limit ~D bytes)",
               [What, Limit])
    ;   format(string(Message), "SWI-Prolog ran out of ~w", [What])
    ).

tl_message(Error, Message) :-
    catch(( phrase('$messages':translate_message(Error), Lines),
            with_output_to(string(Message0), print_message_lines(current_output, '', Lines)),
            split_string(Message0, "", "\n ", [Message])
          ), _, fail),
    !.
tl_message(Error, Message) :-
    term_string(Error, Message).

tl_json(Term, Json) :-
    with_output_to(string(Json), json_write(current_output, Term, [width(0)])).

% ---- requests ---------------------------------------------------------------

%   tl_load_program(+Module, +Text, -Json): compile a program's text into Module. Errors and
%   warnings are collected (a load does not raise on a syntax error; SWI-NOTES trap 2).
:- dynamic tl_load_message/2.

tl_load_program(Module, Text, Json) :-
    retractall(tl_load_message(_, _)),
    add_import_module(Module, tempolog_rt, start),
    setup_call_cleanup(
        ( open_string(Text, Stream), nb_setval(tl_loading, true) ),
        load_files(Module:Module, [stream(Stream), module(Module), silent(true)]),
        ( close(Stream), nb_setval(tl_loading, false) )),
    tl_load_messages(Json).

tl_load_messages(Json) :-
    findall(json([kind=Kind, message=Message]),
            ( tl_load_message(Kind, Term), tl_message(Term, Message) ),
            Messages),
    tl_json(json([messages=Messages]), Json).

%   tl_load_plan(+Module, +Text, -Json): load (or replace) the planned rules of Module's
%   bottom-up evaluation: a source of its own, so that loading it again redefines them.
tl_load_plan(Module, Text, Json) :-
    retractall(tl_load_message(_, _)),
    atom_concat(Module, '_plan', Source),
    setup_call_cleanup(
        ( open_string(Text, Stream), nb_setval(tl_loading, true) ),
        load_files(Module:Source, [stream(Stream), module(Module), silent(true)]),
        ( close(Stream), nb_setval(tl_loading, false) )),
    tl_load_messages(Json).

%   tl_load_forms(+Module, +Name, +Text, -Json): load more predicates into Module (moded
%   forms made for a query), from a source of their own named Name.
tl_load_forms(Module, Name, Text, Json) :-
    retractall(tl_load_message(_, _)),
    atomic_list_concat([Module, '_', Name], Source),
    setup_call_cleanup(
        ( open_string(Text, Stream), nb_setval(tl_loading, true) ),
        load_files(Module:Source, [stream(Stream), module(Module), silent(true)]),
        ( close(Stream), nb_setval(tl_loading, false) )),
    tl_load_messages(Json).

%   tl_stats(+Module, _, -Json): for each stored predicate of Module ('e:', 'b:', 'v:', 'm:'),
%   its number of facts and an estimate of the distinct values of each column, from a
%   sample of its first facts (Haas et al.'s GEE estimator: sqrt(N/n) f1 + d - f1).
tl_stats(Module, _, Json) :-
    findall(Name=json([rows=Rows, distinct=Distinct]),
            ( current_predicate(Module:Name/Arity),
              sub_atom(Name, 1, 1, _, ':'), sub_atom(Name, 0, 1, _, Kind),
              memberchk(Kind, [e, b, v, m]),
              functor(Head, Name, Arity),
              \+ predicate_property(Module:Head, imported_from(_)),
              predicate_property(Module:Head, number_of_clauses(Rows)),
              tl_sample(Module, Kind, Head, Rows, Summaries),
              maplist(tl_distinct(Rows), Summaries, Distinct) ),
            Pairs),
    tl_json(json(Pairs), Json).

%   The sample's summary per column, s(N, D, F1): its size, distinct values and values seen
%   once. Events are only ever appended, so once an 'e:' predicate holds a full sample its
%   first facts are fixed: their summary is kept (2/3 of the statistics' time at 3,000 ticks
%   was sampling events again), and only the row count moves the estimate.
:- dynamic tl_sample_kept/2.  % Module:Name, Summaries

tl_sample(Module, e, Head, Rows, Summaries) :-
    Rows >= 2000,
    functor(Head, Name, _),
    tl_sample_kept(Module:Name, Summaries),
    !.
tl_sample(Module, Kind, Head, Rows, Summaries) :-
    findall(Head, limit(2000, Module:Head), Sample),
    functor(Head, Name, Arity),
    numlist(1, Arity, Columns),
    maplist(tl_summary(Sample), Columns, Summaries),
    (   Kind == e, Rows >= 2000
    ->  assertz(tl_sample_kept(Module:Name, Summaries))
    ;   true
    ).

tl_summary(Sample, Column, s(N, D, F1)) :-
    findall(V, ( member(F, Sample), arg(Column, F, V) ), Values),
    msort(Values, Sorted),
    tl_runs(Sorted, 0, 0, D, F1),
    length(Values, N).

tl_distinct(Rows, s(N, D, F1), Estimate) :-
    (   N =:= 0 -> Estimate = 0
    ;   Estimate0 is sqrt(Rows / N) * F1 + D - F1,
        Estimate is max(1, min(Rows, round(Estimate0)))
    ).

tl_runs([], D, F1, D, F1).
tl_runs([V|Vs], D0, F10, D, F1) :-
    tl_run(Vs, V, 1, Rest, Len),
    D1 is D0 + 1,
    ( Len =:= 1 -> F11 is F10 + 1 ; F11 = F10 ),
    tl_runs(Rest, D1, F11, D, F1).
tl_run([V|Vs], V0, L0, Rest, L) :- V == V0, !, L1 is L0 + 1, tl_run(Vs, V0, L1, Rest, L).
tl_run(Rest, _, L, Rest, L).

:- multifile user:message_hook/3.
user:message_hook(Term, Kind, _Lines) :-
    memberchk(Kind, [error, warning]),
    nb_current(tl_loading, true),
    assertz(tl_load_message(Kind, Term)).

%   tl_batch(+Module, +Finish, +BatchesText, -Json): assert lists of facts f(A1, …, An, Seq),
%   given as BatchPredicate-Facts pairs; answers {"new": N}. Finish is [] or, on a call's last
%   request, the relations it wrote as Relation-From pairs, From the earliest valid time of
%   the facts given (`all`: facts without a time): then rebuild the prefix aggregates that
%   saw facts out of time order and (explicit invalidation) abolish the tables the new facts
%   can change, those of as-of times from From on; untabled(Pairs) when the engine has made
%   no as-of tables (none to abolish).
tl_batch(Module, Finish, BatchesText, Json) :-
    term_string(Batches, BatchesText),
    foldl(tl_batch_(Module), Batches, 0, New),
    (   Finish == []
    ->  true
    ;   (   Finish = untabled(Pairs)
        ->  Tables = []
        ;   Pairs = Finish, Tables = Pairs
        ),
        pairs_keys(Pairs, Written),
        call(Module:tl_rebuild),
        call(Module:'bu:dirty', Written),
        forall(member(Relation-From, Tables),
               (   atom_concat('inv:', Relation, Invalidate),
                   (   From == all
                   ->  call(Module:Invalidate)
                   ;   call(Module:Invalidate, From)
                   )
               ))
    ),
    tl_json(json([new=New]), Json).

%   tl_drop_tables_from(+Module, +Templates, +From): abolish the tables of Module whose
%   variant matches a template and whose first argument, the as-of time, is From or later.
%   A table of an earlier time read only facts of its time or before (every read is
%   filtered by AsOf), so facts from From on cannot change it.
tl_drop_tables_from(Module, Templates, From) :-
    (   '$tbl_local_variant_table'(Variants)  % fails while the thread has made no table
    ->  tl_drop_tables_from(Variants, Module, Templates, From)
    ;   true
    ).
tl_drop_tables_from(Variants, Module, Templates, From) :-
    findall(Module:Variant,
            ( member(Variant, Templates),
              arg(1, Variant, AsOf),
              trie_gen(Variants, Module:Variant, _),
              ( var(AsOf) -> true ; AsOf >= From ) ),
            Drops),
    forall(member(Drop, Drops), abolish_table_subgoals(Drop)).

tl_batch_(Module, Batch-Facts, New0, New) :-
    call(Module:Batch, Facts, New0, New).

%   tl_query(+Module, +Timeout, +Limit, +AsOfValue, -AsOf, +Row, +Goal, _, -Json): every
%   distinct Row of Goal, sorted in the standard order of terms, the first Limit of them.
tl_query(Module, Timeout, Limit, AsOfValue, AsOf, Row, Goal, _, Json) :-
    tl_search(Module, Timeout, Limit, AsOfValue, AsOf, Row, Goal, Rows),
    maplist(tl_json_row, Rows, JsonRows),
    tl_json(JsonRows, Json).

%   tl_search(+Module, +Timeout, +Limit, +AsOfValue, -AsOf, +Row, +Goal, -Rows): the search
%   of a query (tl_query here, tl_rows in rows.pl), under its time limit and interruptible.
tl_search(Module, Timeout, Limit, AsOfValue, AsOf, Row, Goal, Rows) :-
    AsOf = AsOfValue,
    setup_call_cleanup(
        nb_setval(tl_interruptible, true),
        (   Timeout == none
        ->  findall(Row, Module:Goal, Rows0)
        ;   call_with_time_limit(Timeout, findall(Row, Module:Goal, Rows0))
        ),
        nb_setval(tl_interruptible, false)),
    sort(Rows0, Rows1),
    tl_take(Limit, Rows1, Rows).

%   tl_budget(+Inferences, ?Row, :Untabled, :Tabled): the solutions of Untabled if it
%   finds them all within Inferences, else those of Tabled. An as-of query answered by the
%   untabled forms of what it reads makes no table for its time; a question that needs
%   many inferences untabled (an aggregate computed again per call) gets its tables. A
%   call whose complete table is there already (asked before, still valid) reads it.
:- meta_predicate tl_budget(+, ?, 0, 0).

tl_budget(Inferences, Row, Untabled, Tabled) :-
    (   tl_complete_table(Tabled)
    ->  call(Tabled)
    ;   call_with_inference_limit(findall(Row, Untabled, Rows), Inferences, Result),
        (   Result == inference_limit_exceeded
        ->  call(Tabled)
        ;   member(Row, Rows)
        )
    ).

tl_complete_table(Module:Goal) :-
    compound(Goal),
    functor(Goal, Name, _),
    sub_atom(Name, 0, _, _, 't:'),
    current_table(Module:Goal, Trie),
    '$tbl_table_status'(Trie, complete).

tl_take(none, Rows, Rows) :- !.
tl_take(N, Rows, Taken) :-
    length(Rows, Len),
    (   Len =< N
    ->  Taken = Rows
    ;   length(Taken, N), append(Taken, _, Rows)
    ).

tl_json_row(Row, JsonRow) :- maplist(tl_json_value, Row, JsonRow).
tl_json_value(V, S) :- ( atom(V) -> atom_string(V, S) ; S = V ).

%   tl_drop_as_of(+Module, +Time, _, -Json): free the tables of one as-of time.
tl_drop_as_of(Module, Time, _, Json) :-
    call(Module:tl_drop_as_of, Time),
    tl_json(json([ok= @(true)]), Json).

%   tl_warm_indexes(+Module, _, -Json): finish the multi-argument indexes made since the
%   last call, {"warmed": how many}. SWI-Prolog 9.0.4 makes a JIT index on several arguments
%   (order_submitted by client and symbol) at the first call that can use one, yet the next
%   nine calls of that pattern still scan every clause (measured on 50,000 facts: 10 ms, then
%   3.5-7 ms nine times, then 0.4 ms), and again once the index is rebuilt for a grown
%   predicate. Calling the pattern ten times here, on a value no clause has, pays those
%   scans in the query that made the index, not in the next nine.
:- dynamic tl_fact_predicates/2, tl_warm_index/3.

tl_warm_indexes(Module, _, Json) :-
    tl_fact_heads(Module, Heads),
    findall(Head-Args, ( member(Head, Heads),
                         predicate_property(Module:Head, indexed(Indexes)),
                         member(multi(Args)-hash(_, _, Bytes, _), Indexes),
                         functor(Head, Name, Arity),
                         \+ tl_warm_index(Module:Name/Arity, Args, Bytes),
                         assertz(tl_warm_index(Module:Name/Arity, Args, Bytes)) ), New),
    forall(( member(Head-Args, New), between(1, 10, _) ),
           \+ \+ ( maplist(tl_no_such_value(Head), Args), ignore(once(Module:Head)) )),
    % The entries of a prefix aggregate ('x:k', prefix_index.py) are read by their first
    % argument only: its index is made here, not in the first query that reads the group
    % of an order that was modified (7 ms for 12,197 entries).
    forall(( member(Head, Heads), functor(Head, Name, _), sub_atom(Name, 0, _, _, 'x:'),
             \+ ( predicate_property(Module:Head, indexed(Indexes)),
                  memberchk(single(1)-_, Indexes) ) ),
           \+ \+ ( arg(1, Head, -1), ignore(once(Module:Head)) )),
    length(New, Count),
    tl_json(json([warmed=Count]), Json).

tl_no_such_value(Head, I) :- arg(I, Head, '$tl_no_such_value').

%   The module's fact predicates (dynamic, no rules), found once: the program declares them.
tl_fact_heads(Module, Heads) :-
    (   tl_fact_predicates(Module, Heads)
    ->  true
    ;   findall(Head, ( current_predicate(Module:Name/Arity), Arity > 1,
                        functor(Head, Name, Arity),
                        \+ predicate_property(Module:Head, imported_from(_)),
                        predicate_property(Module:Head, dynamic),
                        predicate_property(Module:Head, number_of_rules(0)) ), Heads),
        assertz(tl_fact_predicates(Module, Heads))
    ).

%   tl_drop_module(+Module, _, -Json): free everything a closed engine held.
tl_drop_module(Module, _, Json) :-
    retractall(tl_fact_predicates(Module, _)),
    retractall(tl_warm_index(Module:_, _, _)),
    retractall(tl_sample_kept(Module:_, _)),
    catch(call(Module:tl_forget), _, true),  % the prefix aggregates' global variables
    catch(call(Module:'bu:forget'), _, true),  % the bottom-up evaluation's state
    abolish_module_tables(Module),
    forall(( current_predicate(Module:Name/Arity), functor(Head, Name, Arity),
             \+ predicate_property(Module:Head, imported_from(_)) ),
           abolish(Module:Name/Arity)),
    tl_json(json([ok= @(true)]), Json).

%   tl_call_json(+Goal, _, -Json): run a Goal and report whether it succeeded.
tl_call_json(Goal, _, Json) :-
    ( call(Goal) -> Ok = true ; Ok = false ),
    tl_json(json([ok= @(Ok)]), Json).

%   tl_timed(+Goal, _, -Json): run Goal once; {"seconds": the CPU time it took} (benchmarks).
tl_timed(Goal, _, Json) :-
    statistics(cputime, T0),
    ( call(Goal) -> true ; true ),
    statistics(cputime, T1),
    Seconds is T1 - T0,
    tl_json(json([seconds=Seconds]), Json).
