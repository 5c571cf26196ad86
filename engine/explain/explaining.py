"""Engine.explain: the answers of a fact or query, each with a lowest proof down to its events."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.analysis import analyse_query
from engine.errors import QueryError
from engine.explain.proof import Node, when
from engine.explain.prover import EventLookup, Prover, name_wildcards
from engine.explain.terms import atom_values, ground_literal, value_text
from engine.lang import ast


@dataclass(frozen=True)
class Explanation:
    """Proofs of a query's answers (`answers` counts them all; `proofs` has up to
    max_proofs). `subproofs` holds the subtrees cut at the depth limit, by id."""

    query: str
    as_of: int | None
    answers: int
    proofs: tuple[Node, ...]
    depth: int | None = None
    subproofs: dict[str, Node] = field(default_factory=dict, compare=False)

    def expand(self, ident: str) -> Node:
        """The subproof a cut node names."""
        try:
            return self.subproofs[ident]
        except KeyError:
            raise QueryError(f"no subproof {ident!r} in this explanation") from None

    def to_json(self) -> dict:
        return {"query": self.query, "as_of": self.as_of, "answers": self.answers,
                "depth": self.depth, "proofs": [p.to_json() for p in self.proofs]}

    def render(self) -> str:
        if not self.answers:
            return (f"{self.query} has no answers {when(self.as_of)}; "
                    "`why-not` tells what is missing")
        shown = len(self.proofs)
        head = (f"{self.answers} answer{'s' * (self.answers != 1)} {when(self.as_of)}"
                + (f", {shown} explained" if shown < self.answers else ""))
        return "\n\n".join([head] + [p.render() for p in self.proofs])


def parse_goal(engine, text: str) -> tuple[ast.Literal, ...]:
    """A fact or query's analysed body (positioned errors for mistakes)."""
    return analyse_query(engine.program, text).body


def explain(engine, fact_or_query: str, *, as_of: int | None = None, depth: int | None = None,
            max_proofs: int = 1, events: EventLookup | None = None,
            prover: Prover | None = None) -> Explanation:
    """Proofs of the answers of `fact_or_query` (a ground fact, an atom with variables or a
    whole query body), lowest first, as of `as_of`; cut below `depth` rule applications."""
    if depth is not None and depth < 1:
        raise QueryError(f"depth must be at least 1, not {depth}")
    if max_proofs < 1:
        raise QueryError(f"max_proofs must be at least 1, not {max_proofs}")
    body = parse_goal(engine, fact_or_query)
    prover = prover or Prover(engine, as_of)
    named, _ = name_wildcards(body)
    answers = prover.ask(named, limit=None)
    proofs: list[Node] = []
    single = len(body) == 1 and isinstance(body[0], ast.Atom)
    if single and len(answers) == 1 and max_proofs > 1:
        values = atom_values(ground_literal(named[0], dict(zip(answers.columns,
                                                                 answers.rows[0]))))
        proofs = prover.ways(body[0].relation, values, max_proofs)
    else:
        for row in answers.rows[:max_proofs]:
            bindings = dict(zip(answers.columns, row))
            if single:
                atom = ground_literal(named[0], bindings)
                node = prover.prove_fact(atom.relation, atom_values(atom))
            else:
                node = query_node(prover, named, bindings, fact_or_query)
            if node is None:
                raise QueryError(f"no proof found within {prover.max_height} rule applications")
            proofs.append(node)
    kept: dict[str, Node] = {}
    proofs = prover.finish(proofs, events, depth, kept)
    return Explanation(fact_or_query.strip(), as_of, len(answers), tuple(proofs), depth, kept)


def query_node(prover: Prover, body, bindings: dict, text: str, rule=None) -> Node | None:
    """The proof of one answer of a query body (or an invariant's, with `rule` its source)."""
    children = prover.prove_body(body, bindings)
    if children is None:
        return None
    shown = {k: v for k, v in bindings.items() if not k.startswith("_")}
    answer = ", ".join(f"{k} = {value_text(v)}" for k, v in shown.items())
    label = text.strip() + (f"  with {answer}" if answer else "")
    return Node("query", label, rule=None if rule is None else prover.rule_info(rule),
                children=tuple(children), extra={"bindings": shown})
