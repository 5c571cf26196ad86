"""Prepared queries: one analysis and compilation per query shape, its literals filled in."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable

from engine.backends.swipl import prolog_text as pl
from engine.errors import TempologError
from engine.lang.reduce import unescape

# `net_position("C17", "S3", n)` and `net_position("C4", "S9", n)` have one shape. Analysis
# costs ~80 µs, more than the rest of an as-of point query, so each shape is analysed once
# with its literals replaced by placeholders of the same type, and the literals' Prolog text
# is put into the compiled goal.

# A string literal, or a number not glued to a name (`c17` holds no number).
_LITERAL = re.compile(r'"(?:[^"\\\n]|\\.)*"'
                      r'|(?<![A-Za-z0-9_.])\d+(?:\.\d+(?:[eE][+-]?\d+)?|[eE][+-]?\d+)?(?![\w.])')
_INT_BASE = 7_310_000_000_000_000  # placeholders: numbers no query is likely to hold
_FLOAT_BASE = 7_310_000_000.25


class Prepared:
    """`compile(shape_text) -> (columns, goal, row)` cached per shape."""

    def __init__(self, compile: Callable[[str], tuple], size: int = 1024):
        self._compile_text = compile
        self._size = size
        self._kept: OrderedDict[str, tuple] = OrderedDict()  # least recently used first
        self._lock = threading.Lock()

    def __call__(self, text: str) -> tuple[tuple[str, ...], str, str]:
        return self._prepared(text, compile=True)

    def ready(self, text: str) -> tuple[tuple[str, ...], str, str] | None:
        """The prepared query when its shape was compiled before, else None: compiles
        nothing, so a caller that must not wait (the service's event loop) can ask."""
        return self._prepared(text, compile=False)

    def _compile(self, text: str, compile: bool = True) -> tuple | None:
        with self._lock:
            kept = self._kept.get(text)
            if kept is not None:
                self._kept.move_to_end(text)
                return kept
        if not compile:
            return None
        compiled = self._compile_text(text)  # outside the lock: it may take a while
        with self._lock:
            self._kept[text] = compiled
            if len(self._kept) > self._size:
                self._kept.popitem(last=False)
        return compiled

    def _prepared(self, text: str, compile: bool) -> tuple | None:
        if "//" in text or "/*" in text:  # comments could hide quotes: no shortcut
            return self._compile(text, compile)
        literals: list[tuple[str, str]] = []  # (placeholder's Prolog text, literal's)

        def hole(match: re.Match) -> str:
            token = match.group(0)
            n = len(literals)
            if token.startswith('"'):
                literals.append((pl.atom(f"tl\x01{n}"), pl.atom(unescape(token))))
                return f'"tl\\u0001{n}"'
            if re.fullmatch(r"\d+", token):
                # in a float column the compiler writes float(n): replace that form first
                literals.append((str(_INT_BASE + n), token))
                literals.append((repr(float(_INT_BASE + n)), _float_text(int(token))))
                return str(_INT_BASE + n)
            literals.append((repr(_FLOAT_BASE + n), pl.number(float(token))))
            return repr(_FLOAT_BASE + n)

        try:
            shape = _LITERAL.sub(hole, text)
        except (ValueError, OverflowError, TempologError):  # a bad escape or number: the
            # parser says where
            return self._compile(text, compile)
        try:
            prepared = self._compile(shape, compile)
        except TempologError:
            return self._compile(text)  # the error, told about the user's own text
        if prepared is None:
            return None
        columns, goal, row = prepared
        for placeholder, value in reversed(literals):  # n.0 before n
            if value is None:
                return self._compile(text, compile)
            goal = goal.replace(placeholder, value)
        return columns, goal, row


def _float_text(value: int) -> str | None:
    try:
        return pl.number(float(value))
    except OverflowError:
        return None
