"""The pyDatalog backend: the Engine interface in pure Python, for when SWI-Prolog is absent."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable

from pyDatalog import pyEngine

from engine.analysis.check import analyse_query
from engine.analysis.program import Program, Relation
from engine.backends.pydatalog.compile import compile_program, compile_query
from engine.backends.pydatalog.eval import Snapshot, answer, materialise
from engine.backends.pydatalog.functions import Cancelled, current_flag, watch
from engine.engine import Engine, Result, Row, check_query_options, sorted_rows
from engine.errors import QueryError, QueryTimeout

# Each query runs in a worker thread with its own pyDatalog state, and the caller stops
# waiting at the time limit. pyDatalog cannot be interrupted from outside, and its compiled
# loop holds the GIL; so the worker checks a cancellation flag wherever pyDatalog calls back
# into Python (every derived fact and tried clause, through its logger hook; every builtin;
# every round) and an abandoned query stops soon after. The time limit can still be
# overrun by one stretch without such a call, e.g. pyDatalog building a large answer list.
# Evaluation is goal-directed by relation: a query evaluates the relations it reads and
# what they depend on, and keeps them (a snapshot per `as_of`, grown by later queries)
# until new facts arrive; so a runaway rule only stops the queries that depend on it.

NOW = "now"  # the snapshot key for "all facts"
KEPT_SNAPSHOTS = 8
KEPT_PAST = 4096  # relations evaluated as of a time for `p @ t`, kept until new facts
_asked = threading.local()  # the as-of time of the query a worker thread answers


class PyDatalogEngine(Engine):
    """Engine over pyDatalog. `PyDatalogEngine(program)`; safe to call from many threads."""

    def __init__(self, program: Program):
        self.program = program
        self._compiled = compile_program(program)
        pyEngine.Python_resolvers.update(self._compiled.resolvers)
        self._lock = threading.Lock()
        self._rows: dict[str, dict[Row, int | None]] = {}  # row -> event-store seq
        self._latest_time: int | None = None
        self._version = 0
        self._snapshots: OrderedDict[object, Snapshot] = OrderedDict()
        self._closed = False
        self._running: set[threading.Event] = set()  # cancellation flags of queries
        # `p @ t`: p evaluated again over the facts up to t, once per (facts, t, p)
        self._past: dict[tuple, frozenset[Row]] = {}
        self._compiled.past.read = self._read_past

    # ---- facts

    def _write(self, batch: list[tuple[Relation, list[Row], list[int] | None]]) -> int:
        with self._lock:
            self._check_open()
            new = 0
            for signature, good, numbers in batch:
                table = self._rows.setdefault(signature.name, {})
                for row, seq in zip(good, numbers or [None] * len(good)):
                    if row in table:
                        continue
                    table[row] = seq
                    new += 1
                    if signature.is_event:
                        time = row[signature.time_column]
                        self._latest_time = max(time, self._latest_time or time)
            if new:
                self._version += 1
                self._snapshots.clear()
                self._past.clear()
        return new

    def event_seqs(self, relation: str, rows: Iterable[Row]) -> dict[Row, int]:
        signature = self._relation(relation)
        with self._lock:
            self._check_open()
            table = self._rows.get(relation, {})
            found = {}
            for row in rows:
                row = tuple(row)
                seq = table.get(row) if signature.is_event else None
                if seq is not None:
                    found[row] = seq
            return found

    # ---- queries

    def query(self, text: str, *, as_of: int | None = None, limit: int | None = None,
              timeout: float | None = 5.0) -> Result:
        self._check_open()
        check_query_options(as_of, limit, timeout, text)
        compiled = compile_query(self.program, analyse_query(self.program, text),
                                 self._compiled.past)
        wanted = self._compiled.needs(compiled.reads)
        with self._lock:
            key = NOW if self._latest_time is None or as_of is None or \
                as_of >= self._latest_time else as_of
            snapshot = self._snapshots.get(key)
            missing = wanted - set(snapshot.answers) if snapshot is not None else wanted
            version = self._version
            inputs = self._inputs(as_of, missing)

        def work() -> list[Row]:
            _asked.as_of = as_of  # what `p @ t` in this query's rules never reads past
            ready = snapshot
            if ready is None or missing:  # evaluate what this query reads, if not done yet
                ready = materialise(self._compiled, self.program.relations, inputs, missing,
                                    snapshot)
                self._keep(key, version, ready)
            return answer(ready, compiled)

        cancel = threading.Event()
        with self._lock:
            self._check_open()
            self._running.add(cancel)
        pyEngine.Python_resolvers.update(compiled.resolvers)
        try:
            rows = _run(work, cancel, timeout, text)
        finally:
            for name in compiled.resolvers:
                pyEngine.Python_resolvers.pop(name, None)
            with self._lock:
                self._running.discard(cancel)
        ordered = sorted_rows(rows)
        return Result(compiled.columns, tuple(ordered if limit is None else ordered[:limit]))

    def _inputs(self, as_of: int | None, names: set[str]) -> dict[str, list[Row]]:
        """Rows asserted into `names`; events only up to `as_of` (their valid time)."""
        inputs = {}
        for name in names & self._rows.keys():
            relation = self.program.relations[name]
            table = self._rows[name]
            if relation.is_event and as_of is not None:
                column = relation.time_column
                inputs[name] = [row for row in table if row[column] <= as_of]
            else:
                inputs[name] = list(table)
        return inputs

    def _read_past(self, relation: str, time) -> frozenset[Row]:
        """`relation` as of `time` (never past the running query's as-of time), for the
        resolver of `p @ t`: evaluated in a thread of its own, since pyDatalog's state is
        per thread and this one is in the middle of a query. A simple evaluation (of p
        and what it reads, from the facts up to t) per distinct time, kept until new
        facts arrive."""
        as_of = getattr(_asked, "as_of", None)
        time = time if as_of is None else min(time, as_of)
        with self._lock:
            version = self._version
            found = self._past.get((version, time, relation))
            if found is not None:
                return found
            wanted = self._compiled.needs({relation})
            inputs = self._inputs(time, wanted)
        flag, outcome = current_flag(), {}

        def evaluate() -> None:
            watch(flag)
            _asked.as_of = time
            try:
                outcome["rows"] = materialise(self._compiled, self.program.relations, inputs,
                                              wanted).answers[relation]
            except BaseException as error:  # raised again in the asking thread
                outcome["error"] = error

        worker = threading.Thread(target=evaluate, name="tempolog-pydatalog-as-of",
                                  daemon=True)
        worker.start()
        worker.join()
        if "error" in outcome:
            raise outcome["error"]
        with self._lock:
            if version == self._version:
                if len(self._past) >= KEPT_PAST:
                    self._past.clear()
                self._past[(version, time, relation)] = outcome["rows"]
        return outcome["rows"]

    def _keep(self, key: object, version: int, snapshot: Snapshot) -> None:
        with self._lock:
            if version != self._version or self._closed:
                return  # facts arrived meanwhile: this snapshot is already stale
            kept = self._snapshots.get(key)
            if kept is not None and not set(kept.answers) <= set(snapshot.answers):
                return  # another query extended it differently; keep that one
            self._snapshots[key] = snapshot
            self._snapshots.move_to_end(key)
            while len(self._snapshots) > KEPT_SNAPSHOTS:
                self._snapshots.popitem(last=False)

    # ---- lifecycle

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._snapshots.clear()
            self._rows.clear()
            for cancel in self._running:  # their queries raise QueryError, not hang on
                cancel.set()
        for name in self._compiled.resolvers:
            pyEngine.Python_resolvers.pop(name, None)


def _run(work, cancel: threading.Event, timeout: float | None, text: str) -> list[Row]:
    """Run `work` in a worker thread; give up waiting, and cancel it, at the time limit."""
    done = threading.Event()
    outcome: dict[str, object] = {}

    def worker() -> None:
        watch(cancel)
        try:
            outcome["rows"] = work()
        except Cancelled:
            pass
        except BaseException as error:  # handed to the caller's thread below
            outcome["error"] = error
        finally:
            done.set()

    threading.Thread(target=worker, name="tempolog-pydatalog", daemon=True).start()
    if not done.wait(timeout):
        cancel.set()
        raise QueryTimeout(f"query ran past its time limit of {timeout:g}s: {text.strip()}")
    error = outcome.get("error")
    if isinstance(error, QueryError):
        raise error
    if error is not None:
        raise QueryError(f"pyDatalog could not evaluate the query: {error}") from error
    if "rows" not in outcome:
        raise QueryError("the engine was closed while the query ran")
    return outcome["rows"]
