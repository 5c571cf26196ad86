"""Evaluation inside a pyDatalog worker thread: materialise strata, then answer queries."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pyDatalog import pyEngine
from pyDatalog.Logic import Logic

from engine.analysis.program import Relation
from engine.backends.pydatalog.compile import (
    ClauseSpec,
    CompiledProgram,
    CompiledQuery,
    Lit,
    coerce,
    pred,
)
from engine.backends.pydatalog.functions import check_cancelled, install_cancellation_points

# pyDatalog keeps its state per thread (`Logic`), so everything here runs in the thread
# that calls it. pyDatalog does every join, negation and aggregate body; the recursion is
# driven here, semi-naively, because pyDatalog's own tabling loops forever on some
# mutually recursive programs (three relations in a cycle, for one). Each round asserts
# the stratum's rules with one same-stratum atom reading only the previous round's new
# facts (a "delta" predicate) and the others reading everything so far, so that every
# clause pyDatalog sees is non-recursive. Finished relations are stored as plain facts:
# later strata, negations, aggregates and queries read only those.

# pyDatalog rounds floats to 8 significant digits by default; answers must be exact.
pyEngine.Float_Precision = None
install_cancellation_points()

Row = tuple


@dataclass(frozen=True)
class Snapshot:
    """Relations evaluated over one set of facts (those a query has needed so far): as
    Python sets and as a pyDatalog state that a query thread copies."""

    answers: Mapping[str, frozenset[Row]]
    logic: Logic


# ---- pyDatalog objects from specs -----------------------------------------------------

def _term(arg):
    kind, value = arg
    return pyEngine.Var(value) if kind == "v" else pyEngine.Const(value)


def _literal(lit: Lit):
    return pyEngine.Literal(lit.pred, [_term(a) for a in lit.args])


def _clause(spec: ClauseSpec):
    return pyEngine.Clause(_literal(spec.head), [_literal(b) for b in spec.body])


def _predicate(name: str, arity: int, *, known: bool = False):
    predicate = pyEngine.Pred(name, arity)
    predicate.prearity = arity  # Literal() sets it; facts built here need it too
    if known:
        # a predicate without facts or rules must still be known, or asking it raises
        pyEngine.insert(predicate)
    return predicate


def _assert_rows(name: str, arity: int, rows: Iterable[Row]) -> None:
    predicate = _predicate(name, arity, known=True)
    for i, row in enumerate(rows):
        head = pyEngine.Literal(predicate, [pyEngine.Const(v) for v in row])
        pyEngine.assert_(pyEngine.Clause(head, []))
        if i % 1024 == 1023:
            check_cancelled()


def _ask_all(name: str, arity: int) -> list[Row]:
    """Every tuple of a predicate: ask it with a distinct variable in each column."""
    answers = pyEngine.Literal(name, [pyEngine.Var(f"#q{i}") for i in range(arity)]).ask()
    return [()] if answers is True else list(answers)


def _assert_all(specs: Iterable[ClauseSpec]) -> None:
    for spec in specs:
        pyEngine.assert_(_clause(spec))


# ---- strata ---------------------------------------------------------------------------

class _Stratum:
    """Semi-naive evaluation of one stratum's rules over facts already asserted."""

    def __init__(self, names: tuple[str, ...], rules: list[ClauseSpec],
                 relations: Mapping[str, Relation], answers: dict[str, set[Row]]):
        self.relations = {n: relations[n] for n in names}
        self.answers = answers
        own = {pred(n) for n in names}
        self.base = []  # rules that read no relation of this stratum: one round is enough
        self.recursive = []  # (rule, positions of its same-stratum atoms)
        for rule in rules:
            positions = [i for i, lit in enumerate(rule.body) if lit.pred in own]
            (self.recursive if positions else self.base).append((rule, positions))

    def run(self) -> None:
        self.round(0, [rule for rule, _ in self.base])
        delta = {name: set(self.answers.get(name, ())) for name in self.relations}
        number = 0
        while any(delta.values()):
            check_cancelled()
            number += 1
            self.remember_delta(number - 1, delta)
            variants = []
            for rule, positions in self.recursive:
                for i in positions:
                    body = list(rule.body)
                    body[i] = Lit(body[i].pred + f"#d{number - 1}", body[i].args)
                    variants.append(ClauseSpec(rule.head, tuple(body)))
            delta = self.round(number, variants)
            self.forget(f"#d{number - 1}")

    def round(self, number: int, rules: list[ClauseSpec]) -> dict[str, set[Row]]:
        """Apply `rules` once; store and return the tuples that are new."""
        suffix = f"#n{number}"
        heads = set()
        for rule in rules:
            heads.add(rule.head.pred)
            head = Lit(rule.head.pred + suffix, rule.head.args)
            pyEngine.assert_(_clause(ClauseSpec(head, rule.body)))
        new: dict[str, set[Row]] = {}
        for name, relation in self.relations.items():
            if pred(name) not in heads:
                new[name] = set()
                continue
            rows = {tuple(coerce(v, t) for v, t in zip(row, relation.types))
                    for row in _ask_all(pred(name) + suffix, relation.arity)}
            new[name] = rows - self.answers.setdefault(name, set())
            check_cancelled()
        self.forget(suffix)
        for name, rows in new.items():
            _assert_rows(pred(name), self.relations[name].arity, rows)
            self.answers[name] |= rows
        return new

    def remember_delta(self, number: int, delta: dict[str, set[Row]]) -> None:
        for name, rows in delta.items():
            _assert_rows(pred(name) + f"#d{number}", self.relations[name].arity, rows)

    def forget(self, suffix: str) -> None:
        """Drop a round's temporary predicates, with their facts and clauses."""
        for name, relation in self.relations.items():
            pyEngine.remove(_predicate(pred(name) + suffix, relation.arity))


