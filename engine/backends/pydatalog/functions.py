"""Arithmetic, comparisons and aggregate functions with Soufflé semantics, for pyDatalog."""

from __future__ import annotations

import math
import operator
import threading
from collections.abc import Callable, Sequence
from fractions import Fraction

from pyDatalog import pyEngine

from engine.lang import ast

Value = str | int | float
Env = Sequence[Value]


class NoValue(Exception):
    """An expression without a value for this binding (division by zero)."""


class Cancelled(Exception):
    """Raised inside a worker whose query was abandoned after its time limit."""


_job = threading.local()


def watch(flag: threading.Event | None) -> None:
    """Make `flag` the current thread's cancellation flag (None: never cancelled)."""
    _job.flag = flag


def check_cancelled() -> None:
    """A cancellation point: pyDatalog's compiled loop has none, so every builtin call is one."""
    flag = getattr(_job, "flag", None)
    if flag is not None and flag.is_set():
        raise Cancelled


class _CancellationPoint:
    """Stands in for pyDatalog's logger. Its compiled loop never runs Python bytecode on
    its own, so it neither lets other threads take the GIL nor notices a time limit; but
    with `Logging` on it asks the logger, from Python, about every derived fact and every
    clause it tries."""

    def isEnabledFor(self, level: int) -> bool:  # noqa: N802 (logging.Logger's name)
        check_cancelled()
        return False


def install_cancellation_points() -> None:
    """Process-wide; pyDatalog's own debug logging is off (and useless here) anyway."""
    pyEngine.Logger = _CancellationPoint()
    pyEngine.Logging = True


# ---- arithmetic -------------------------------------------------------------------

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


ARITHMETIC: dict[str, Callable[[Value, Value], Value]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": divide, "%": remainder,
}

COMPARISON: dict[str, Callable[[Value, Value], bool]] = {
    "=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
    ">": operator.gt, ">=": operator.ge,
}


def compile_expr(term: ast.Term, index: dict[str, int]) -> Callable[[Env], Value]:
    """A function from the values of the variables (positions given by `index`) to the
    term's value; it raises NoValue where the term has none."""
    if isinstance(term, ast.Var):
        i = index[term.name]
        return lambda env: env[i]
    if isinstance(term, ast.Const):
        value = term.value
        return lambda env: value
    if isinstance(term, ast.Negate):
        inner = compile_expr(term.operand, index)
        return lambda env: -inner(env)
    if isinstance(term, ast.BinOp):
        left, right = compile_expr(term.left, index), compile_expr(term.right, index)
        apply = ARITHMETIC[term.op]
        return lambda env: apply(left(env), right(env))
    raise TypeError(f"not an expression the planner leaves in a body: {term!r}")


# ---- aggregates -------------------------------------------------------------------

def aggregate(func: str, values: list[Value], is_float: bool) -> list[Value]:
    """The aggregate's value over the values of every binding of its body: one value, or
    none (min, max and mean of an empty group, as in Soufflé). Float sums and means are
    exact results rounded once, so they do not depend on the order answers come in."""
    if func == "count":
        return [len(values)]
    if func == "sum":
        return [_sum(values, is_float)]
    if not values:
        return []
    if func == "min":
        return [min(values)]
    if func == "max":
        return [max(values)]
    if func == "mean":
        # the exact mean, rounded once: floats are exact fractions, as are their sums
        return [float(sum(map(Fraction, values)) / len(values))]
    raise ValueError(f"unknown aggregate {func}")


def _sum(values: list[Value], is_float: bool) -> int | float:
    if is_float or any(isinstance(v, float) for v in values):
        return math.fsum(values)  # the exact sum rounded once: answer order cannot matter
    return sum(values)
