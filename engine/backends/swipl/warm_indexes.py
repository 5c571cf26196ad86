"""When a query should finish the multi-argument indexes SWI-Prolog has just made."""

from __future__ import annotations

import time

# A query that reads facts by several bound arguments has SWI-Prolog make a multi-argument
# index, used only from the tenth call of that pattern on (runtime.pl, tl_warm_indexes). A
# query that took SLOW seconds or more may have made one, so it makes those calls before it
# answers: the first query of a pattern pays for the index, not the nine after it. Looking
# for new indexes costs ~1 ms (240 fact predicates on the trading rules), hence at most
# every EVERY seconds.
SLOW = 0.003
EVERY = 0.05


class IndexWarmer:
    """Decides, for one engine, which slow queries look for new indexes to finish (asked on
    the Prolog thread only, after each query it runs: no lock)."""

    def __init__(self):
        self._not_before = 0.0

    def due(self, seconds: float) -> bool:
        """Whether a query that took `seconds` of Prolog's time should look now."""
        if seconds < SLOW:
            return False
        now = time.monotonic()
        if now < self._not_before:
            return False
        self._not_before = now + EVERY
        return True
