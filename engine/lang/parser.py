"""The parser: .dl text to a RuleFile, reporting every syntax error with its position."""

from __future__ import annotations

import difflib
import re
import threading
from functools import lru_cache
from pathlib import Path

from lark import (
    Lark,
    Token,
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
)
from lark.exceptions import VisitError

from engine.errors import Diagnostic, RuleSyntaxError, line_at
from engine.lang import ast
from engine.lang.body import SyntaxProblem
from engine.lang.reduce import ToAst

MAX_SYNTAX_ERRORS = 50

# What a user calls each token, for "expected …" messages.
TOKEN_NAMES = {
    "DOT": "'.'", "COMMA": "','", "LPAR": "'('", "RPAR": "')'", "COLON": "':'",
    "IF": "':-'", "LBRACE": "'{'", "RBRACE": "'}'", "NAME": "a name",
    "STRING": "a string", "INT": "a number", "FLOAT": "a number", "COMPARE": "a comparison",
    "PLUS": "'+'", "MUL_OP": "'*', '/' or '%'", "BANG": "'!'", "NOT": "'not'",
    "MINUS": "'-'", "UNDERSCORE": "'_'", "COUNT": "'count'", "SUM": "'sum'", "MIN": "'min'",
    "MAX": "'max'", "MEAN": "'mean'", "SEMICOLON": "';'", "AT": "'@'", "FUNC_MIN": "a name",
    "FUNC_MAX": "a name",
    "DIRECTIVE": "a directive", "DECL": "'.decl'", "EVENT": "'.event'",
    "INCLUDE": "'.include'", "NEVER": "'.never'", "$END": "end of file",
}


_GRAMMAR = Path(__file__).parent / "grammar.lark"
_PARSING = threading.Lock()  # the inline transformer holds the current file's path


@lru_cache(maxsize=1)
def _lark() -> Lark:
    """The LALR parser, building the AST as it reduces: about 3x faster than a tree pass."""
    return Lark(_GRAMMAR.read_text(), parser="lalr", maybe_placeholders=False,
                start=["start", "query"], transformer=ToAst())


# ---- errors a user can act on ----------------------------------------------

def _offset(text: str, line: int, column: int) -> int:
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    return starts[line - 1] + column - 1 if 0 < line <= len(starts) else len(text)


def _expected(names: set[str]) -> str:
    shown = sorted({TOKEN_NAMES.get(n, repr(n)) for n in names if not n.startswith("__")})
    if len(shown) > 6:
        return ", ".join(shown[:6]) + " …"
    return ", ".join(shown)


def _describe(token: Token) -> str:
    if token.type == "$END":
        return "end of file"
    return f"{token.value!r}"


def _previous_token_end(text: str, offset: int) -> tuple[int, int] | None:
    """Line and column just past the last token before `offset`, if there is one."""
    last = None
    try:
        for token in _lark().lex(text[:offset]):
            last = token
    except UnexpectedInput:
        return None
    if last is None or last.end_line is None:
        return None
    return last.end_line, last.end_column


def _diagnose(error: UnexpectedInput, text: str, path: str) -> Diagnostic:
    line, column = error.line, error.column
    if isinstance(error, UnexpectedCharacters):
        char = text[error.pos_in_stream] if error.pos_in_stream < len(text) else ""
        if char == '"':
            message, hint = "unterminated string", 'close the string with " on the same line'
        elif text.startswith("/*", error.pos_in_stream):
            message, hint = "unterminated comment", "close the comment with */"
        else:
            message, hint = f"unexpected character {char!r}", "remove it"
        return _diagnostic(text, path, line, column, message, hint)

    token = error.token if isinstance(error, UnexpectedToken) else None
    expected = set(getattr(error, "expected", ()) or ())
    if isinstance(error, UnexpectedEOF) or (token is not None and token.type == "$END"):
        end = _previous_token_end(text, len(text))
        if end and "DOT" in expected:
            line, column = end
            return _diagnostic(text, path, line, column, "missing '.' at the end of the clause",
                               "end every fact, rule and invariant with '.'")
        message = f"unexpected end of file; expected {_expected(expected)}"
        return _diagnostic(text, path, line or 1, column or 1, message, "finish the clause")

    assert token is not None
    if token.type == "DOT" and re.match(r"\.\w", text[token.start_pos:]):
        word = re.match(r"\.\w*", text[token.start_pos:]).group(0)
        known = [".decl", ".event", ".never", ".include", ".input", ".output"]
        guess = difflib.get_close_matches(word, known, n=1)
        return _diagnostic(text, path, line, column, f"unknown directive {word!r}",
                           f"did you mean {guess[0]}?" if guess else
                           "directives are " + " ".join(known))
    if "DOT" in expected and token.type not in ("COMMA",):
        end = _previous_token_end(text, token.start_pos)
        if end and end[0] < token.line:
            return _diagnostic(text, path, end[0], end[1], "missing '.' at the end of the clause",
                               "end every fact, rule and invariant with '.'")
    if token.value == "/" and text.startswith("/*", token.start_pos):
        return _diagnostic(text, path, line, column, "unterminated comment",
                           "close the comment with */")
    if expected and expected <= {"NAME", "INT"} and text[:token.start_pos].rstrip().endswith("@") \
            or re.search(r"@\s*\w+\s*$", text[:token.start_pos]) and token.type in (
                "PLUS", "MINUS", "MUL_OP", "LPAR"):
        return _diagnostic(text, path, line, column,
                           "'@' takes a time: a variable or an integer",
                           "compute the time first, e.g. `u = t - 1, p(x) @ u`")
    if {"COMMA", "DOT"} <= expected and token.type in ("NAME", "BANG", "NOT"):
        return _diagnostic(text, path, line, column,
                           f"unexpected {_describe(token)}; expected ',' or '.'",
                           "separate literals with ',' and end the clause with '.'")
    if token.type == "DOT" and "BANG" in expected:
        return _diagnostic(text, path, line, column, "expected a literal after ','",
                           "remove the trailing ',' or add a literal after it")
    if token.type == "COMPARE" and token.value == "=" and "IF" in expected:
        return _diagnostic(text, path, line, column, "expected ':-' between head and body",
                           "write a rule as `head(x) :- body(x).`")
    if token.type == "UNDERSCORE" and "NAME" in expected:
        return _diagnostic(text, path, line, column, "'_' cannot stand here",
                           "use '_' only as an argument of an atom")
    message = f"unexpected {_describe(token)}; expected {_expected(expected)}"
    return _diagnostic(text, path, line, column, message, _hint_for(token, expected))


