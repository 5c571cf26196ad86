"""Incremental re-evaluation of a negation or aggregate: only the keys the new facts touch."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass, replace

from engine.analysis.program import Program
from engine.backends.swipl.prolog_text import call as _call
from engine.backends.swipl.prolog_text import indent as _indent
from engine.backends.swipl.prolog_text import predicate as _q
from engine.backends.swipl.prolog_text import variables as _vars
from engine.lang import ast

# A relation that negates or aggregates what changed can lose tuples as well as gain them,
# so the semi-naive seeds (which only add) cannot maintain it. But when every atom its rules
# read over a changing relation holds the same head variables (pending_order's `o` in
# `order_accepted(o, _)`, `!order_done(o)`, `min r : { open_quantity(o, r) }`), a new or lost
# tuple of any of them can only change the head tuples with those variables' values: its
# *key*. Such a relation is re-derived key by key, with the key bound ('bu:all:p' called
# with those arguments given), and the difference against what was stored is applied and
# kept as the relation's own delta ('dn:p' gained, 'dr:p' lost) for the relations above it.

CHANGING = ("event", "view", "tabled")  # kinds of relations an incremental step can change


def key_positions(program: Program, kinds: Mapping[str, str], relation: str) -> list[int]:
    """The head columns of `relation` that every rule's every atom over a changing relation
    binds to the same variable (inside an aggregate: as one of its group keys); [] if
    none (then the relation is re-derived whole). When there are none, or an aggregate of
    the rules is grouped by more than those (velocity_breach counts per client *and tick*:
    one key would hold many groups, each counted again), also the columns whose keys a join
    finds (`ahead(o, other)` over two `book_entry` atoms)."""
    rules = program.rules_for(relation)
    if any(ast.as_of_literals(rule.body) for rule in rules):
        return []  # `p @ t` changes with p's past, which no key of the head holds
    direct = _positions(program, kinds, relation, join=False)
    if direct and all(_grouped_by(rule, direct) for rule in rules):
        return direct
    joined = _positions(program, kinds, relation, join=True)
    return joined if all(_grouped_by(rule, joined) for rule in rules) else direct


def _positions(program: Program, kinds: Mapping[str, str], relation: str,
               join: bool) -> list[int]:
    rules = program.rules_for(relation)
    return [i for i, type_ in enumerate(program.relations[relation].types)
            if type_ != "float"  # 1 and 1.0: a key must compare as it is stored
            and rules and all(_keys_rule(rule, i, kinds, join) for rule in rules)]


def _grouped_by(rule: ast.Rule, positions: Sequence[int]) -> bool:
    """Whether every aggregate of the rule is grouped by no head variable but keys."""
    if rule.is_fact:
        return True
    keys = {rule.head.args[i].name for i in positions}
    head = {v.name for v in ast.walk(rule.head) if isinstance(v, ast.Var)}
    return all(occurrence.keys & head <= keys
               for occurrence in _occurrences(rule.body, keys, set())
               if occurrence.aggregate is not None)


def _keys_rule(rule: ast.Rule, i: int, kinds: Mapping[str, str], join: bool) -> bool:
    arg = rule.head.args[i]
    if rule.is_fact:
        return True  # a fact in the program is stored in 'b:p', read with the key bound
    if not isinstance(arg, ast.Var) or _assigned(rule.body, arg.name):
        return False
    outer = [lit for lit in rule.body if isinstance(lit, ast.Atom)]
    if not any(_holds(atom, arg.name) for atom in outer):
        return False
    for occurrence in _occurrences(rule.body, {arg.name}, set()):
        if kinds.get(occurrence.atom.relation) in CHANGING and not (
                arg.name in occurrence.allowed and _holds(occurrence.atom, arg.name)) \
                and not (join and _joinable(occurrence, outer, kinds)):
            return False
    return True


def _holds(atom: ast.Atom, name: str) -> bool:
    return any(isinstance(a, ast.Var) and a.name == name for a in atom.args)


def _joinable(occurrence: Occurrence, outer: list[ast.Atom], kinds: Mapping[str, str]) -> bool:
    """Whether the keys a changed tuple of `occurrence` touches can be found by joining it
    with the rule's atoms (velocity_breach's `risk_checked(…, c, …, u)` with
    `checked_at(c, t)` and the window's comparisons): an aggregate only one deep."""
    return occurrence.depth <= 1


def _assigned(body: Sequence[ast.Literal], name: str) -> bool:
    """Whether `name` is on a side of an `=` (it may get its value there, not from an atom)."""
    return any(isinstance(n, ast.Comparison) and n.op == "=" and name in
               {v.name for side in (n.left, n.right)
                for v in ast.walk(side, ast.outside_aggregates) if isinstance(v, ast.Var)}
               for n in ast.walk(body))


@dataclass(frozen=True)
class Occurrence:
    """An atom of a rule's body with the key variables that keep their value in it, the
    aggregate it is in (if any) and how deep in aggregates."""

    atom: ast.Atom
    allowed: frozenset[str]
    aggregate: ast.Aggregate | None = None
    depth: int = 0
    keys: frozenset[str] = frozenset()  # the aggregate's group keys


