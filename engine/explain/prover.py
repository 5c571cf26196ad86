"""Minimal-height proofs found through Engine.query alone, so they hold on every backend.

To prove a fact, each rule whose head matches it has its body queried with the head's
values bound; every answer is a way the rule fires, and its positive atoms are proved in
turn. Iterative deepening over the proof's height makes the first proof found a lowest
one and keeps recursive rules finite; (fact, height) outcomes are memoised.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from itertools import count

from engine.explain.proof import Node, map_events
from engine.explain.terms import (
    atom_values,
    body_text,
    const,
    fact_text,
    ground_body,
    ground_literal,
    rule_source,
    unify_head,
    value_text,
)
from engine.lang import ast, pretty
from engine.results import Result, Row, Value

MAX_HEIGHT = 64  # the deepest proof looked for
ROW_LIMIT = 200  # answers of one rule body tried as ways the rule fires
AGGREGATE_CAP = 10  # facts an aggregate node lists; the rest are counted
PREFETCH_LIMIT = 64  # an aggregate over at most this many facts has them proved at once

Key = tuple[str, Row]
EventLookup = Callable[[int], object]  # seq -> the stored event (with .event_id), or None


class Prover:
    """Proofs over one engine as of one time; answers and proofs are cached for its life."""

    def __init__(self, engine, as_of: int | None = None, *, timeout: float | None = 10.0,
                 aggregate_cap: int = AGGREGATE_CAP, max_height: int = MAX_HEIGHT):
        self.engine, self.program = engine, engine.program
        self.as_of, self.timeout = as_of, timeout
        self.aggregate_cap, self.max_height = aggregate_cap, max_height
        self._answers: dict[str, Result] = {}
        self._best: dict[Key, Node] = {}
        self._failed: dict[Key, int] = {}
        self._seqs: dict[Key, int | None] = {}
        self._past: dict[int, Prover] = {}  # provers as of the times `p @ t` reads
        # id(rule) -> [(head pattern, {head values: [bindings of each way it fires]})]
        self._prefetched: dict[int, list[tuple[Row, dict[Row, list[dict]]]]] = {}
        self.rules: dict[str, list[ast.Rule]] = {}
        self.written: dict[str, dict[Row, ast.Rule]] = {}
        for rule in self.program.rules:
            head = rule.head.relation
            values = atom_values(rule.head) if rule.is_fact else None
            if values is not None:
                self.written.setdefault(head, {})[values] = rule
            else:
                self.rules.setdefault(head, []).append(_named(rule))

    # ---- answers

    def ask(self, body: Sequence[ast.Literal], limit: int | None = ROW_LIMIT) -> Result:
        text = body_text(body)
        key = f"{limit}|{text}"
        if key not in self._answers:
            self._answers[key] = self.engine.query(text, as_of=self.as_of, limit=limit,
                                                   timeout=self.timeout)
        return self._answers[key]

    def holds(self, body: Sequence[ast.Literal]) -> bool:
        return len(self.ask(body, limit=1)) > 0

    # ---- facts

    def prove_fact(self, relation: str, values: Row) -> Node | None:
        """A lowest proof of the fact; None when it does not hold (as of this time)."""
        for budget in range(self.max_height + 1):
            node = self.prove(relation, values, budget)
            if node is not None:
                return node
            if budget == 0 and relation not in self.rules:
                return None  # not an event, written or input fact, and nothing derives it
        return None

    def prove(self, relation: str, values: Row, budget: int) -> Node | None:
        """A proof of height <= budget, or None."""
        key = (relation, values)
        found = self._best.get(key)
        if found is not None and found.height <= budget:
            return found
        if self._failed.get(key, -1) >= budget:
            return None
        node = self._leaf(relation, values)
        if node is None and budget > 0:
            for rule in self.rules.get(relation, ()):
                node = self._by_rule(rule, values, budget)
                if node is not None:
                    break
        if node is None:
            self._failed[key] = budget
        else:
            self._best[key] = node
        return node

    def ways(self, relation: str, values: Row, most: int) -> list[Node]:
        """Up to `most` proofs of the fact by different rules or answers, lowest first."""
        found = []
        leaf = self._leaf(relation, values)
        if leaf is not None:
            found.append(leaf)
        for rule in self.rules.get(relation, ()):
            bindings = unify_head(rule.head, values)
            if bindings is None:
                continue
            for full in self._rule_ways(rule, values, bindings):
                children = self.body_nodes(rule.body, full, None)
                if children is not None:
                    found.append(self._derived(rule, relation, values, children))
        return sorted(found, key=lambda node: node.height)[:most]

    def _leaf(self, relation: str, values: Row) -> Node | None:
        signature = self.program.relations[relation]
        text = fact_text(relation, values)
        if signature.is_event:  # reached only through answers, so it is a fact; its seq
            time = values[signature.time_column]  # is filled in by with_seqs, in bulk
            if self.as_of is not None and time > self.as_of:
                return None
            return Node("event", text, relation, values, time=time)
        rule = self.written.get(relation, {}).get(values)
        if rule is not None:
            return Node("fact", text, relation, values, rule=self.rule_info(rule))
        if relation not in self.rules and self.holds((_atom(relation, values),)):
            return Node("input", text, relation, values)
        return None

    def finish(self, nodes: Sequence[Node], events: EventLookup | None = None,
               depth: int | None = None, kept: dict | None = None) -> list[Node]:
        """Proofs as handed out: event leaves with their seqs (and event ids when `events`
        looks them up), cut below `depth` (the cut subtrees go to `kept`)."""
        done = attach_event_ids(self.with_seqs(nodes), events)
        return [node.cut(depth, {} if kept is None else kept) for node in done]

    def with_seqs(self, nodes: Sequence[Node]) -> list[Node]:
        """The trees with every event leaf's seq filled in: one lookup per relation."""
        wanted: dict[str, set[Row]] = {}

        def collect(node: Node) -> None:
            if node.kind == "event" and node.seq is None:
                wanted.setdefault(node.relation, set()).add(node.values)
            for child in node.children:
                collect(child)

        for node in nodes:
            collect(node)
        for relation, rows in wanted.items():
            missing = [row for row in rows if (relation, row) not in self._seqs]
            found = self.engine.event_seqs(relation, missing) if missing else {}
            for row in missing:
                self._seqs[(relation, row)] = found.get(row)

        def fill(node: Node) -> Node:
            if node.seq is not None:
                return node
            return replace(node, seq=self._seqs.get((node.relation, node.values)))

        return map_events(nodes, fill)

    def _by_rule(self, rule: ast.Rule, values: Row, budget: int) -> Node | None:
        bindings = unify_head(rule.head, values)
        if bindings is None:
            return None
        for full in self._rule_ways(rule, values, bindings):
            children = self.body_nodes(rule.body, full, budget - 1)
            if children is not None:
                return self._derived(rule, rule.head.relation, values, children)
        return None

    def _rule_ways(self, rule: ast.Rule, values: Row, bindings: dict) -> list[dict]:
        """The bindings of each way `rule` derives the fact (its head bound to `values`)."""
        for pattern, ways in self._prefetched.get(id(rule), ()):
            if all(p is None or p == v for p, v in zip(pattern, values)):
                return ways.get(values, [])
        answers = self.ask(ground_body(rule.body, bindings))
        return [{**bindings, **dict(zip(answers.columns, row))} for row in answers.rows]

    def prefetch(self, relation: str, pattern: Sequence[Value | None]) -> None:
        """Ask each rule of `relation` once for all the facts matching `pattern` (None: any
        value), so that proving many of them (an aggregate's) costs a query per rule, not
        one per fact and rule."""
        for rule in self.rules.get(relation, ()):
            bindings = unify_head(rule.head, pattern)
            ways: dict[Row, list[dict]] = {}
            if bindings is not None:
                answers = self.ask(ground_body(rule.body, bindings), limit=PREFETCH_LIMIT)
                if len(answers) >= PREFETCH_LIMIT:
                    continue  # perhaps incomplete: such facts are asked about one by one
                for row in answers.rows:
                    full = {**bindings, **dict(zip(answers.columns, row))}
                    ways.setdefault(atom_values(ground_literal(rule.head, full)), []).append(full)
            self._prefetched.setdefault(id(rule), []).append((tuple(pattern), ways))

    def _derived(self, rule, relation, values, children) -> Node:
        return Node("derived", fact_text(relation, values), relation, values,
                    rule=self.rule_info(rule), children=tuple(children))

    def rule_info(self, rule: ast.Rule | ast.Invariant) -> dict:
        return {"path": rule.pos.path, "line": rule.pos.line,
                "text": rule_source(rule, self.program.files)}

    # ---- bodies

    def prove_body(self, body: Sequence[ast.Literal], bindings: dict[str, Value]
                   ) -> tuple[Node, ...] | None:
        """Lowest proofs of every literal of a body under an answer's bindings."""
        for budget in range(self.max_height + 1):
            children = self.body_nodes(body, bindings, budget)
            if children is not None:
                return children
        return None

    def body_nodes(self, body: Sequence[ast.Literal], bindings: dict[str, Value],
                   budget: int | None) -> list[Node] | None:
        """One node per literal (None: some atom has no proof within `budget` rule
        applications; a budget of None asks each atom for its own lowest proof)."""
        nodes = []
        for literal in body:
            ground = ground_literal(literal, bindings)
            if isinstance(ground, ast.Atom):
                values = atom_values(ground)
                node = (self.prove_fact(ground.relation, values) if budget is None
                        else self.prove(ground.relation, values, budget))
                if node is None:
                    return None
            elif isinstance(ground, ast.AsOf):
                node = self._as_of_node(ground, budget)
                if node is None:
                    return None
            elif isinstance(ground, ast.Negation):
                node = Node("absence", _pattern(ground.atom), ground.atom.relation,
                            as_of=self.as_of)
            elif _aggregate(ground) is not None:
                node = self._aggregate_node(literal, ground, bindings)
            else:
                node = self._comparison_node(literal, ground)
            nodes.append(node)
        return nodes

    def _as_of_node(self, ground: ast.AsOf, budget: int | None) -> Node | None:
        """`p(…) @ t`: the fact proved (or, negated, its absence) as of min(t, this time),
        by a prover for that time; the node carries the time."""
        time = ground.time.value
        at = time if self.as_of is None else min(time, self.as_of)
        if ground.negated:
            return Node("absence", _pattern(ground.atom), ground.atom.relation, as_of=at)
        if at not in self._past:
            self._past[at] = Prover(self.engine, at, timeout=self.timeout,
                                    aggregate_cap=self.aggregate_cap,
                                    max_height=self.max_height)
        prover, values = self._past[at], atom_values(ground.atom)
        node = (prover.prove_fact(ground.atom.relation, values) if budget is None
                else prover.prove(ground.atom.relation, values, budget))
        return None if node is None else replace(node, as_of=at)

    def _comparison_node(self, literal: ast.Comparison, ground: ast.Comparison) -> Node:
        result = None
        sides = [ground.left, ground.right]
        if any(not isinstance(side, ast.Const) for side in sides):
            names = ["__tl_left", "__tl_right"]
            body = tuple(ast.Comparison("=", ast.Var(n), side) for n, side in zip(names, sides))
            answer = self.ask(body, limit=1)
            if answer.rows:
                left, right = answer.rows[0]
                result = f"{value_text(left)} {ground.op} {value_text(right)}"
        return Node("comparison", _literal_text(ground), literal=_literal_text(literal),
                    result=result)

    def _aggregate_node(self, literal: ast.Comparison, ground: ast.Comparison,
                        bindings: dict[str, Value]) -> Node:
        aggregate = _aggregate(ground)
        named, atoms = name_wildcards(aggregate.body)
        summary = self.ask((ast.Comparison("=", ast.Var("__tl_value"), aggregate),
                            ast.Comparison("=", ast.Var("__tl_count"),
                                           ast.Aggregate("count", None, named))), limit=1)
        value = summary.rows[0][0] if summary.rows else None
        answers = self.ask(named, limit=self.aggregate_cap)
        rows = list(answers.rows)
        if aggregate.func in ("min", "max") and value is not None:  # the facts giving it first
            best = ast.Comparison("=", aggregate.target, const(value))
            giving = self.ask((*named, best), limit=self.aggregate_cap)
            if giving.columns == answers.columns:
                rows = list(dict.fromkeys([*giving.rows, *rows]))[:self.aggregate_cap]
        counted = summary.rows[0][1] if summary.rows else 0
        for atom in atoms:  # (over more facts, a query per listed fact is the cheaper)
            if atom.relation in self.rules and 1 < counted <= PREFETCH_LIMIT:
                self.prefetch(atom.relation, [a.value if isinstance(a, ast.Const) else None
                                              for a in atom.args])
        facts = []
        for row in rows:
            local = dict(zip(answers.columns, row))
            for atom in atoms:
                grounded = ground_literal(atom, local)
                values = atom_values(grounded)
                proof = self.prove_fact(grounded.relation, values)
                facts.append(proof or Node("input", fact_text(grounded.relation, values),
                                           grounded.relation, values))
        result = "no value" if value is None else f"= {value_text(value)}"
        return Node("aggregate", _literal_text(ground), literal=_literal_text(literal),
                    result=result, children=tuple(facts), more=max(counted - len(rows), 0))