def _hint_for(token: Token, expected: set[str]) -> str:
    if token.type == "NAME" and token.value in ("decl", "event", "never", "include"):
        return f"directives start with a dot: .{token.value}"
    if "RPAR" in expected:
        return "close the argument list with ')'"
    if "DOT" in expected:
        return "end the clause with '.' or separate literals with ','"
    if token.type == "IF":
        return "a rule's head is a single atom like `p(x, y)`"
    return "see docs/language.md for the syntax"


def _diagnostic(text, path, line, column, message, hint) -> Diagnostic:
    return Diagnostic("syntax", message, path, line, column, hint, line_at(text, line))


# ---- recovery: blank out a broken clause and parse the rest ------------------

_CLAUSE_END = re.compile(r'"(?:[^"\\\n]|\\.)*"|//[^\n]*|/\*(?:.|\n)*?\*/|\.(?=\s|$|/[/*])'
                         r'|^[ \t]*(?=\.[A-Za-z])', re.MULTILINE)
_OPENS_ITEM = {"DECL", "EVENT", "INCLUDE", "DIRECTIVE"}


def _clause_bounds(text: str, offset: int) -> tuple[int, int]:
    """The start and end offsets of the clause holding `offset`, for skipping it.

    Clauses end with '.', except declarations (at their closing ')'), includes (at the
    path) and directives (at the end of the line)."""
    start, depth, opener = 0, 0, None
    try:
        for token in _lark().lex(text[:offset]):
            if token.type in _OPENS_ITEM:
                opener = token.type
            depth += {"LPAR": 1, "RPAR": -1}.get(token.type, 0)
            ends_item = (token.type == "DOT" or opener in ("DECL", "EVENT")
                         and token.type == "RPAR" and depth == 0
                         or opener == "INCLUDE" and token.type == "STRING")
            if ends_item:
                start, opener = token.end_pos, None
    except UnexpectedInput:
        pass
    if re.match(r"\s*\.[A-Za-z]", text[start:]):  # a directive: no '.' ends it
        newline = text.find("\n", offset)
        return start, newline if newline > offset else len(text)
    end = len(text)
    for match in _CLAUSE_END.finditer(text, offset + 1):
        if match.group(0).strip() in (".", ""):
            end = match.end() if match.group(0) == "." else match.start()
            break
    return start, max(end, offset + 1)


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + re.sub(r"[^\n]", " ", text[start:end]) + text[end:]


def parse(text: str, path: str = "<input>") -> ast.RuleFile:
    """Parse one file's text; raise RuleSyntaxError with every syntax error found."""
    return ast.RuleFile(path, _parse(text, path, "start"), text)


def parse_query(text: str, path: str = "<query>") -> tuple[ast.Literal, ...]:
    """Parse a query body such as `pending_order(o, c, "AAPL", s, q, p), q > 10`."""
    return _parse(text, path, "query")


def _parse(text: str, path: str, start: str):
    diagnostics: list[Diagnostic] = []
    working = text
    while len(diagnostics) < MAX_SYNTAX_ERRORS:
        try:
            with _PARSING:
                transformer = _lark().options.transformer
                transformer.path, transformer.depths = path, {}
                try:
                    items = _lark().parse(working, start=start)
                finally:
                    transformer.depths = {}
        except UnexpectedInput as error:
            diagnostics.append(_diagnose(error, text, path))
            at_end = isinstance(error, UnexpectedEOF) or (
                isinstance(error, UnexpectedToken) and error.token.type == "$END")
            if start == "query" or at_end:
                break  # one clause, or nothing left after the error to recover to
            offset = _offset(working, error.line or 1, error.column or 1)
            if isinstance(error, UnexpectedToken) and error.token.type != "$END":
                offset = error.token.start_pos
            clause_start, clause_end = _clause_bounds(working, offset)
            if diagnostics[-1].message.startswith("missing '.'"):
                clause_end = offset  # the clause ended before this token: resume at it
            elif isinstance(error, UnexpectedToken) and error.token.type == "DOT":
                clause_end = error.token.end_pos  # the clause ends at this very '.'
            working = _blank(working, clause_start, clause_end)
            continue
        except (SyntaxProblem, VisitError) as raised:
            problem = getattr(raised, "orig_exc", raised)
            if not isinstance(problem, SyntaxProblem):
                raise
            diagnostics.append(_diagnostic(text, path, problem.line, problem.column,
                                           problem.message, problem.hint))
            if start == "query":
                break  # one clause: nothing to recover to
            offset = _offset(working, problem.line, problem.column)
            clause_start, clause_end = _clause_bounds(working, offset)
            working = _blank(working, clause_start, clause_end)
            continue
        if diagnostics:
            break
        return items
    raise RuleSyntaxError(diagnostics)
