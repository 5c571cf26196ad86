"""The one registry of built-in operators, comparisons, functions and aggregates, with types."""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from engine.lang import ast

Value = str | int | float
Problem = Callable[[ast.Pos, str, str], None]  # (where, message, hint) of a type mismatch


class NoValue(Exception):
    """An expression without a value for this binding (division by zero)."""


# ---- arithmetic: numbers in, a number out (a float if either side is one) ---------------

def divide(a: int | float, b: int | float) -> int | float:
    if b == 0:
        raise NoValue
    if isinstance(a, int) and isinstance(b, int):
        quotient = abs(a) // abs(b)  # integers truncate toward zero, as in C and Soufflé
        return quotient if (a < 0) == (b < 0) else -quotient
    return a / b


def remainder(a: int | float, b: int | float) -> int | float:
    if b == 0:
        raise NoValue
    if isinstance(a, int) and isinstance(b, int):
        return a - b * divide(a, b)  # sign of the dividend, as C's %
    return math.fmod(a, b)


def finite(operation: Callable[[Value, Value], Value]) -> Callable[[Value, Value], Value]:
    """`operation` where a result that is no finite number (1e308 * 10.0) has no value, as
    division by zero: what SWI-Prolog's arithmetic gives (float_overflow=error), for every
    backend alike."""
    def apply(a, b):
        try:
            result = operation(a, b)
        except OverflowError:  # an integer too large to meet a float
            raise NoValue from None
        if type(result) is float and not math.isfinite(result):
            raise NoValue
        return result

    return apply


@dataclass(frozen=True)
class Arithmetic:
    symbol: str
    apply: Callable[[Value, Value], Value]  # the semantics, in Python (pyDatalog runs it)
    prolog_goal: str | None  # runtime.pl's `goal(A, B, X)`, failing where there is no value;
    #                          None: Prolog's own arithmetic, inline


ARITHMETIC: Mapping[str, Arithmetic] = {op.symbol: op for op in (
    Arithmetic("+", finite(operator.add), None),
    Arithmetic("-", finite(operator.sub), None),
    Arithmetic("*", finite(operator.mul), None),
    Arithmetic("/", finite(divide), "tl_div"),
    Arithmetic("%", finite(remainder), "tl_mod"),
)}


# ---- comparisons: two symbols or two numbers (1 = 1.0); `=` also assigns -------------------

@dataclass(frozen=True)
class Comparison:
    symbol: str
    apply: Callable[[Value, Value], bool]
    prolog_goal: str  # runtime.pl's `goal(A, B)`: numbers compare by value
    pydatalog: str  # pyDatalog's own operator, for a comparison of two plain values
    assigns: bool  # argument mode: one side may be an unbound variable, which it binds


COMPARISONS: Mapping[str, Comparison] = {op.symbol: op for op in (
    Comparison("=", operator.eq, "tl_eq", "==", True),
    Comparison("!=", operator.ne, "tl_ne", "!=", False),
    Comparison("<", operator.lt, "tl_lt", "<", False),
    Comparison("<=", operator.le, "tl_le", "<=", False),
    Comparison(">", operator.gt, "tl_gt", ">", False),
    Comparison(">=", operator.ge, "tl_ge", ">=", False),
)}


# ---- aggregates: `func target : { body }` over every solution of the body ----------------

def _count(values: list[Value], is_float: bool) -> list[Value]:
    return [len(values)]


def _sum(values: list[Value], is_float: bool) -> list[Value]:
    if is_float or any(isinstance(v, float) for v in values):
        return [math.fsum(values)]  # the exact sum rounded once: answer order cannot matter
    return [sum(values)]


def _min(values: list[Value], is_float: bool) -> list[Value]:
    return [min(values)] if values else []


def _max(values: list[Value], is_float: bool) -> list[Value]:
    return [max(values)] if values else []


def _mean(values: list[Value], is_float: bool) -> list[Value]:
    # the exact mean, rounded once: floats are exact fractions, as are their sums
    return [float(sum(map(Fraction, values)) / len(values))] if values else []


@dataclass(frozen=True)
class Aggregate:
    name: str
    takes_target: bool  # count counts solutions; the others aggregate an expression
    numeric: bool  # sum and mean take numbers only
    result: str | None  # the result's type; None: the target's
    apply: Callable[[list[Value], bool], list[Value]]  # (values, float column) -> [] or [v];
    #   min, max and mean of an empty group have no value, as in Soufflé
    prolog_goal: str | None  # runtime.pl's `goal(Target, Goal, R)`; None: aggregate_all(count)

    def result_type(self, target: str | None) -> str | None:
        return self.result or target


AGGREGATES: Mapping[str, Aggregate] = {agg.name: agg for agg in (
    Aggregate("count", False, False, "number", _count, None),
    Aggregate("sum", True, True, None, _sum, "tl_sum"),
    Aggregate("min", True, False, None, _min, "tl_min"),
    Aggregate("max", True, False, None, _max, "tl_max"),
    Aggregate("mean", True, True, "float", _mean, "tl_mean"),
)}


# ---- types --------------------------------------------------------------------------------

def kind(type_: str | None) -> str | None:
    """`symbol` or `numeric`: the two families that never mix."""
    if type_ is None:
        return None
    return "symbol" if type_ == "symbol" else "numeric"


def arithmetic_type(a: str | None, b: str | None) -> str | None:
    """The type of `a op b` (and of a value joining both): float wins, time - time is
    a time, any other mix a number; unknown on one side, the other side's."""
    if a is None or b is None:
        return a or b
    if "float" in (a, b):
        return "float"
    if a == b:
        return a
    return "money" if "money" in (a, b) else "number"


