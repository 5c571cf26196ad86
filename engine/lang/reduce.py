"""Lark's reductions to AST nodes: the parser builds the tree as it reduces, no parse tree."""

from __future__ import annotations

import math
import re

from lark import Token, Transformer, v_args

from engine.lang import ast
from engine.lang.body import Bare, Body, Group, SyntaxProblem, as_term, atom_of, literals

MAX_NESTING = 100  # sub-expressions within sub-expressions; Python recurses over them
MAX_INT_DIGITS = 4000  # under Python's int() limit of 4,300; far past any 64-bit number

_ESCAPE = re.compile(r'\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)')
_SIMPLE_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "/": "/", "0": "\0"}


class _BadEscape(ValueError):
    def __init__(self, offset: int, text: str, problem: str = "unknown escape sequence"):
        super().__init__(f"{problem} {text} in string")
        self.offset, self.text, self.problem = offset, text, problem


def unescape(literal: str) -> str:
    """The value of a double-quoted string literal (quotes included in `literal`)."""

    def replace(match: re.Match) -> str:
        code = match.group(1)
        if code[0] in "uU" and len(code) > 1:
            point = int(code[1:], 16)
            if point > 0x10FFFF or 0xD800 <= point <= 0xDFFF:  # not a Unicode character
                raise _BadEscape(match.start(), match.group(0), "no Unicode character for")
            return chr(point)
        if code in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[code]
        raise _BadEscape(match.start(), match.group(0))

    return _ESCAPE.sub(replace, literal[1:-1])


@v_args(inline=True)
class ToAst(Transformer):
    """Builds the AST while the LALR parser reduces (no parse tree is made).

    Each node takes its position from a token it owns; `path` is set per parse."""

    path = "<input>"
    depths: dict[int, int] = {}  # id(node) -> how deep it nests, per parse; leaves are 1

    def _at(self, token: Token) -> ast.Pos:
        return ast.Pos(self.path, token.line, token.column)

    def _nested(self, node, token: Token, *parts):
        """`node`, over `parts`, unless it nests past MAX_NESTING: the analysis and the
        compilers recurse over expressions, and must not meet a RecursionError."""
        depth = 1 + max((self.depths.get(id(p), 1) for p in parts), default=0)
        if depth > MAX_NESTING:
            raise SyntaxProblem(token.line, token.column,
                                 f"expression nested too deeply (over {MAX_NESTING} levels)",
                                 "name the parts with variables or intermediate rules")
        self.depths[id(node)] = depth
        return node

    # items
    def start(self, *items):
        return items

    def query(self, body):
        return literals(body)

    def declaration(self, keyword, name, fields=()):
        return ast.Declaration(str(name), tuple(fields), False, self._at(keyword))

    def event_declaration(self, keyword, name, fields=()):
        return ast.Declaration(str(name), tuple(fields), True, self._at(keyword))

    def fields(self, *fields):
        return fields

    def field(self, name, type_):
        return ast.Field(str(name), str(type_), self._at(name))

    def include(self, keyword, path):
        return ast.Include(self.string(path).value, self._at(keyword))

    def invariant(self, keyword, name, body):
        return ast.Invariant(str(name), literals(body), self._at(keyword))

    def directive(self, kind, *names):
        return ast.Directive(str(kind)[1:], tuple(str(n) for n in names), self._at(kind))

    def fact(self, head):
        return ast.Rule(head, (), head.pos)

    def rule(self, head, _if, body):
        return ast.Rule(head, literals(body), head.pos)

    def body(self, *conjunctions):
        return Body(conjunctions)

    def conjunction(self, *literals):
        return literals

    def bare(self, term):
        return term if isinstance(term, Group) else Bare(term)

    def group(self, body):
        # `(x + 1)` is an expression, `(p(x))` may be either; anything else groups literals.
        if len(body.conjunctions) == 1 and len(body.conjunctions[0]) == 1:
            only = body.conjunctions[0][0]
            if isinstance(only, Bare):
                return only.term
        return Group(literals(body))

    def application(self, name, args=()):
        args = tuple(as_term(arg) for arg in args)
        return self._nested(ast.Call(str(name), args, self._at(name)), name, *args)

    # literals
    def negation(self, bang, atom):
        return self._nested(ast.Negation(atom, self._at(bang)), bang, atom)

    def as_of(self, term, at, time):
        atom = atom_of(as_term(term))
        return self._nested(ast.AsOf(atom, time, False, atom.pos), at, atom)

    def negated_as_of(self, bang, atom, _at, time):
        return self._nested(ast.AsOf(atom, time, True, self._at(bang)), bang, atom)

    def comparison(self, left, op, right):
        left, right = as_term(left), as_term(right)
        return self._nested(ast.Comparison(str(op), left, right, self._at(op)), op, left, right)

    def atom(self, name, args=()):
        return self._nested(ast.Atom(str(name), tuple(args), self._at(name)), name, *args)

    def args(self, *terms):
        return tuple(as_term(term) for term in terms)

    # terms
    def binop(self, left, op, right):
        left, right = as_term(left), as_term(right)
        return self._nested(ast.BinOp(str(op), left, right, self._at(op)), op, left, right)

    def negate(self, minus, operand):
        operand = as_term(operand)
        if isinstance(operand, ast.Const) and operand.type != "symbol":
            return ast.Const(-operand.value, operand.type, self._at(minus))
        return self._nested(ast.Negate(operand, self._at(minus)), minus, operand)

    def var(self, name):
        return ast.Var(str(name), self._at(name))

    def wildcard(self, underscore):
        return ast.Wildcard(self._at(underscore))

    def string(self, token):
        try:
            value = unescape(str(token))
        except _BadEscape as bad:
            raise SyntaxProblem(
                token.line, token.column + 1 + bad.offset,
                str(bad), 'use \\" \\\\ \\n \\t \\r or \\uXXXX',
            ) from None
        return ast.Const(value, "symbol", self._at(token))

    def int(self, token):
        if len(token) > MAX_INT_DIGITS:
            raise SyntaxProblem(token.line, token.column,
                                 f"integer literal of {len(token)} digits is too long",
                                 f"write at most {MAX_INT_DIGITS} digits")
        return ast.Const(int(token), "number", self._at(token))

    def float(self, token):
        value = float(token)
        if not math.isfinite(value):
            raise SyntaxProblem(token.line, token.column,
                                 f"float literal {token} is out of range",
                                 "floats are 64-bit: at most about 1.8e308")
        return ast.Const(value, "float", self._at(token))

    def aggregate(self, func, *rest):
        target, body = (None, rest[0]) if len(rest) == 1 else (as_term(rest[0]), rest[1])
        body = body if isinstance(body, tuple) else (body,)
        parts = body if target is None else (target, *body)
        return self._nested(ast.Aggregate(str(func), target, body, self._at(func)), func, *parts)

    def aggregate_body(self, body):
        return literals(body) if isinstance(body, Body) else (body,)
