"""Safety: every variable has a value before it is used; bodies put in evaluation order."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count

from engine.lang import ast

# Planning also normalises a rule for the compilers, so that they stay simple:
# - atom arguments are only variables, wildcards and constants (an expression argument
#   becomes a fresh variable and an `=` after the atom, or before it when negated);
# - an aggregate stands only as `Var = Aggregate`, the variable fresh (bound nowhere else);
# - head arguments that are expressions become fresh variables assigned at the end.

SIMPLE_ARGS = (ast.Var, ast.Wildcard, ast.Const)


@dataclass
class Unsafe:
    """A variable that never gets a value where it is used."""

    var: ast.Var
    where: str  # head | negation | comparison | aggregate | group


@dataclass
class NegationLocal:
    """A variable that occurs in one negated atom and nowhere else in its rule: the negation
    holds when no value of it matches (Nemo's reading). `!s3(x, p, p)` is true when s3 has
    no row for x whose 2nd and 3rd columns are equal. Safe, but worth a warning."""

    var: ast.Var  # its first occurrence
    atom: ast.Atom
    columns: tuple[int, ...]  # where it stands in the atom, from 1


@dataclass
class Findings:
    """What ordering a body finds: unsafe variables, and variables local to a negation."""

    unsafe: list[Unsafe] = field(default_factory=list)
    negation_locals: list[NegationLocal] = field(default_factory=list)


@dataclass
class _Fresh:
    taken: set[str]
    numbers: count = field(default_factory=lambda: count(1))

    def var(self, stem: str, pos: ast.Pos) -> ast.Var:
        while True:
            name = f"_{stem}{next(self.numbers)}"
            if name not in self.taken:
                self.taken.add(name)
                return ast.Var(name, pos)


def all_var_names(node) -> set[str]:
    """Every variable name anywhere under a node, aggregates included."""
    return {n.name for n in ast.walk(node) if isinstance(n, ast.Var)}


def _first_var(node, names: set[str]) -> ast.Var | None:
    """The first occurrence (in source order) of any of `names` under node."""
    return next((n for n in ast.walk(node) if isinstance(n, ast.Var) and n.name in names),
                None)


# ---- normalisation ----------------------------------------------------------------

def _normalise(body: tuple[ast.Literal, ...], fresh: _Fresh) -> list[ast.Literal]:
    out: list[ast.Literal] = []
    for literal in body:
        if isinstance(literal, ast.Atom):
            atom, checks = _simple_args(literal, fresh)
            out.append(atom)
            out.extend(_lift_all(checks, fresh))
        elif isinstance(literal, ast.Negation):
            atom, assigns = _simple_args(literal.atom, fresh)
            out.extend(_lift_all(assigns, fresh))
            out.append(ast.Negation(atom, literal.pos))
        elif isinstance(literal, ast.AsOf):
            atom, checks = _simple_args(literal.atom, fresh)
            lifted = _lift_all(checks, fresh)
            as_of = ast.AsOf(atom, literal.time, literal.negated, literal.pos)
            # like an atom (its `=`s after it) or, negated, like a negation (before it)
            out.extend([*lifted, as_of] if literal.negated else [as_of, *lifted])
        elif isinstance(literal, ast.Disjunction):
            continue  # only where analysis has reported it: rules are split before this
        else:
            out.extend(_lift_aggregates(literal, fresh))
    return out


def _simple_args(atom: ast.Atom, fresh: _Fresh, stem: str = "arg"
                 ) -> tuple[ast.Atom, list[ast.Comparison]]:
    """The atom with each expression argument replaced by a fresh variable, and the `=`s
    that give those variables their values."""
    args, checks = [], []
    for arg in atom.args:
        if isinstance(arg, SIMPLE_ARGS):
            args.append(arg)
        else:
            var = fresh.var(stem, arg.pos)
            args.append(var)
            checks.append(ast.Comparison("=", var, arg, arg.pos))
    return ast.Atom(atom.relation, tuple(args), atom.pos), checks


def _lift_all(comparisons: list[ast.Comparison], fresh: _Fresh) -> list[ast.Literal]:
    """The `=`s that give expression arguments their values, normalised like any comparison
    (an aggregate argument's own body included)."""
    return [lit for comparison in comparisons for lit in _lift_aggregates(comparison, fresh)]


def _lift_aggregates(comparison: ast.Comparison, fresh: _Fresh) -> list[ast.Literal]:
    """Every aggregate becomes a fresh variable assigned just before the comparison."""
    left, right = comparison.left, comparison.right
    lifted: list[ast.Literal] = []

    def lift(term):
        if isinstance(term, ast.Aggregate):
            agg = ast.Aggregate(term.func, term.target,
                                tuple(_normalise(term.body, fresh)), term.pos)
            var = fresh.var("agg", term.pos)
            lifted.append(ast.Comparison("=", var, agg, term.pos))
            return var
        if isinstance(term, ast.BinOp):
            return ast.BinOp(term.op, lift(term.left), lift(term.right), term.pos)
        if isinstance(term, ast.Negate):
            return ast.Negate(lift(term.operand), term.pos)
        if isinstance(term, ast.Call):
            return ast.Call(term.func, tuple(lift(arg) for arg in term.args), term.pos)
        return term

    new_left, new_right = lift(left), lift(right)
    return lifted + [ast.Comparison(comparison.op, new_left, new_right, comparison.pos)]


# ---- ordering -----------------------------------------------------------------------

def _negation_locals(body: list[ast.Literal], context: set[str]) -> dict[int, set[str]]:
    """Per negation of a body, the variables that occur in it and in no other literal of the
    body (aggregates' insides included) nor in `context` (the head, or what an aggregate
    shares with its rule). Two negations sharing a variable are linked by it: not local."""
    literals_with: dict[str, int] = {}
    for literal in body:
        for name in all_var_names(literal):
            literals_with[name] = literals_with.get(name, 0) + 1
    return {id(literal): {name for name in all_var_names(literal.atom)
                          if literals_with[name] == 1 and name not in context}
            for literal in body if isinstance(literal, ast.Negation)}


def _record_locals(body: list[ast.Literal], local: dict[int, set[str]],
                   found: Findings) -> None:
    for literal in body:
        names = local.get(id(literal)) if isinstance(literal, ast.Negation) else None
        for name in sorted(names or (), key=lambda n: _position_key(_first_var(literal, {n}))):
            atom = literal.atom
            columns = tuple(i for i, arg in enumerate(atom.args, 1)
                            if isinstance(arg, ast.Var) and arg.name == name)
            found.negation_locals.append(NegationLocal(_first_var(atom, {name}), atom, columns))


def _needs(literal: ast.Literal, bound: set[str], names) -> tuple[set[str], set[str]]:
    """(variables that must be bound first, variables it binds) for a comparison or an
    as-of literal."""
    if isinstance(literal, ast.AsOf):  # its time must have a value; positive, it binds
        if literal.negated:
            return names(literal), set()
        return names(literal.time), names(literal.atom)
    left, right = literal.left, literal.right
    if literal.op == "=":
        for target, source in ((left, right), (right, left)):
            source_unbound = isinstance(source, ast.Var) and source.name not in bound
            if isinstance(target, ast.Var) and target.name not in bound and not source_unbound:
                return names(source), {target.name}
    return names(literal), set()


def _order(body: list[ast.Literal], bound: set[str], found: Findings,
           outer_of: dict[int, set[str]], context: set[str]
           ) -> tuple[list[ast.Literal], set[str]]:
    """The body in evaluation order and the variables bound after it; `context` holds the
    variables seen outside the body (the head's, or those an aggregate shares)."""
    ordered: list[ast.Literal] = []
    pending: list[ast.Literal] = []
    bound = set(bound)
    known: dict[int, set[str]] = {}  # variables under a node, computed once per node
    local = _negation_locals(body, context)
    _record_locals(body, local, found)

    def names(node) -> set[str]:
        names_under = known.get(id(node))
        if names_under is None:
            names_under = known[id(node)] = all_var_names(node)
        return names_under

    def needs(literal):
        if isinstance(literal, ast.Negation):  # its local variables need no value
            return names(literal.atom) - local[id(literal)], set()
        if (isinstance(literal, ast.Comparison) and isinstance(literal.right, ast.Aggregate)
                and isinstance(literal.left, ast.Var) and literal.left.name not in bound):
            return outer_of[id(literal.right)], {literal.left.name}
        return _needs(literal, bound, names)

    def flush():
        progress = True
        while progress:
            progress = False
            for literal in pending:
                required, binds = needs(literal)
                if required <= bound:
                    pending.remove(literal)
                    ordered.append(_plan_aggregate(literal, bound, found, outer_of))
                    bound.update(binds)
                    progress = True
                    break

    for literal in body:
        if isinstance(literal, ast.Atom):
            ordered.append(literal)
            bound.update(arg.name for arg in literal.args if isinstance(arg, ast.Var))
        else:
            pending.append(literal)
        flush()
    in_negations: set[str] = set()  # two negations linked by a variable: one error, not two
    for literal in pending:  # never ready: report each variable that never got a value
        required, binds = needs(literal)
        missing = required - bound
        where = _where(literal)
        if where == "negation":
            missing, in_negations = missing - in_negations, in_negations | missing
        for name in sorted(missing, key=lambda n: _position_key(_first_var(literal, {n}))):
            found.unsafe.append(Unsafe(_first_var(literal, {name}) or ast.Var(name),
                                       _where(literal, name)))
        bound.update(binds)
        ordered.append(literal)
    return ordered, bound


def _position_key(var: ast.Var | None) -> tuple[int, int]:
    return (var.pos.line, var.pos.column) if var else (0, 0)


def _where(literal: ast.Literal, name: str | None = None) -> str:
    """What kind of use left `name` (or, without one, the literal's variables) unbound."""
    if isinstance(literal, ast.AsOf):
        if name is None:
            return "negation" if literal.negated else "as-of"
        return "as-of" if name in all_var_names(literal.time) else "negation"
    if isinstance(literal, ast.Negation):
        return "negation"
    if isinstance(literal.right, ast.Aggregate):
        return "group"
    return "comparison"


def _plan_aggregate(literal, bound, found: Findings, outer_of):
    """Order an aggregate's own body, with the enclosing rule's bound variables given."""
    if not (isinstance(literal, ast.Comparison) and isinstance(literal.right, ast.Aggregate)):
        return literal
    agg = literal.right
    outer = outer_of[id(agg)]
    target = all_var_names(agg.target) if agg.target is not None else set()
    inner, inner_bound = _order(list(agg.body), outer & bound, found, outer_of, outer | target)
    if agg.target is not None:
        missing = target - inner_bound
        for name in sorted(missing):
            found.unsafe.append(Unsafe(_first_var(agg.target, {name}) or ast.Var(name),
                                       "aggregate"))
    planned = ast.Aggregate(agg.func, agg.target, tuple(inner), agg.pos)
    return ast.Comparison("=", literal.left, planned, literal.pos)


def _outer_variables(body: list[ast.Literal], head_vars: set[str],
                     outer_of: dict[int, set[str]]) -> None:
    """For each aggregate, the variables it shares with the rest of its rule (group keys)."""
    aggregates = [lit for lit in body
                  if isinstance(lit, ast.Comparison) and isinstance(lit.right, ast.Aggregate)]
    if not aggregates:
        return
    # A variable met only inside aggregates is local to each: `lo = min p : {…p…}` and
    # `hi = max p : {…p…}` do not share p.
    outside = set(head_vars)
    for literal in body:
        aggregated = isinstance(literal, ast.Comparison) and isinstance(literal.right,
                                                                       ast.Aggregate)
        outside |= all_var_names(literal.left if aggregated else literal)
    for literal in aggregates:
        agg = literal.right
        outer_of[id(agg)] = all_var_names(agg) & outside
        target = all_var_names(agg.target) if agg.target else set()
        _outer_variables(list(agg.body), outside | target, outer_of)


# ---- entry points -------------------------------------------------------------------

def plan_rule(rule: ast.Rule) -> tuple[ast.Rule, Findings]:
    """The rule normalised and in evaluation order, and what was found in it: every unsafe
    variable, and every variable local to a negation."""
    fresh = _Fresh(all_var_names(rule))
    body = _normalise(rule.body, fresh)
    head, head_assigns = _simple_args(rule.head, fresh, "head")
    body += _lift_all(head_assigns, fresh)
    outer_of: dict[int, set[str]] = {}
    _outer_variables(body, all_var_names(head), outer_of)
    found = Findings()
    ordered, bound = _order(body, set(), found, outer_of, all_var_names(head))
    reported = {problem.var.name for problem in found.unsafe}
    for name in sorted(all_var_names(head) - bound - reported,
                       key=lambda n: _position_key(_first_var(rule.head, {n}))):
        var = _first_var(rule.head, {name}) or _first_var(tuple(head_assigns), {name})
        found.unsafe.append(Unsafe(var or ast.Var(name, rule.head.pos), "head"))
    return ast.Rule(head, tuple(ordered), rule.pos), found


def plan_body(body: tuple[ast.Literal, ...]) -> tuple[tuple[ast.Literal, ...], Findings]:
    """A query or invariant body normalised and in evaluation order, and its findings (a
    variable local to a negation is no answer column: it has no value)."""
    fresh = _Fresh(all_var_names(body))
    normalised = _normalise(body, fresh)
    outer_of: dict[int, set[str]] = {}
    _outer_variables(normalised, set(), outer_of)
    found = Findings()
    ordered, _ = _order(normalised, set(), found, outer_of, set())
    return tuple(ordered), found