def materialise(compiled: CompiledProgram, relations: Mapping[str, Relation],
                inputs: Mapping[str, Iterable[Row]], wanted: set[str],
                base: Snapshot | None = None) -> Snapshot:
    """A snapshot holding the `wanted` relations (closed under dependency) on top of a copy
    of `base`. `inputs` gives the rows asserted into each wanted relation that `base`
    lacks; a derived relation adds the program's facts to its own.

    `base` is shared with the queries reading it, so nothing of it may change: its copy
    shares its predicates, and only predicates it has never seen are written to. Hence an
    aggregate's helper clause is asserted with its rule, not before: asserting it would
    register the relations it reads, still empty, in the shared state."""
    if base is None:
        Logic()  # a fresh, empty pyDatalog state for this thread
        answers: dict[str, set[Row] | frozenset[Row]] = {}
    else:
        Logic(base.logic)
        answers = dict(base.answers)
    new = [name for name in wanted if name not in answers]
    for name in new:
        answers[name] = set(inputs.get(name, ())) | compiled.facts.get(name, set())
        _assert_rows(pred(name), relations[name].arity, answers[name])
        check_cancelled()
    for names, rules in compiled.strata:
        todo = tuple(name for name in names if name in new)
        if todo:
            heads = {pred(name) for name in todo}
            _assert_all(h for name in todo for h in compiled.helpers_of.get(name, ()))
            own = [rule for rule in rules if rule.head.pred in heads]
            _Stratum(todo, own, relations, answers).run()
    frozen = {name: frozenset(rows) for name, rows in answers.items()}
    return Snapshot(frozen, Logic(True))


def answer(snapshot: Snapshot, query: CompiledQuery) -> list[Row]:
    """The query's answers over a snapshot, on a private copy of its pyDatalog state."""
    Logic(snapshot.logic)
    _assert_all(query.helpers)
    pyEngine.assert_(_clause(query.clause))
    head = query.clause.head
    return _ask_all(head.pred, len(head.args))
