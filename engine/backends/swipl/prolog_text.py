"""Python values and names as SWI-Prolog source text: atoms quoted and escaped, exact floats."""

from __future__ import annotations

import math
import re

from engine.errors import EventRejected

# Symbols are stored as atoms (SWI indexes atoms; it does not index strings). Every atom is
# written quoted, so names like `[]`, `true` or `is` stay plain atoms.
ATOM_ESCAPES = {ord("\\"): "\\\\", ord("'"): "\\'"}
ATOM_ESCAPES.update({c: f"\\x{c:x}\\" for c in range(32)})
ATOM_ESCAPES[127] = "\\x7f\\"
# Most symbols need no escape; finding that out by a regex search is ~6x cheaper than
# str.translate with the table above (a Python-level lookup per character), and loading
# facts encodes several symbols per fact.
NEEDS_ESCAPE = re.compile(r"[\\'\x00-\x1f\x7f]").search


def atom(text: str) -> str:
    """`text` as a quoted Prolog atom that reads back as exactly the same characters."""
    return "'" + (text if NEEDS_ESCAPE(text) is None else text.translate(ATOM_ESCAPES)) + "'"


def number(value: int | float) -> str:
    if isinstance(value, int):
        return f"({value})" if value < 0 else str(value)
    if not math.isfinite(value):
        raise EventRejected(f"{value!r} is not a finite number; tempolog stores finite floats only")
    text = repr(value)
    mantissa, e, exponent = text.partition("e")
    if "." not in mantissa:
        mantissa += ".0"  # Prolog needs a digit after the dot: 1e+20 -> 1.0e+20
    text = mantissa + (e + exponent if e else "")
    return f"({text})" if value < 0 else text


def value(v: object) -> str:
    """One fact or query value (str, int or float; bool is rejected) as Prolog text."""
    if isinstance(v, str):
        try:
            v.encode("utf-8")
        except UnicodeEncodeError:
            raise EventRejected(f"{v!r} is not valid Unicode text (lone surrogate)") from None
        return atom(v)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise EventRejected(f"{v!r} ({type(v).__name__}) is not a str, int or float")
    return number(v)


def predicate(kind: str, name: str) -> str:
    """The quoted Prolog name of one of a relation's predicates, e.g. `'e:fill'`."""
    return atom(f"{kind}:{name}")


def call(kind: str, name: str, args) -> str:
    """A call of one of a relation's predicates: `'e:fill'(A1, A2)`."""
    return f"{predicate(kind, name)}({', '.join(args)})" if args else predicate(kind, name)


def conj(goals) -> str:
    """Goals as one conjunction, one goal per line."""
    return ",\n".join(goals) if goals else "true"


def indent(text: str) -> str:
    return text.replace("\n", "\n    ")


def variables(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i}" for i in range(1, n + 1)]
