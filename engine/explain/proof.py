"""Proof trees: nodes, their JSON shape (docs/explain.md) and their indented terminal form."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

from engine.results import Value

# kind: derived (a rule produced it), event (an event fact: a leaf with seq and time),
# fact (a fact written in a rule file), input (an asserted non-event fact), absence (a
# negated atom that has no facts), comparison, aggregate (the facts it counted), cut (a
# subproof left out at the depth limit), query (the root of a query or invariant's proof).
KINDS = ("derived", "event", "fact", "input", "absence", "comparison", "aggregate", "cut",
         "query")


@dataclass(frozen=True)
class Node:
    kind: str
    text: str  # the ground fact, or the ground literal of a comparison or aggregate
    relation: str | None = None
    values: tuple[Value, ...] | None = None
    rule: dict | None = None  # {"path", "line", "text"} of the rule that derived it
    children: tuple[Node, ...] = ()
    seq: int | None = None
    time: int | None = None
    event_id: str | None = None
    as_of: int | None = None  # absence: the time it was looked for at (None: now); a
    # fact read by `p(…) @ t`: the time it was proved as of
    literal: str | None = None  # comparison, aggregate: the literal as written
    result: str | None = None  # comparison: its sides' values; aggregate: its value
    more: int = 0  # aggregate: facts it counted beyond the ones listed
    extra: dict = field(default_factory=dict, compare=False)  # e.g. an event's causation

    @property
    def height(self) -> int:
        """Rule applications on the longest path down to an event, fact or absence."""
        below = [c.height for c in self.children if c.kind in ("derived", "query", "cut")]
        if self.kind in ("derived", "query"):
            return 1 + max(below, default=0)
        return 1 if self.kind == "cut" else 0

    def leaves(self) -> list[Node]:
        """Event, input and written facts the proof rests on, aggregates' facts included."""
        if self.kind in ("event", "input", "fact"):
            return [self]
        return [leaf for child in self.children for leaf in child.leaves()]

    def subproof_id(self) -> str:
        return "sp-" + hashlib.sha1(self.text.encode()).hexdigest()[:10]

    def cut(self, depth: int | None, kept: dict[str, Node]) -> Node:
        """The tree with derived nodes below `depth` replaced by cut nodes; `kept` collects
        the subproofs left out, by id, so that they can be expanded."""
        if depth is None:
            return self
        if depth <= 0 and self.kind == "derived":
            ident = self.subproof_id()
            kept[ident] = self
            return Node("cut", self.text, self.relation, self.values, self.rule,
                        extra={"subproof": ident})
        step = 1 if self.kind in ("derived", "query") else 0
        return replace(self, children=tuple(c.cut(depth - step, kept) for c in self.children))

    # ---- output

    def to_json(self) -> dict:
        out: dict = {"kind": self.kind, "fact" if self.relation else "text": self.text}
        if self.relation is not None:
            out["relation"] = self.relation
            out["values"] = list(self.values or ())
        if self.rule is not None:
            out["rule"] = dict(self.rule)
        if self.kind == "event":
            out.update(seq=self.seq, event_id=self.event_id, time=self.time)
        if self.kind == "input" and self.seq is not None:
            out["seq"] = self.seq
        if self.kind == "absence" or self.as_of is not None:
            out["as_of"] = self.as_of
        if self.literal is not None:
            out["literal"] = self.literal
        if self.result is not None:
            out["result"] = self.result
        if self.kind == "aggregate":
            out["more"] = self.more
        if self.kind == "cut":
            out["subproof"] = self.extra["subproof"]
        if self.kind == "query":
            out["bindings"] = dict(self.extra.get("bindings", {}))
        if "causation" in self.extra:
            out["causation"] = self.extra["causation"]
        if self.children or self.kind in ("derived", "query", "aggregate"):
            out["children"] = [c.to_json() for c in self.children]
        return out

    def label(self) -> str:
        if self.as_of is not None and self.kind != "absence":  # read by `p(…) @ t`
            return f"{replace(self, as_of=None).label()}  {when(self.as_of)}"
        if self.kind in ("derived", "query"):
            where = f"  ({self.rule['path']}:{self.rule['line']})" if self.rule else ""
            return self.text + where
        if self.kind == "event":
            event = f", event {self.event_id}" if self.event_id else ""
            return f"{self.text}  [seq {self.seq}, t={self.time}{event}]"
        if self.kind == "fact":
            return f"{self.text}  (fact, {self.rule['path']}:{self.rule['line']})"
        if self.kind == "input":
            return f"{self.text}  [input{'' if self.seq is None else f', seq {self.seq}'}]"
        if self.kind == "absence":
            return f"no {self.text} {when(self.as_of)}"
        if self.kind == "comparison":
            return self.text + (f"  ({self.result})" if self.result else "")
        if self.kind == "aggregate":
            counted = len(self.children) + self.more
            more = f", {self.more} more not listed" if self.more else ""
            return (f"{self.text}  ({self.result} over {counted} "
                    f"fact{'s' * (counted != 1)}{more})")
        return f"{self.text}  … subproof {self.extra['subproof']} (explain it to expand)"

    def render(self, indent: str = "") -> str:
        return "\n".join(self._lines("", ""))

    def _lines(self, first: str, rest: str) -> list[str]:
        lines = [first + self.label()]
        for cause in self.extra.get("causation", []):
            lines.append(f"{rest}    caused by {cause['type']} [seq {cause['seq']}, "
                         f"t={cause['time']}, event {cause['event_id']}]")
        for i, child in enumerate(self.children):
            last = i == len(self.children) - 1
            lines += child._lines(rest + ("└─ " if last else "├─ "),
                                  rest + ("   " if last else "│  "))
        return lines


def map_events(nodes, change) -> list[Node]:
    """The trees with every event leaf replaced by `change(leaf)`."""

    def walk(node: Node) -> Node:
        if node.kind == "event":
            return change(node)
        if not node.children:
            return node
        return replace(node, children=tuple(walk(c) for c in node.children))

    return [walk(node) for node in nodes]


def indented(text: str, by: int) -> list[str]:
    """The lines of `text` indented by `by` spaces (blank lines left blank)."""
    return [" " * by + line if line else "" for line in text.splitlines()]


def when(as_of: int | None) -> str:
    return "now" if as_of is None else f"as of t={as_of}"