def _occurrences(body: Sequence[ast.Literal], allowed: set[str], known: set[str],
                 within: ast.Aggregate | None = None, depth: int = 0,
                 group: frozenset[str] = frozenset()) -> Iterator[Occurrence]:
    """Every atom of a body (negated, in aggregates), with the key variables that keep their
    value in it: inside an aggregate only its group keys (bound before it), in the body's
    analysed order."""
    known = set(known)
    for literal in body:
        for aggregate in (n for n in ast.walk(literal, ast.outside_aggregates)
                          if isinstance(n, ast.Aggregate)):
            keys = {v.name for v in ast.walk(aggregate) if isinstance(v, ast.Var)} & known
            yield from _occurrences(aggregate.body, allowed & keys, keys, aggregate,
                                    depth + 1, frozenset(keys))
        if isinstance(literal, ast.Atom | ast.Negation):
            atom = literal if isinstance(literal, ast.Atom) else literal.atom
            yield Occurrence(atom, frozenset(allowed), within, depth, group)
        known |= {v.name for v in ast.walk(literal, ast.outside_aggregates)
                  if isinstance(v, ast.Var)}


def affected_body(rule: ast.Rule, occurrence: Occurrence) -> tuple[tuple[ast.Literal, ...],
                                                                   ast.Atom]:
    """The body that finds the keys a new tuple of `occurrence` touches: the rule's atoms
    and the occurrence (its aggregate's own variables renamed apart), then the aggregate's
    comparisons that those bind; and the occurrence's atom in it (to read the delta)."""
    outer = [lit for lit in rule.body if isinstance(lit, ast.Atom) and lit is not occurrence.atom]
    atom, tests = occurrence.atom, []
    if occurrence.aggregate is not None:
        rename = {v.name: f"{v.name}__in" for v in ast.walk(occurrence.aggregate)
                  if isinstance(v, ast.Var) and v.name not in occurrence.keys}
        atom = _renamed(atom, rename)
        bound = {v.name for lit in [*outer, atom] for v in ast.walk(lit)
                 if isinstance(v, ast.Var)}
        for literal in occurrence.aggregate.body:
            if isinstance(literal, ast.Comparison) and literal.op != "=" and not any(
                    isinstance(n, ast.Aggregate) for n in ast.walk(literal)):
                test = _renamed(literal, rename)
                if {v.name for v in ast.walk(test) if isinstance(v, ast.Var)} <= bound:
                    tests.append(test)
    return (*outer, atom, *tests), atom


def _renamed(node, names: Mapping[str, str]):
    """`node` with its variables renamed by `names` (AST nodes are frozen dataclasses)."""
    if isinstance(node, ast.Var):
        return replace(node, name=names.get(node.name, node.name))
    if isinstance(node, tuple):
        return tuple(_renamed(n, names) for n in node)
    if is_dataclass(node):
        return replace(node, **{f.name: _renamed(getattr(node, f.name), names)
                                for f in fields(node) if f.name != "pos"})
    return node


def keyed_clauses(program: Program, kinds: Mapping[str, str], relation: str,
                  positions: Sequence[int], join: Callable[[ast.Rule, Occurrence], str],
                  ) -> dict[str, list[str]]:
    """`'bu:keyed:p'`: re-derive `relation` (by `'bu:key:p'`, its rules compiled with the
    key bound) for each key that a changed tuple of what it reads holds, storing the
    difference and keeping it in 'dn:p' / 'dr:p'. `join(rule, occurrence)`: a goal binding
    the key (K<i>) by a join, where the occurrence does not hold every key variable."""
    arity = program.relations[relation].arity
    keys = [f"K{i}" for i in positions]
    goals = []
    for rule in program.rules_for(relation):
        if rule.is_fact:
            continue
        where = {arg.name: f"K{i}" for i, arg in reversed(list(enumerate(rule.head.args)))
                 if i in positions}
        same = [f"K{i} = {where[arg.name]}" for i, arg in enumerate(rule.head.args)
                if i in positions and where[arg.name] != f"K{i}"]
        for occurrence in _occurrences(rule.body, set(where), set()):
            atom = occurrence.atom
            kind = kinds.get(atom.relation)
            if kind not in CHANGING:
                continue
            if not all(name in occurrence.allowed and _holds(atom, name) for name in where):
                goals.append(", ".join([join(rule, occurrence), *same]))
                continue
            pattern = [where.get(a.name, "_") if isinstance(a, ast.Var) else "_"
                       for a in atom.args]
            changed = [_call("de", atom.relation, pattern)] if kind != "tabled" else [
                _call("dn", atom.relation, pattern), _call("dr", atom.relation, pattern)]
            for goal in changed:
                goals.append(", ".join([goal, *same]))
    args = _vars("A", arity)
    bound = list(args)
    for i in positions:
        bound[i] = f"K{i}"
    key = f"k({', '.join(keys)})"
    keyed, rekey = _q("bu:keyed", relation), _q("bu:rekey", relation)
    # (rules that differ only in comparisons find the same keys: one join each)
    found = " ;\n    ".join(f"( {g} )" for g in dict.fromkeys(goals)) or "fail"
    return {
        keyed: [f"{keyed} :-\n    findall({key}, (\n    {_indent(found)}), Keys0),\n"
                f"    sort(Keys0, Keys),\n    forall(member({key}, Keys), "
                f"{rekey}({', '.join(keys)}))."],
        rekey: [rederive(f"{rekey}({', '.join(keys)})", relation, bound, "bu:key")],
    }


