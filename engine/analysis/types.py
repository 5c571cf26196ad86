"""Types: infer each column's type from declarations, facts and rules, and check every use."""

from __future__ import annotations

from collections.abc import Callable

from engine.builtins import AGGREGATES, arithmetic_type, expression_type, kind
from engine.lang import ast
from engine.lang.pretty import term as pretty_term

INTEGERS = {"number", "time", "money"}  # integer columns: money is integer cents

Report = Callable[[ast.Pos, str, str], None]  # (where, message, hint) of a type-mismatch


def fits(value: str, column: str) -> bool:
    """Can a value of type `value` be stored in a column of type `column`?"""
    if value == column or {value, column} <= INTEGERS:
        return True
    return column == "float" and value in INTEGERS


class TypeChecker:
    """Walks planned rules; `columns` maps each relation to its column types (None = unknown)."""

    def __init__(self, columns: dict[str, list[str | None]], declared: set[str], report: Report):
        self.columns = columns
        self.declared = declared
        self.report = report

    def check_rule(self, rule: ast.Rule, final: bool) -> None:
        env: dict[str, str] = {}
        self._body(rule.body, env, final)
        if not rule.head.args and rule.head.relation not in self.columns:
            self.columns[rule.head.relation] = []
        self._store(rule.head, env, final)

    def check_body(self, body: tuple[ast.Literal, ...]) -> None:
        self._body(body, {}, final=True)

    # ---- bodies

    def _body(self, body, env: dict[str, str], final: bool) -> None:
        for literal in body:
            if isinstance(literal, ast.Atom):
                self._read(literal, env, final)
            elif isinstance(literal, ast.Negation):
                self._read(literal.atom, env, final)
            elif isinstance(literal, ast.AsOf):
                self._time(literal.time, env, final)
                self._read(literal.atom, env, final)
            else:
                self._comparison(literal, env, final)

    def _time(self, time: ast.Term, env: dict[str, str], final: bool) -> None:
        """The time of `p(…) @ t` must be a number (a tick)."""
        type_ = self.term_type(time, env, final)
        if final and type_ is not None and kind(type_) != "numeric":
            shown = time.name if isinstance(time, ast.Var) else pretty_term(time)
            self.report(time.pos, f"the time {shown} of an as-of literal is a {type_}, "
                        "but a time must be a number",
                        "after '@' use a time or number: e.g. an event's time column")

    def _read(self, atom: ast.Atom, env: dict[str, str], final: bool) -> None:
        types = self.columns.get(atom.relation, [])
        for i, arg in enumerate(atom.args):
            column = types[i] if i < len(types) else None
            if column is None:
                continue
            if isinstance(arg, ast.Var):
                self._bind(arg, column, env, final, joined=True)
            elif isinstance(arg, ast.Const) and final and kind(arg.type) != kind(column):
                self.report(arg.pos, f"argument {i + 1} of {atom.relation} is a {column} "
                            f"column, but {_show(arg)} is a {arg.type}",
                            f"use a {column} value here")

    def _bind(self, var: ast.Var, type_: str, env: dict[str, str], final: bool,
              joined: bool = False) -> None:
        known = env.get(var.name)
        if known is None:
            env[var.name] = type_
        elif kind(known) != kind(type_):
            if final:
                self.report(var.pos, f"variable {var.name} is used both as a {known} and as "
                            f"a {type_}", "use two different variables, or fix the column")
        elif joined and (known == "float") != (type_ == "float"):
            # Values are matched, not compared: 1 and 1.0 are different facts.
            if final:
                self.report(var.pos, f"variable {var.name} joins a {known} with a {type_} "
                            "column, and 1 never matches 1.0",
                            "bind each column to its own variable and compare them with '='")
        else:
            env[var.name] = arithmetic_type(known, type_) if known != type_ else known

    def _comparison(self, literal: ast.Comparison, env: dict[str, str], final: bool) -> None:
        right = literal.right
        if isinstance(right, ast.Aggregate):
            inner = dict(env)
            self._body(right.body, inner, final)
            result = self._aggregate_type(right, inner, final)
            if result and isinstance(literal.left, ast.Var):
                self._bind(literal.left, result, env, final)
            return
        left_type = self.term_type(literal.left, env, final)
        right_type = self.term_type(right, env, final)
        if literal.op == "=":
            for side, other in ((literal.left, right_type), (right, left_type)):
                if isinstance(side, ast.Var) and other and side.name not in env:
                    env[side.name] = other
        if final and left_type and right_type and kind(left_type) != kind(right_type):
            self.report(literal.pos, f"cannot compare a {left_type} with a {right_type}",
                        "both sides of a comparison must be symbols, or both numbers")

    def _aggregate_type(self, agg: ast.Aggregate, env: dict[str, str], final: bool):
        function = AGGREGATES[agg.func]
        if not function.takes_target:
            return function.result_type(None)
        target = self.term_type(agg.target, env, final)
        if final and target == "symbol" and function.numeric:
            self.report(agg.pos, f"cannot {agg.func} symbols",
                        f"{agg.func} takes a number or float expression")
        return function.result_type(target)

    def term_type(self, term, env: dict[str, str], final: bool) -> str | None:
        return expression_type(term, env, self.report if final else None)

    # ---- heads

    def _store(self, head: ast.Atom, env: dict[str, str], final: bool) -> None:
        types = self.columns.setdefault(head.relation, [None] * len(head.args))
        declared = head.relation in self.declared
        for i, arg in enumerate(head.args):
            if i >= len(types):
                break
            value = arg.type if isinstance(arg, ast.Const) else self.term_type(arg, env, final)
            if value is None:
                continue
            if types[i] is None:
                types[i] = "number" if value == "time" else value
            elif final and not fits(value, types[i]):
                origin = "declared" if declared else "inferred"
                self.report(arg.pos, f"argument {i + 1} of {head.relation} is {origin} as "
                            f"{types[i]}, but this value is a {value}",
                            f"make the value a {types[i]}" if declared else
                            "every rule for a relation must give each column one type")
            elif not declared and types[i] == "number" and value == "float":
                types[i] = "float"


def _show(const: ast.Const) -> str:
    return f'"{const.value}"' if const.type == "symbol" else str(const.value)
