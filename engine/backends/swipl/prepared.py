"""Prepared queries: one analysis and compilation per query shape, its literals filled in."""

from __future__ import annotations

import re
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
        from functools import lru_cache

        self._compile = lru_cache(maxsize=size)(compile)

    def __call__(self, text: str) -> tuple[tuple[str, ...], str, str]:
        if "//" in text or "/*" in text:  # comments could hide quotes: no shortcut
            return self._compile(text)
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
            return self._compile(text)
        try:
            columns, goal, row = self._compile(shape)
        except TempologError:
            return self._compile(text)  # the error, told about the user's own text
        for placeholder, value in reversed(literals):  # n.0 before n
            if value is None:
                return self._compile(text)
            goal = goal.replace(placeholder, value)
        return columns, goal, row


def _float_text(value: int) -> str | None:
    try:
        return pl.number(float(value))
    except OverflowError:
        return None
