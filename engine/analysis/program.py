"""The analysed program: the typed hand-off from analysis to the compilers."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from engine.analysis.stratify import components, dependency_edges
from engine.errors import Diagnostic
from engine.lang import ast

TYPES = ("symbol", "number", "float", "time", "money")
INTEGER_TYPES = ("number", "time", "money")  # money: integer cents


@dataclass(frozen=True)
class Relation:
    """A relation's signature, declared or inferred."""

    name: str
    fields: tuple[str, ...]
    types: tuple[str | None, ...]  # None where neither declared nor inferable
    is_event: bool = False
    declared_at: ast.Pos | None = None

    @property
    def arity(self) -> int:
        return len(self.fields)

    @property
    def time_column(self) -> int | None:
        """Index of an event relation's valid-time column."""
        if not self.is_event:
            return None
        return self.types.index("time")


@dataclass(frozen=True)
class Program:
    """A checked program. `rules` holds facts too; rule bodies are in evaluation order:
    each comparison, negation and assignment stands after the atoms that bind its variables.
    `strata` lists the derived relations in evaluation order, one tuple per stratum."""

    relations: dict[str, Relation]
    rules: tuple[ast.Rule, ...]
    invariants: tuple[ast.Invariant, ...]
    strata: tuple[tuple[str, ...], ...]
    files: tuple[ast.RuleFile, ...] = ()
    warnings: tuple[Diagnostic, ...] = ()  # what lint shows; loading never fails on them

    def rules_for(self, relation: str) -> list[ast.Rule]:
        return [rule for rule in self.rules if rule.head.relation == relation]

    @cached_property
    def recursive(self) -> frozenset[str]:
        """Derived relations that depend on themselves (in a cycle of rules)."""
        rules = [rule for rule in self.rules if not rule.is_fact]
        edges = dependency_edges(rules)
        heads = list(dict.fromkeys(rule.head.relation for rule in rules))
        found = {e.head for e in edges if e.head == e.body}
        for scc in components(heads, [e for e in edges if e.body in set(heads)]):
            if len(scc) > 1:
                found.update(scc)
        return frozenset(found)

    @property
    def event_relations(self) -> list[Relation]:
        return [r for r in self.relations.values() if r.is_event]

    @property
    def derived_relations(self) -> list[str]:
        return [name for stratum in self.strata for name in stratum]

    def summary(self) -> str:
        rules = sum(1 for r in self.rules if not r.is_fact)
        facts = len(self.rules) - rules
        return (f"{len(self.relations)} relations ({len(self.event_relations)} event), "
                f"{rules} rules, {facts} facts, {len(self.invariants)} invariants, "
                f"{len(self.strata)} strata")