def expression_type(term: ast.Term, types: Mapping[str, str | None],
                    problem: Problem | None = None) -> str | None:
    """The type of a term given its variables' types; `problem` hears of arithmetic on a
    symbol (the term then has no type)."""
    if isinstance(term, ast.Const):
        return term.type
    if isinstance(term, ast.Var):
        return types.get(term.name)
    if isinstance(term, ast.Negate):
        operand = expression_type(term.operand, types, problem)
        if problem is not None and operand == "symbol":
            problem(term.pos, "cannot negate a symbol", "negate numbers only")
        return operand
    if isinstance(term, ast.BinOp):
        left = expression_type(term.left, types, problem)
        right = expression_type(term.right, types, problem)
        if problem is not None and "symbol" in (left, right):
            problem(term.pos, f"arithmetic '{term.op}' on a symbol",
                    "arithmetic takes numbers and floats only")
            return None
        return arithmetic_type(left, right)
    if isinstance(term, ast.Call):
        return _call_type(term, [expression_type(a, types, problem) for a in term.args], problem)
    return None


# ---- functions: Soufflé's names and types ---------------------------------------------------
# A function without a value for some arguments (`to_number("x")`, a `substr` out of range)
# gives no answer for that binding, as division by zero does.

NUMERIC = "numeric"  # a parameter or result: number, float, time or money, as the arguments


@dataclass(frozen=True)
class Function:
    name: str
    params: tuple[str, ...]  # "symbol", "number" or NUMERIC; a trailing "..." repeats the last
    result: str  # a type, or NUMERIC: the arguments' joined numeric type
    python: Callable  # the semantics, for pyDatalog (raises NoValue)
    prolog: str  # a goal for SWI-Prolog: {0}, {1} … the arguments, {args} all, {r} the result
    doc: str

    @property
    def variadic(self) -> bool:
        return self.params[-1] == "..."

    def accepts(self, count: int) -> bool:
        fixed = len(self.params) - 1 if self.variadic else len(self.params)
        return count >= fixed if self.variadic else count == fixed

    def param(self, i: int) -> str:
        if self.variadic and i >= len(self.params) - 1:
            return self.params[-2]
        return self.params[i]

    @property
    def signature(self) -> str:
        params = ", ".join(p if p != "..." else "…" for p in self.params)
        return f"{self.name}({params}) -> {self.result}"


def _substr(s: str, i: int, n: int) -> str:
    if i < 0 or n < 0 or i > len(s):
        raise NoValue
    return s[i:i + n]


_INTEGER = re.compile(r"-?[0-9]+\Z")


def _to_number(s: str) -> int:
    if not _INTEGER.match(s):
        raise NoValue
    return int(s)


def _to_string(n: int) -> str:
    if isinstance(n, float):
        raise NoValue
    return str(n)


FUNCTIONS: Mapping[str, Function] = {f.name: f for f in (
    Function("abs", (NUMERIC,), NUMERIC, abs, "{r} is abs({0})", "the absolute value"),
    Function("min", (NUMERIC, NUMERIC), NUMERIC, min, "tl_min2({1}, {0}, {r})",
             "the smaller of two numbers"),
    Function("max", (NUMERIC, NUMERIC), NUMERIC, max, "tl_max2({1}, {0}, {r})",
             "the larger of two numbers"),
    Function("cat", ("symbol", "symbol", "..."), "symbol", lambda *parts: "".join(parts),
             "atomic_list_concat([{args}], {r})", "the symbols joined: cat(\"order-\", o)"),
    Function("strlen", ("symbol",), "number", len, "atom_length({0}, {r})",
             "the number of characters"),
    Function("substr", ("symbol", "number", "number"), "symbol", _substr,
             "tl_substr({0}, {1}, {2}, {r})",
             "substr(s, i, n): n characters from index i (0-based), fewer at the end"),
    Function("to_string", ("number",), "symbol", _to_string, "tl_to_string({0}, {r})",
             "a number's decimal digits"),
    Function("to_number", ("symbol",), "number", _to_number, "tl_to_number({0}, {r})",
             "the integer a symbol spells (no value if it spells none)"),
    Function("contains", ("symbol", "symbol"), "number", lambda a, b: int(a in b),
             "tl_contains({0}, {1}, {r})",
             "1 if the first symbol occurs in the second, else 0; as a literal, "
             "`contains(a, b)` holds where it does"),
)}


def _call_type(call: ast.Call, args: list[str | None], problem: Problem | None
               ) -> str | None:
    function = FUNCTIONS.get(call.func)
    if function is None or not function.accepts(len(args)):
        return None  # reported by the analysis, with a did-you-mean
    numeric = None
    for i, (arg, type_) in enumerate(zip(call.args, args)):
        wanted = function.param(i)
        if type_ is None:
            continue
        where = getattr(arg, "pos", call.pos)
        if problem is not None and kind(type_) != kind("symbol" if wanted == "symbol"
                                                         else "number"):
            problem(where, f"argument {i + 1} of {call.func} must be a "
                    f"{'symbol' if wanted == 'symbol' else 'number'}, not a {type_}",
                    function.signature)
        elif problem is not None and wanted == "number" and type_ == "float":
            problem(where, f"argument {i + 1} of {call.func} must be an integer, not a float",
                    function.signature)
        if wanted == NUMERIC:
            numeric = arithmetic_type(numeric, type_)
    return numeric if function.result == NUMERIC else function.result
