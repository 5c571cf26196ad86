"""Which as-of times have tables in Prolog, and what each time's tables were read for."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterable
from functools import lru_cache

KEPT_AS_OF = 16  # as-of times whose tables are kept; older ones are abolished


class AsOfTables:
    """The as-of times with tables, the least recently asked first; per time, how many
    queries have read each tabled relation since new facts last dropped its tables there."""

    def __init__(self):
        self._lock = threading.Lock()
        self._times: OrderedDict[int, dict[str, int]] = OrderedDict()

    def __bool__(self) -> bool:
        return bool(self._times)

    def asked(self, as_of: int | None) -> list[int]:
        """Remember that `as_of` has tables now; the as-of times to free, oldest first."""
        if as_of is None:
            return []
        with self._lock:
            self._times.setdefault(as_of, {})
            self._times.move_to_end(as_of)
            evict = []
            while len(self._times) > KEPT_AS_OF:
                evict.append(self._times.popitem(last=False)[0])
            return evict

    def tables_first(self, as_of: int, goal: str) -> bool:
        """Whether to answer from tables, making them if need be, rather than untabled
        first: when every tabled relation the query reads has been asked as of this time
        twice already since new facts last dropped its tables there. A time asked again
        and again (now, as of the end of time) then reads its tables until facts change
        them; a random past time, asked once, makes none."""
        if not goal.startswith("tl_budget("):
            return False
        relations = _tabled_reads(goal)
        with self._lock:
            asked = self._times.get(as_of)
            if asked is None:
                return False
            first = all(asked.get(relation, 0) >= 2 for relation in relations)
            for relation in relations:
                asked[relation] = asked.get(relation, 0) + 1
            return first

    def dropped(self, writes: Iterable[tuple[Iterable[str], int | None]]) -> None:
        """A write dropped the tables of these relations from a time on (None: at every
        time): their reads there start counting again."""
        with self._lock:
            for readers, first in writes:
                for at, asked in self._times.items():
                    if first is None or at >= first:
                        for relation in readers:
                            asked.pop(relation, None)

    def clear(self) -> None:
        """Every table is gone (a snapshot was restored)."""
        with self._lock:
            self._times.clear()


@lru_cache(maxsize=1024)
def _tabled_reads(goal: str) -> frozenset[str]:
    """The tabled relations a compiled query goal reads (`'t:p'(…)`)."""
    return frozenset(re.findall(r"'t:((?:[^'\\]|\\.)*)'\(", goal))
