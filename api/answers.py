"""Answers kept per (query, as-of, limit) until newly applied events can change them."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from engine import Program, analyse_query
from engine.lang import ast

CACHE_SIZE = 4096  # answers kept, the least recently asked dropped first
ROW_BUDGET = 1_000_000  # rows kept in all; an answer of over an eighth of it is not kept

Key = tuple[str, int | None, int | None]  # (query text, as_of, limit)


@dataclass(frozen=True)
class Kept:
    answer: object  # api.query.Answer
    reads: frozenset[str]  # every relation the answer depends on, through the rules


class AnswerCache:
    """What a query answered, until an applied batch of events could change it.

    An answer as of T reads only event facts with time <= T, and each relation only the
    relations its rules reach: so a batch invalidates an answer only when it holds facts of
    a relation the answer reads, now (as_of None) or at a valid time <= T. Appends at the
    head of the log leave every answer about the past standing, and an order's events leave
    standing every answer about prices. A new rule set starts a new cache."""

    def __init__(self, program: Program, size: int = CACHE_SIZE, rows: int = ROW_BUDGET):
        self.program = program
        self.size, self.row_budget = size, rows
        self.rows = 0  # rows of the answers kept
        self._lock = threading.Lock()
        self._kept: OrderedDict[Key, Kept] = OrderedDict()
        self._reads: dict[str, frozenset[str]] = {}  # query text -> relations it reads
        self._uses = _uses(program)
        self.hits = self.misses = 0

    def get(self, key: Key):
        with self._lock:
            kept = self._kept.get(key)
            if kept is None:
                self.misses += 1
                return None
            self._kept.move_to_end(key)
            self.hits += 1
            return kept.answer

    def put(self, key: Key, answer, stale: Callable[[], bool] | None = None) -> None:
        """Keep `answer`, unless `stale()` says, under the lock that `invalidate` takes, that
        a batch was written since the answer was computed (checked before the lock, a whole
        batch and its invalidation could come between the check and the keeping)."""
        if len(answer.rows) > self.row_budget // 8:
            return  # a whole large relation: kept, it would push out many small answers
        reads = self.reads(key[0])
        with self._lock:
            if stale is not None and stale():
                return
            self._drop(key)
            self._kept[key] = Kept(answer, reads)
            self.rows += len(answer.rows)
            while len(self._kept) > self.size or self.rows > self.row_budget:
                self._drop(next(iter(self._kept)))

    def _drop(self, key: Key) -> None:
        kept = self._kept.pop(key, None)
        if kept is not None:
            self.rows -= len(kept.answer.rows)

    def invalidate(self, earliest: Mapping[str, int]) -> int:
        """Drop the answers that facts of these relations, the earliest at the given valid
        time, can change; how many were dropped."""
        if not earliest:
            return 0
        changed = set(earliest)
        floor = min(earliest.values())  # an answer as of an earlier time stands: asked
        # first, as that is most answers (2,700 kept: 2.3 ms under the lock -> 0.2 ms)
        with self._lock:
            stale = [key for key, kept in self._kept.items()
                     if (key[1] is None or key[1] >= floor)
                     and (hit := kept.reads & changed)
                     and (key[1] is None or min(earliest[r] for r in hit) <= key[1])]
            for key in stale:
                self._drop(key)
            return len(stale)

    def knows(self, text: str) -> bool:
        """Whether the relations `text` reads are known already (`put` analyses it once)."""
        return text in self._reads

    def reads(self, text: str) -> frozenset[str]:
        """Every relation a query's answers depend on (the query analysed once per text)."""
        found = self._reads.get(text)
        if found is None:
            named = {atom.relation for literal in analyse_query(self.program, text).body
                     for atom in ast.walk(literal) if isinstance(atom, ast.Atom)}
            found = frozenset().union(*(self._uses.get(r, {r}) for r in named))
            if len(self._reads) >= self.size:
                self._reads.clear()
            self._reads[text] = found
        return found

    def __len__(self) -> int:
        return len(self._kept)


def _uses(program: Program) -> dict[str, frozenset[str]]:
    """For each relation, itself and every relation its rules read, transitively."""
    direct: dict[str, set[str]] = {name: set() for name in program.relations}
    for rule in program.rules:
        direct.setdefault(rule.head.relation, set()).update(
            atom.relation for literal in rule.body for atom in ast.walk(literal)
            if isinstance(atom, ast.Atom))
    closed: dict[str, frozenset[str]] = {}
    for name in direct:
        seen, todo = {name}, [name]
        while todo:
            for used in direct.get(todo.pop(), ()):
                if used not in seen:
                    seen.add(used)
                    todo.append(used)
        closed[name] = frozenset(seen)
    return closed
