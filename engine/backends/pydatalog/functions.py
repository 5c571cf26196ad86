"""What pyDatalog's resolvers run: compiled expressions and cancellation points."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from pyDatalog import pyEngine

from engine.builtins import ARITHMETIC, FUNCTIONS
from engine.lang import ast

Value = str | int | float
Env = Sequence[Value]


class Cancelled(Exception):
    """Raised inside a worker whose query was abandoned after its time limit."""


_job = threading.local()


def watch(flag: threading.Event | None) -> None:
    """Make `flag` the current thread's cancellation flag (None: never cancelled)."""
    _job.flag = flag


def current_flag() -> threading.Event | None:
    """The current thread's cancellation flag, for a thread it starts to share."""
    return getattr(_job, "flag", None)


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
        apply = ARITHMETIC[term.op].apply
        return lambda env: apply(left(env), right(env))
    if isinstance(term, ast.Call):
        function = FUNCTIONS[term.func].python  # raises NoValue where it has no value
        args = [compile_expr(arg, index) for arg in term.args]
        return lambda env: function(*(arg(env) for arg in args))
    raise TypeError(f"not an expression the planner leaves in a body: {term!r}")
