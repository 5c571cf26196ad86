"""Engine.check: every `.never` invariant run, with each violation's first time and proof."""

from __future__ import annotations

from dataclasses import dataclass

from engine.explain.explaining import query_node
from engine.explain.proof import Node, indented, when
from engine.explain.prover import EventLookup, Prover, name_wildcards
from engine.explain.terms import ground_body, rule_source, value_text
from engine.explain.timeline import FirstTime, first_time
from engine.lang import ast, pretty
from engine.results import Row

SHOWN = 10  # violating answers listed per invariant; the rest are counted


@dataclass(frozen=True)
class InvariantResult:
    """One invariant's outcome. `answers` lists up to SHOWN violating bindings of `count`;
    `first_time` is when a violation first became true; `proof` proves one answer then."""

    name: str
    path: str
    line: int
    text: str
    count: int
    columns: tuple[str, ...] = ()
    answers: tuple[Row, ...] = ()
    first_time: int | None = None
    first_answer: Row | None = None
    proof: Node | None = None
    search: FirstTime | None = None  # how first_time was found (not part of the JSON)

    @property
    def holds(self) -> bool:
        return self.count == 0

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    def bindings(self, row: Row) -> dict:
        return dict(zip(self.columns, row))

    def to_json(self) -> dict:
        out = {"name": self.name, "path": self.path, "line": self.line, "rule": self.text,
               "holds": self.holds, "count": self.count}
        if not self.holds:
            out.update(columns=list(self.columns),
                       answers=[self.bindings(r) for r in self.answers],
                       more=self.count - len(self.answers), first_time=self.first_time,
                       first_answer=None if self.first_answer is None
                       else self.bindings(self.first_answer),
                       proof=None if self.proof is None else self.proof.to_json())
        return out

    def render(self) -> str:
        if self.holds:
            return f"ok    {self.name}  ({self.where})"
        first = "" if self.first_time is None else f", first at t={self.first_time}"
        lines = [f"FAIL  {self.name}  ({self.where}): {self.count} violation"
                 f"{'s' * (self.count != 1)}{first}", f"      {self.text}"]
        lines += [f"      - {answer_text(self.bindings(row))}" for row in self.answers]
        if self.count > len(self.answers):
            lines.append(f"      … and {self.count - len(self.answers)} more")
        if self.proof is not None:
            lines.append(f"      proof of the first violation ({when(self.first_time)}):")
            lines += indented(self.proof.render(), 8)
        return "\n".join(lines)


@dataclass(frozen=True)
class CheckReport:
    results: tuple[InvariantResult, ...]
    as_of: int | None = None
    since: int | None = None

    @property
    def ok(self) -> bool:
        return all(r.holds for r in self.results)

    @property
    def violated(self) -> list[InvariantResult]:
        return [r for r in self.results if not r.holds]

    def to_json(self) -> dict:
        return {"ok": self.ok, "as_of": self.as_of, "since": self.since,
                "invariants": len(self.results), "violated": len(self.violated),
                "results": [r.to_json() for r in self.results]}

    def render(self) -> str:
        bad = len(self.violated)
        total = len(self.results)
        summary = (f"{total} invariant{'s' * (total != 1)} checked {when(self.as_of)}"
                   + (f", answers since t={self.since}" if self.since is not None else "")
                   + f": {total - bad} hold, {bad} violated")
        return "\n".join([r.render() for r in self.results] + [summary])


def answer_text(bindings: dict) -> str:
    return ", ".join(f"{k} = {value_text(v)}" for k, v in bindings.items()) or "(true)"


def check(engine, *, as_of: int | None = None, since: int | None = None,
          depth: int | None = None, events: EventLookup | None = None) -> CheckReport:
    """Run every invariant of the engine's program as of `as_of` (default now); with
    `since`, only answers that were not yet true as of `since` count."""
    results = [check_invariant(engine, inv, as_of=as_of, since=since, depth=depth,
                               events=events) for inv in engine.program.invariants]
    return CheckReport(tuple(results), as_of, since)


def check_invariant(engine, invariant: ast.Invariant, *, as_of=None, since=None, depth=None,
                    events=None) -> InvariantResult:
    text = pretty.body(invariant.body)
    source = rule_source(invariant, engine.program.files)
    path, line = invariant.pos.path, invariant.pos.line
    now = engine.query(text, as_of=as_of, timeout=None)
    before = set(engine.query(text, as_of=since, timeout=None).rows) if since is not None \
        else set()
    visible = [i for i, name in enumerate(now.columns) if not name.startswith("_")]
    violating = [row for row in now.rows if row not in before]
    if not violating:
        return InvariantResult(invariant.name, path, line, source, 0)

    def violated_at(time: int, limit: int | None = None) -> list[Row]:
        rows = engine.query(text, as_of=time, limit=limit, timeout=None).rows
        return [r for r in rows if r not in before]

    # Without `since` one answer tells that the invariant is broken: ask for no more.
    found = first_time(engine, invariant.body,
                       lambda t: bool(violated_at(t, None if before else 1)),
                       columns=now.columns, before=before, after=since, upto=as_of)
    first = found.time
    first_rows = (violated_at(first) if first is not None else []) or violating
    proof_as_of = first if first is not None else as_of
    proof = _proof(engine, invariant, now.columns, first_rows[0], proof_as_of, depth, events)
    columns = tuple(now.columns[i] for i in visible)

    def shown(row: Row) -> Row:
        return tuple(row[i] for i in visible)

    answers = tuple(dict.fromkeys(shown(r) for r in violating))
    return InvariantResult(invariant.name, path, line, source, len(answers), columns,
                           answers[:SHOWN], first, shown(first_rows[0]), proof, found)


def _proof(engine, invariant, columns, row, as_of, depth, events) -> Node | None:
    prover = Prover(engine, as_of)
    named, _ = name_wildcards(invariant.body)
    bindings = dict(zip(columns, row))
    full = prover.ask(ground_body(named, bindings), limit=1)
    if not full.rows:
        return None
    bindings.update(zip(full.columns, full.rows[0]))
    node = query_node(prover, named, bindings, f".never {invariant.name}", rule=invariant)
    if node is None:
        return None
    return prover.finish([node], events, depth)[0]
