"""The SWI-Prolog backend: a compiled program in its own module of the Prolog thread."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable

from engine.analysis.check import analyse_query
from engine.analysis.planner import NO_STATISTICS
from engine.analysis.program import Program, Relation
from engine.backends.swipl import prolog_text as pl
from engine.backends.swipl import rows as answer_rows
from engine.backends.swipl import snapshot
from engine.backends.swipl.as_of_tables import AsOfTables
from engine.backends.swipl.bottomup import bottom_up_plan, compile_now_query, statistics_from
from engine.backends.swipl.compiler import (
    CompiledProgram,
    CompileError,
    compile_program,
    compile_query,
)
from engine.backends.swipl.fact_text import encoder, first_of_each, time_ordered
from engine.backends.swipl.moded import ModedForms
from engine.backends.swipl.now_state import bottom_up_state
from engine.backends.swipl.prepared import Prepared
from engine.backends.swipl.thread import Call, PrologThread
from engine.backends.swipl.warm_indexes import IndexWarmer
from engine.engine import Engine, Result, Row, check_query_options
from engine.errors import QueryError, QueryTimeout, SnapshotRejected, TempologError
from engine.lang import ast

log = logging.getLogger(__name__)

BATCH = 5_000  # facts per Prolog request: one term read per batch (SWI-NOTES: ~500k facts/s)
# An as-of query is first answered untabled (moded forms, no table for its time) within
# this many inferences, else from tables: ~1-3 ms of work at SWI-Prolog's ~30M LIPS.
UNTABLED_BUDGET = 50_000
_modules = itertools.count(1)
_writes = itertools.count(1)  # numbers each write: its facts are given once (first_of_each)


class SwiplEngine(Engine):
    """Engine over SWI-Prolog. `SwiplEngine(program)`; safe to call from many threads.

    Tables are kept correct by explicit invalidation: after a batch of facts the engine
    abolishes the tables of the relations it can change (docs/architecture.md says why this
    beat incremental tabling when measured). `incremental=True` uses SWI-Prolog's incremental
    tabling instead; `time_index=False` turns off timed views and prefix aggregates;
    `plan_joins=False` keeps bodies in their written order (no join planner);
    `now_incremental=False` evaluates "now" from scratch after new facts, instead of from
    what they add; `invalidate_by_time=False` drops the tables new facts can change for
    every as-of time, not only for those from the facts' earliest time on;
    `untabled_budget=None` answers as-of queries from tables only (an integer: the
    inferences an untabled answer may take first, 0 to try none); `warm_indexes=False`
    leaves SWI-Prolog's new multi-argument indexes to be finished by the queries after the
    one that made them (warm_indexes.py). All seven exist to be measured and tested against."""

    def __init__(self, program: Program, *, incremental: bool = False, time_index: bool = True,
                 plan_joins: bool = True, now_incremental: bool = True,
                 invalidate_by_time: bool = True, untabled_budget: int | None = UNTABLED_BUDGET,
                 warm_indexes: bool = True):
        self.program = program
        self._by_time = invalidate_by_time
        self._budget = untabled_budget
        self._prolog = PrologThread.shared()
        self.module = f"tempolog_{next(_modules)}"
        self.compiled: CompiledProgram = compile_program(
            program, self.module, incremental=incremental, time_index=time_index)
        # Compiled twice: which relations are events or views decides the hooks that keep
        # their new facts for incremental evaluation.
        state, hooks, self._helpers = bottom_up_state(
            program, self.compiled.kinds, self.module, incremental=now_incremental,
            sites=self.compiled.sites)
        self.compiled = compile_program(program, self.module, incremental=incremental,
                                        time_index=time_index, hooks=hooks)
        self._program_text = self.compiled.text + state
        self._program_hash: str | None = None
        answer = self._prolog.request(f"tl_load_program({self.module})", self._program_text)
        problems = [m for m in answer["messages"] if m["kind"] == "error"]
        for message in answer["messages"]:
            if message["kind"] != "error":
                log.warning("compiled program %s: %s", self.module, message["message"])
        if problems:
            self._prolog.request(f"tl_drop_module({self.module})")
            raise CompileError("SWI-Prolog rejected the compiled program: "
                               + "; ".join(m["message"] for m in problems))
        self._forms = ModedForms(program, self.compiled.kinds, self.compiled.sites,
                                 self.module)
        self._form_sources = itertools.count(1)
        self._warmer = IndexWarmer() if warm_indexes else None
        self._lock = threading.Lock()  # guards the fields below
        self._next_seq = 1
        self._as_of = AsOfTables()
        # `p @ t` over a recursive relation makes its tables (one per t) while answering
        # about now too: then a batch must invalidate tables even if no as-of was asked
        self._now_tables = bool(program.recursive) and any(
            ast.as_of_literals(rule.body) for rule in program.rules)
        self._closed = False
        self._query_cache = Prepared(self._compile_query)
        self._now_cache = Prepared(self._compile_now_query)
        self._plan_lock = threading.Lock()  # guards the plan: statistics, rules, query cache
        self._rows_given: dict[str, int] = {}  # rows given per relation (duplicates too)
        self._planned_rows: dict[str, int] | None = None
        self._stats = NO_STATISTICS
        self._plan_joins = plan_joins
        self._restored_plan = None  # (statistics, planned rows) of a restored snapshot
        self.plan = self._replan()
        initial: dict[str, list[tuple]] = {}
        for relation, row in self.compiled.initial_facts:
            initial.setdefault(relation, []).append(row)
        for relation, rows in initial.items():
            self.assert_facts(relation, rows)

    # ---- facts

    def _write(self, batch: list[tuple[Relation, list[Row], list[int] | None]]) -> int:
        """Write checked rows all or nothing, in one hand-off to the Prolog thread."""
        given = [(relation, rows, seqs) for relation, rows, seqs in batch if rows]
        with self._lock:
            self._check_open()
            for signature, rows, _ in given:
                name = signature.name
                self._rows_given[name] = self._rows_given.get(name, 0) + len(rows)
            numbered = []
            for signature, rows, seqs in given:
                numbers = range(self._next_seq, self._next_seq + len(rows)) if seqs is None \
                    else seqs
                self._next_seq = max(self._next_seq, max(numbers) + 1)
                numbered.append((signature, rows, numbers))
        write_id = next(_writes)
        chunks = []  # (facts, "'batch:r'-[f(…), …]"): every row is encoded before any write
        # Per relation written, the earliest new valid time: the tables of as-of times from
        # it on are dropped (None: every time's, for facts that hold at every time).
        earliest: list[tuple[str, int | None]] = []
        for signature, rows, numbers in numbered:
            encode = encoder(signature)
            first = None
            if signature.is_event:  # in time order, prefix aggregates append, not rebuild
                rows, numbers = first_of_each(*time_ordered(rows, numbers,
                                                            signature.time_column))
                first = rows[0][signature.time_column] if self._by_time else None
            earliest.append((signature.name, first))
            prefix = pl.predicate("batch", signature.name) + (
                f"({write_id})-" if signature.is_event else "-")  # see _event_batch
            chunks += [(len(rows[i:i + BATCH]),
                        prefix + encode(rows[i:i + BATCH], numbers[i:i + BATCH]))
                       for i in range(0, len(rows), BATCH)]
        if not chunks:
            return 0
        requests, size = [[]], 0  # chunks packed into requests of at most BATCH facts
        for facts, text in chunks:
            if size + facts > BATCH and requests[-1]:
                requests.append([])
                size = 0
            requests[-1].append(text)
            size += facts
        # The last request rebuilds prefix aggregates and invalidates tables, once for all:
        # those of as-of times from the earliest new valid time on (docs/architecture.md).
        written = ", ".join(f"{pl.atom(name)}-{'all' if first is None else pl.number(first)}"
                            for name, first in earliest)
        finish = ["[]"] * (len(requests) - 1) + [f"[{written}]"]
        dropped = [(self.compiled.invalidates.get(name, ()), first) for name, first in earliest]

        def load(call) -> int:
            # On the Prolog thread, so that no as-of query can make tables in between: with
            # none made yet (a stream of facts asked only about now), nothing to invalidate.
            with self._lock:
                if not self._as_of and not self._now_tables:
                    finish[-1] = f"untabled({finish[-1]})"
            self._as_of.dropped(dropped)
            return sum(call(f"tl_batch({self.module}, {done})", f"[{', '.join(texts)}]")["new"]
                       for done, texts in zip(finish, requests))

        return self._prolog.run(load, urgent=True)  # writes first: ingest keeps up with
        # the store however many queries wait

    # ---- queries

    def query(self, text: str, *, as_of: int | None = None, limit: int | None = None,
              timeout: float | None = 5.0) -> Result:
        check_query_options(as_of, limit, timeout, text)
        with self._lock:
            self._check_open()
        if as_of is None:  # "now": the materialised relations, brought up to date first
            if "@" in text and self.program.recursive and not self._now_tables:
                with self._lock:  # (an `@` in a string constant too: to be safe)
                    self._now_tables = True
            self._plan_if_grown()
            prepared = self._now_cache(text)  # its goal: its cone made ready first
        else:
            prepared = self._query_cache(text)
        return self._prolog.run(self._asking(*prepared, as_of, limit, timeout), owner=self)

    def submit(self, text: str, *, as_of: int | None, limit: int | None = None,
               timeout: float | None = 5.0, done) -> bool:
        # Only a query as of a time whose shape was compiled before: "now" may plan again,
        # and compiling loads moded forms, both of which wait for the Prolog thread.
        if as_of is None:
            return False
        check_query_options(as_of, limit, timeout, text)
        with self._lock:
            self._check_open()
        prepared = self._query_cache.ready(text)
        if prepared is None:
            return False
        self._prolog.submit(self._asking(*prepared, as_of, limit, timeout), done, owner=self)
        return True

    def _asking(self, columns: tuple[str, ...], goal: str, row: str, as_of: int | None,
                limit: int | None, timeout: float | None) -> Callable[[Call], Result]:
        """`ask(call)`: the compiled query's Result, answered on the Prolog thread, with the
        time it waited for that thread."""
        evict = self._as_of.asked(as_of)
        if as_of is not None and self._as_of.tables_first(as_of, goal):  # no untabled try
            goal = goal.replace(f"tl_budget({self._budget}, ", "tl_budget(0, ", 1)
        rest = (f"{'none' if limit is None else limit}, "
                f"{'1.0Inf' if as_of is None else pl.number(as_of)}, AsOf, {row}, ({goal})")
        submitted = time.monotonic()

        def ask(call) -> Result:
            # The time limit counts from the call: time spent waiting behind other callers'
            # requests for the one Prolog thread is part of it.
            started = time.monotonic()
            waited = started - submitted
            try:
                limit_text = "none"
                if timeout is not None:
                    left = timeout - waited
                    if left <= 0:
                        raise QueryTimeout(f"the query waited past its time limit of "
                                           f"{timeout:g}s for the engine")
                    limit_text = pl.number(float(left))
                rows = answer_rows.fetch(call, f"{self.module}, {limit_text}, {rest}")
                if self._warmer and self._warmer.due(time.monotonic() - started):
                    call(f"tl_warm_indexes({self.module})", "")
                return Result(columns, tuple(rows), waited * 1000)
            finally:  # the times evicted from the bookkeeping, also when the query failed
                for old in evict:
                    call(f"tl_drop_as_of({self.module}, {pl.number(old)})", "")

        return ask

    def interrupt(self) -> bool:
        return self._prolog.interrupt(self)

    def event_seqs(self, relation: str, rows: Iterable[Row]) -> dict[Row, int]:
        signature = self._relation(relation)
        rows = list(dict.fromkeys(tuple(row) for row in rows))
        if not signature.is_event or not rows:
            return {}
        with self._lock:
            self._check_open()
        args = pl.variables("A", signature.arity)
        try:
            keys = ", ".join(f"k({', '.join(pl.value(v) for v in row)})" for row in rows)
        except TempologError as error:
            raise QueryError(f"bad rows for {relation}: {error}") from None
        goal = f"member(k({', '.join(args)}), [{keys}]), {pl.call('e', relation, args + ['S'])}"
        row = f"[{', '.join(args)}, S]"
        request = f"tl_query({self.module}, none, none, 1.0Inf, _, {row}, ({goal}))"
        found: dict[Row, int] = {}
        for *values, seq in self._prolog.run(lambda call: call(request, "")):
            found.setdefault(tuple(values), seq)  # sorted: the first seq is the smallest
        return found

    def _compile_query(self, text: str) -> tuple[tuple[str, ...], str, str]:
        query = analyse_query(self.program, text)
        goal, row = compile_query(self.compiled, self.program, query.body, query.columns)
        if not self._budget:
            return query.columns, goal, row
        with self._forms.lock:
            self._forms.stats = self._stats
            untabled, _ = compile_query(self.compiled, self.program, query.body,
                                        query.columns, forms=self._forms)
            self._load_forms()
        if untabled != goal:
            goal = f"tl_budget({self._budget}, {row}, ({untabled}), ({goal}))"
        return query.columns, goal, row

    def _load_forms(self) -> None:
        """Load the moded forms a query compiled just now reads (with the forms' lock)."""
        names, text = self._forms.take_text()
        if not names:
            return
        source = f"forms_{next(self._form_sources)}"
        answer = self._prolog.request(f"tl_load_forms({self.module}, {source})", text,
                                      owner=self)
        problems = [m["message"] for m in answer["messages"] if m["kind"] == "error"]
        if problems:
            raise CompileError("SWI-Prolog rejected moded forms: " + "; ".join(problems))
        self._forms.defined.update(names)

    def _compile_now_query(self, text: str) -> tuple[tuple[str, ...], str, str]:
        query = analyse_query(self.program, text)
        goal, row = compile_now_query(self.program, self.compiled.kinds, query.body,
                                      query.columns, self._stats, self._plan_joins,
                                      self.compiled.sites)
        # Only the components the query reads, and those below them, are evaluated.
        cone = self.plan.cone({atom.relation for atom, _ in ast.body_atoms(query.body)})
        return query.columns, f"'bu:ensure'({cone}), {goal}", row

    # ---- the join plan of bottom-up evaluation

    def _plan_if_grown(self) -> None:
        """Plan again when a relation has grown or shrunk 2x since the plan was made."""
        if self._restored_plan is not None:
            with self._plan_lock:
                if self._restored_plan is not None:
                    self.plan = self._load_plan(*self._restored_plan)
                    self._restored_plan = None
        with self._lock:
            given = dict(self._rows_given)
        planned = self._planned_rows
        if planned is not None and not any(
                max(n, planned.get(r, 0)) > max(64, 2 * min(n, planned.get(r, 0)))
                for r, n in given.items()):
            return
        with self._plan_lock:
            if self._planned_rows is planned:
                self.plan = self._replan(given)

    def _replan(self, given: dict[str, int] | None = None):
        """Statistics from the stored facts, then the rules planned with them and loaded."""
        stats = NO_STATISTICS
        if given is not None:
            stats = statistics_from(self._prolog.request(f"tl_stats({self.module})", owner=self))
        return self._load_plan(stats, given)

    def _load_plan(self, stats, given: dict[str, int] | None):
        """The rules of bottom-up evaluation planned with `stats`, loaded into the module."""
        plan = bottom_up_plan(self.program, self.compiled.kinds, stats, self._plan_joins,
                              self._helpers, self.compiled.sites)
        answer = self._prolog.request(f"tl_load_plan({self.module})", plan.text(), owner=self)
        problems = [m["message"] for m in answer["messages"] if m["kind"] == "error"]
        if problems:
            raise CompileError("SWI-Prolog rejected the planned rules: " + "; ".join(problems))
        self._stats = stats
        self._now_cache = Prepared(self._compile_now_query)
        self._planned_rows = dict(given or {})
        return plan

    # ---- snapshots (snapshot.py, snapshot.pl)

    def program_hash(self) -> str:
        if self._program_hash is None:
            version = self._prolog.run(snapshot.prolog_version)
            # The program's own ground facts are asserted at start, not compiled: hashed too.
            text = f"{self._program_text}\n% facts {self.compiled.initial_facts!r}"
            self._program_hash = snapshot.program_hash(self.module, text, version)
        return self._program_hash

    def dump_state(self) -> bytes:
        program = self.program_hash()

        def dump(call) -> bytes:
            with self._lock:
                self._check_open()
                stats, planned = self._restored_plan or (self._stats, self._planned_rows)
                state = snapshot.EngineState(self._next_seq, dict(self._rows_given),
                                             planned, stats)
            return snapshot.dump(call, self.module, program, state)

        return self._prolog.run(dump, owner=self)

    def restore_state(self, blob: bytes) -> None:
        header, body = snapshot.read_header(blob, self.program_hash())
        with self._lock:
            self._check_open()

        def restore(call) -> snapshot.EngineState:
            state = snapshot.restore(call, self.module, header, body)
            with self._lock:  # on the Prolog thread: no query runs between state and counters
                self._next_seq = state.next_seq
                self._rows_given = dict(state.rows_given)
            self._as_of.clear()  # restoring abolished the module's tables
            return state

        try:
            state = self._prolog.run(restore, urgent=True, owner=self)
        except QueryError as error:  # the checks passed: SWI-Prolog failed half way
            self.close()
            raise SnapshotRejected(f"restoring the snapshot failed ({error}); the engine is "
                                   "closed") from None
        with self._plan_lock:  # the dumped engine's plan, loaded by the next query about now
            self._restored_plan = (state.stats, state.planned_rows)

    # ---- lifecycle

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        # Freed after the requests queued before it, without waiting: a one-shot command
        # that ends now need not pay for it (and at exit it is not run at all).
        self._prolog.release(f"tl_drop_module({self.module})")