def rederive(head: str, relation: str, args: Sequence[str], derive: str) -> str:
    """A clause `head` that derives the tuples `relation(args)` again (by `derive`), stores
    what changed and keeps it in 'dn:p' (gained) and 'dr:p' (lost)."""
    tuple_ = f"t({', '.join(args)})"
    stored, gained, lost = (_call(kind, relation, args) for kind in ("m", "dn", "dr"))
    return (f"{head} :-\n"
            f"    findall({tuple_}, {_call(derive, relation, args)}, New0),\n"
            f"    sort(New0, New),\n"
            f"    findall({tuple_}, {stored}, Old0),\n    sort(Old0, Old),\n"
            f"    (   New == Old\n    ->  true\n"
            f"    ;   ord_subtract(Old, New, Gone),\n        ord_subtract(New, Old, Came),\n"
            f"        forall(member({tuple_}, Gone), ( retract({stored}), assertz({lost}) )),\n"
            f"        forall(member({tuple_}, Came), ( assertz({stored}), assertz({gained}) ))\n"
            f"    ).")


def hoist_aggregates(body: Sequence[ast.Literal], keys: set[str]) -> tuple[ast.Literal, ...]:
    """A body planned with `keys` bound, with each `x = min|max v : {…}` grouped by keys
    only moved first: its value then binds `x` for the atoms (current_position's
    `n = max m : {…}` looks up the one latest change instead of testing every change of
    the group). min and max give one of the stored values, so binding `x` to it matches
    exactly what comparing did."""
    front, rest, known = [], [], set(keys)
    for literal in body:
        if (isinstance(literal, ast.Comparison) and literal.op == "="
                and isinstance(literal.left, ast.Var) and literal.left.name not in keys
                and isinstance(literal.right, ast.Aggregate)
                and literal.right.func in ("min", "max")
                and isinstance(literal.right.target, ast.Var)
                and {v.name for v in ast.walk(literal.right) if isinstance(v, ast.Var)}
                & known <= keys):
            front.append(literal)
        else:
            rest.append(literal)
        known |= {v.name for v in ast.walk(literal, ast.outside_aggregates)
                  if isinstance(v, ast.Var)}
    values = {literal.left.name for literal in front}
    # `n = _agg1` (analysis names each aggregate's value) follows it: n gets its value there.
    follow = [literal for literal in rest
              if isinstance(literal, ast.Comparison) and literal.op == "="
              and isinstance(literal.left, ast.Var) and isinstance(literal.right, ast.Var)
              and {literal.left.name, literal.right.name} & values]
    return tuple(front + follow + [literal for literal in rest if literal not in follow])


def delta_first(program: Program, body: Sequence[ast.Literal],
                delta: ast.Atom) -> tuple[ast.Literal, ...]:
    """A semi-naive variant's body, its delta atom first, with each `x = y + c` (or `- c`,
    c an integer) that gives a value to a variable x of the delta atom turned round, so
    that y gets its value from x: `qty_before`'s `m = n - 1, position_change(c, s, m, …)`
    read from a new change m then looks up change n = m + 1, instead of scanning every
    change for the one whose n - 1 is m. Only where x is a number column of the delta
    (float arithmetic does not turn round exactly). Unchanged when nothing is turned."""
    types = program.relations[delta.relation].types
    held = {a.name for a, type_ in zip(delta.args, types)
            if isinstance(a, ast.Var) and type_ == "number"}
    turned, rest = [], []
    for literal in body:
        inverse = _inverse(literal, held) if literal is not delta else None
        if inverse is not None:
            turned.append(inverse)
        elif literal is not delta:
            rest.append(literal)
    return (delta, *turned, *rest) if turned else tuple(body)


def _inverse(literal: ast.Literal, held: set[str]) -> ast.Comparison | None:
    """`y = x - c` for `x = y + c` (and the like) when x is held and y is not."""
    if not (isinstance(literal, ast.Comparison) and literal.op == "="
            and isinstance(literal.left, ast.Var) and literal.left.name in held
            and isinstance(literal.right, ast.BinOp) and literal.right.op in "+-"):
        return None
    x, (left, right) = literal.left, (literal.right.left, literal.right.right)
    if isinstance(left, ast.Var) and _integer(right) and left.name not in held:
        y, c, op = left, right, "-" if literal.right.op == "+" else "+"  # x = y ± c
    elif isinstance(right, ast.Var) and _integer(left) and literal.right.op == "+" \
            and right.name not in held:
        y, c, op = right, left, "-"  # x = c + y
    else:
        return None
    return ast.Comparison("=", y, ast.BinOp(op, x, c, literal.right.pos), literal.pos)


def _integer(term) -> bool:
    return isinstance(term, ast.Const) and type(term.value) is int
