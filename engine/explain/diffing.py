"""Engine.diff: a query's answers added and removed between two times, each with its cause."""

from __future__ import annotations

from dataclasses import dataclass

from engine.analysis import analyse_query
from engine.errors import QueryError
from engine.explain.checking import answer_text
from engine.explain.explaining import query_node
from engine.explain.proof import Node, indented
from engine.explain.prover import EventLookup, Prover, name_wildcards
from engine.explain.terms import ground_body
from engine.explain.timeline import first_change, first_time, relations_read
from engine.explain.why_not import WhyNot, failed_attempt, why_not
from engine.lang import ast, pretty
from engine.results import Row

SHOWN = 10  # answers explained per side; the rest are counted


@dataclass(frozen=True)
class Change:
    """One answer that appeared (with its proof then) or disappeared (with why not then)."""

    bindings: dict
    time: int | None  # when it appeared / disappeared
    proof: Node | None = None
    why_not: WhyNot | None = None

    def to_json(self) -> dict:
        return {"bindings": self.bindings, "time": self.time,
                "proof": None if self.proof is None else self.proof.to_json(),
                "why_not": None if self.why_not is None else self.why_not.to_json()}


@dataclass(frozen=True)
class Diff:
    query: str
    from_time: int
    to_time: int | None
    added: tuple[Change, ...]
    removed: tuple[Change, ...]
    added_count: int
    removed_count: int

    def to_json(self) -> dict:
        return {"query": self.query, "from": self.from_time, "to": self.to_time,
                "added_count": self.added_count, "removed_count": self.removed_count,
                "added": [c.to_json() for c in self.added],
                "removed": [c.to_json() for c in self.removed]}

    def render(self) -> str:
        to = "now" if self.to_time is None else f"t={self.to_time}"
        lines = [f"{self.query}: {self.added_count} added, {self.removed_count} removed "
                 f"from t={self.from_time} to {to}"]
        for change in self.added:
            lines.append(f"+ {answer_text(change.bindings)}  (from t={change.time})")
            if change.proof is not None:
                lines += indented(change.proof.render(), 4)
        lines += _more(self.added_count, self.added, "added")
        for change in self.removed:
            lines.append(f"- {answer_text(change.bindings)}  (gone at t={change.time})")
            if change.why_not is not None:
                lines += indented(change.why_not.render(), 4)
        lines += _more(self.removed_count, self.removed, "removed")
        return "\n".join(lines)


def _more(count: int, shown, what: str) -> list[str]:
    return [f"… and {count - len(shown)} more {what}"] if count > len(shown) else []


def diff(engine, query: str, *, from_time: int, to_time: int | None = None,
         events: EventLookup | None = None) -> Diff:
    """Answers of `query` as of `to_time` (default now) that were not answers as of
    `from_time`, and the other way round; each with the time it changed and its cause."""
    if to_time is not None and to_time < from_time:
        raise QueryError(f"--to ({to_time}) is before --from ({from_time})")
    analysed = analyse_query(engine.program, query)
    text = pretty.body(analysed.body)
    visible = [i for i, name in enumerate(analysed.columns) if not name.startswith("_")]
    before = _answers(engine, text, from_time, visible)
    after = _answers(engine, text, to_time, visible)
    columns = [analysed.columns[i] for i in visible]
    relations = relations_read(engine.program, analysed.body)
    added = [row for row in after if row not in before]
    removed = [row for row in before if row not in after]
    body = analysed.body

    def holds(row: Row, time: int) -> bool:
        bound = ground_body(body, dict(zip(columns, row)))
        return len(engine.query(pretty.body(bound), as_of=time, limit=1, timeout=None)) > 0

    changes_added = []
    for row in added[:SHOWN]:
        bindings = dict(zip(columns, row))
        time = first_time(engine, ground_body(body, bindings), lambda t, row=row: holds(row, t),
                          after=from_time, upto=to_time).time
        changes_added.append(Change(bindings, time, proof=_proof(engine, body, bindings,
                                                                 time, query, events)))
    changes_removed = []
    for row in removed[:SHOWN]:
        time = first_change(engine, relations, lambda t, row=row: not holds(row, t),
                            after=from_time, upto=to_time)
        bindings = dict(zip(columns, row))
        changes_removed.append(Change(bindings, time, why_not=_why_not(engine, body, bindings,
                                                                       time, query, events)))
    return Diff(query.strip(), from_time, to_time, tuple(changes_added),
                tuple(changes_removed), len(added), len(removed))


def _answers(engine, text: str, as_of, visible) -> list[Row]:
    rows = engine.query(text, as_of=as_of, timeout=None).rows
    return list(dict.fromkeys(tuple(row[i] for i in visible) for row in rows))


def _proof(engine, body, bindings, time, query, events) -> Node | None:
    prover = Prover(engine, time)
    named, _ = name_wildcards(body)
    full = prover.ask(ground_body(named, bindings), limit=1)
    if not full.rows:
        return None
    node = query_node(prover, named, {**bindings, **dict(zip(full.columns, full.rows[0]))},
                      query)
    return None if node is None else prover.finish([node], events)[0]


def _why_not(engine, body, bindings, time, query, events) -> WhyNot:
    """Why the answer stopped holding: for a one-atom query, why-not of its fact then; else
    the query's first literal that fails."""
    if len(body) == 1 and isinstance(body[0], ast.Atom):
        return why_not(engine, pretty.atom(ground_body(body, bindings)[0]), as_of=time,
                       events=events)
    as_rule = ast.Rule(ast.Atom("query", tuple(ast.Var(name) for name in bindings)), body)
    attempt = failed_attempt(Prover(engine, time), as_rule, list(bindings.values()), events)
    return WhyNot(query.strip(), time, False, (attempt,))
