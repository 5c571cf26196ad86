"""Stratification: order derived relations so negation and aggregation never go through a cycle."""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass

from engine.lang import ast


@dataclass(frozen=True)
class Edge:
    """`head` depends on `body` through a positive atom, a negation or an aggregate."""

    head: str
    body: str
    kind: str  # positive | negation | aggregate | as-of (strict, as negation is)
    pos: ast.Pos


def dependency_edges(rules: list[ast.Rule]) -> list[Edge]:
    edges = []
    for rule in rules:
        for literal in rule.body:
            if isinstance(literal, ast.Atom):
                edges.append(Edge(rule.head.relation, literal.relation, "positive", literal.pos))
            elif isinstance(literal, ast.Negation):
                atom = literal.atom
                edges.append(Edge(rule.head.relation, atom.relation, "negation", atom.pos))
            elif isinstance(literal, ast.AsOf):  # p @ t reads p complete, at another time
                atom = literal.atom
                edges.append(Edge(rule.head.relation, atom.relation, "as-of", atom.pos))
            else:
                for agg in ast.aggregates_in(literal.left) + ast.aggregates_in(literal.right):
                    for atom, _ in ast.body_atoms(agg.body):
                        edges.append(Edge(rule.head.relation, atom.relation, "aggregate", atom.pos))
    return edges


def components(nodes: list[str], edges: list[Edge]) -> list[list[str]]:
    """Strongly connected components, dependencies before dependents (iterative Tarjan)."""
    graph: dict[str, list[str]] = defaultdict(list)
    for edge in edges:
        graph[edge.head].append(edge.body)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    result: list[list[str]] = []
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                result.append(sorted(component))
    return result


def cycle_through(edge: Edge, edges: list[Edge], members: set[str]) -> list[Edge]:
    """A shortest cycle that starts with `edge` and comes back to its head within `members`."""
    by_head: dict[str, list[Edge]] = defaultdict(list)
    for e in edges:
        if e.head in members and e.body in members:
            by_head[e.head].append(e)
    came_by: dict[str, Edge | None] = {edge.body: None}
    queue = deque([edge.body])
    while queue:
        node = queue.popleft()
        if node == edge.head:
            break
        for e in by_head[node]:
            if e.body not in came_by:
                came_by[e.body] = e
                queue.append(e.body)
    path = []
    node = edge.head
    while came_by.get(node) is not None:
        step = came_by[node]
        path.append(step)
        node = step.head
    return [edge] + path[::-1]


def stratify(derived: list[str], edges: list[Edge]) -> tuple[list[list[str]], list[list[Edge]]]:
    """(strata in evaluation order, cycles that go through a negation or an aggregate).

    Within a stratum, relations stand after those they depend on (recursion aside)."""
    derived_set = set(derived)
    inner = [e for e in edges if e.head in derived_set and e.body in derived_set]
    sccs = components(derived, inner)
    scc_of = {name: i for i, scc in enumerate(sccs) for name in scc}
    edges_from: dict[int, list[Edge]] = defaultdict(list)
    for edge in inner:
        edges_from[scc_of[edge.head]].append(edge)
    bad_cycles = []
    level = [0] * len(sccs)
    for i, scc in enumerate(sccs):  # components come dependencies first
        members = set(scc)
        for edge in edges_from[i]:
            if edge.body not in members:
                step = 0 if edge.kind == "positive" else 1
                level[i] = max(level[i], level[scc_of[edge.body]] + step)
        inside = [e for e in edges_from[i] if e.body in members and e.kind != "positive"]
        if inside:
            bad_cycles.append(cycle_through(inside[0], edges_from[i], members))
    strata: list[list[str]] = [[] for _ in range(max(level, default=-1) + 1)]
    for i, scc in enumerate(sccs):
        strata[level[i]].extend(scc)
    return [s for s in strata if s], bad_cycles
