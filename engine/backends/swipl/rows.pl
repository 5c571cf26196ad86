/*  Answer rows written in one go: every distinct row of a query, sorted, as one JSON text
    that Python decodes with json.loads (engine/backends/swipl/rows.py). library(http/json)'s
    json_write/3 costs ~30 us of CPU a row; writing each value by its type, with the
    library's own string escaper, ~4 us.
*/
:- module(tempolog_rows, [tl_rows/9]).
:- use_module(library(http/json)).

%   tl_rows(+Module, +Timeout, +Limit, +AsOfValue, -AsOf, +Row, +Goal, _, -Json): the rows
%   of runtime.pl's tl_search (distinct, sorted, the first Limit), written as one JSON text.
tl_rows(Module, Timeout, Limit, AsOfValue, AsOf, Row, Goal, _, Json) :-
    tempolog_rt:tl_search(Module, Timeout, Limit, AsOfValue, AsOf, Row, Goal, Rows),
    with_output_to(string(Json), tl_write_rows(Rows)).

tl_write_rows([]) :- !, write('[]').
tl_write_rows([Row|Rows]) :-
    write('['), tl_write_row(Row), tl_write_more(Rows), write(']').

tl_write_more([]).
tl_write_more([Row|Rows]) :- write(','), tl_write_row(Row), tl_write_more(Rows).

tl_write_row([]) :- !, write('[]').
tl_write_row([V|Vs]) :- write('['), tl_write_value(V), tl_write_values(Vs), write(']').

tl_write_values([]).
tl_write_values([V|Vs]) :- write(','), tl_write_value(V), tl_write_values(Vs).

%   Integers exactly (unbounded); floats as SWI-Prolog prints them, the shortest text that
%   reads back as the same float, non-finite ones as Python's json reads them; symbols and
%   strings as JSON strings.
tl_write_value(V) :- integer(V), !, write(V).
tl_write_value(V) :- float(V), !, tl_write_float(V).
tl_write_value(V) :- atom(V), !, json:json_write_string(current_output, V).
tl_write_value(V) :- string(V), !, json:json_write_string(current_output, V).
tl_write_value(V) :- term_string(V, S), json:json_write_string(current_output, S).

tl_write_float(V) :- V =:= inf, !, write('Infinity').
tl_write_float(V) :- V =:= -inf, !, write('-Infinity').
tl_write_float(V) :- V =\= V, !, write('NaN').
tl_write_float(V) :- write(V).