# ---- helpers ------------------------------------------------------------------------------

def _atom(relation: str, values: Row) -> ast.Atom:
    return ast.Atom(relation, tuple(const(v) for v in values))


def _pattern(atom: ast.Atom) -> str:
    return pretty.atom(atom)


def _literal_text(literal: ast.Literal) -> str:
    return pretty.literal(literal)


def _aggregate(literal: ast.Literal) -> ast.Aggregate | None:
    if isinstance(literal, ast.Comparison):
        for side in (literal.right, literal.left):
            found = ast.aggregates_in(side)
            if found:
                return found[0]
    return None


def _named(rule: ast.Rule) -> ast.Rule:
    """The rule with its positive atoms' wildcards named, so that answers carry their values."""
    return ast.Rule(rule.head, name_wildcards(rule.body)[0], rule.pos)


def name_wildcards(body: Sequence[ast.Literal]) -> tuple[tuple[ast.Literal, ...], list[ast.Atom]]:
    """The body with each positive atom's `_` a fresh variable, and those atoms."""
    numbers = count(1)
    named, atoms = [], []
    for literal in body:
        if isinstance(literal, ast.Atom):
            literal = ast.Atom(literal.relation, tuple(
                ast.Var(f"__w{next(numbers)}", arg.pos) if isinstance(arg, ast.Wildcard) else arg
                for arg in literal.args), literal.pos)
            atoms.append(literal)
        elif isinstance(literal, ast.AsOf) and not literal.negated:
            atom = literal.atom
            atom = ast.Atom(atom.relation, tuple(
                ast.Var(f"__w{next(numbers)}", arg.pos) if isinstance(arg, ast.Wildcard) else arg
                for arg in atom.args), atom.pos)
            literal = ast.AsOf(atom, literal.time, False, literal.pos)
        named.append(literal)
    return tuple(named), atoms


def attach_event_ids(nodes: Sequence[Node], lookup: EventLookup | None) -> list[Node]:
    """The trees with each event leaf's event_id filled in from `lookup(seq)` (the store)."""
    if lookup is None:
        return list(nodes)

    def fill(node: Node) -> Node:
        if node.seq is None or node.event_id is not None:
            return node
        return replace(node, event_id=getattr(lookup(node.seq), "event_id", None))

    return map_events(nodes, fill)
