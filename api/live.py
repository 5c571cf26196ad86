"""An engine that follows an event store: replays it, then tails it, and swaps rule sets."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from itertools import islice
from pathlib import Path

from api.answers import AnswerCache
from api.query import Answer, known_money_columns, query_text, run_query
from engine import (
    Program,
    QueryError,
    QueryTimeout,
    engine_from_files,
    load_program,
    open_engine,
    program_from_source,
)
from sim import FactBatch, envelope_of, open_store

log = logging.getLogger("tempolog.live")

READ_BATCH = 20_000  # events per read of the store while catching up
# "Now" is asked as of this valid time, past any event's: goal-directed, through the time
# index, evaluating only what the query needs. The engine's own "now" re-evaluates every
# relation of the rules after each batch of facts: seconds per batch on the default rules
# (docs/benchmarks.md), which a service appended to ten times a second cannot pay.
END_OF_TIME = 2**62
POLL_SECONDS = 0.1  # how often a store without wait_for_append is asked for new events


class LiveEngine:
    """The facts of every event in `store`, kept current.

    `catch_up()` asserts the events after `applied_seq`; `follow()` starts a thread that
    does so whenever the store grows (through `wait_for_append` where the store has it,
    else by polling its reads), so events appended by another process become facts within
    a fraction of a second. `replace_rules` builds a new engine beside the serving one and
    swaps it in only once it holds every event: a bad rule set never stops the old one.

    `query` answers from an AnswerCache where it can: a batch of events drops only the
    answers it can change. `applied_seq` only grows; `wait_for(seq)` waits until it is
    past seq (read-your-writes after an append, which itself never waits for the engine)."""

    def __init__(self, store, rule_paths: list[Path], *, backend: str | None = None,
                 now_as_of_end: bool = True):
        self.store = store
        self.now_as_of_end = now_as_of_end  # False: "now" from the engine's materialised
        # relations (to measure against)
        self.store_lock = threading.RLock()  # one connection, shared by every thread
        self.backend = backend
        self.rule_sources = [(str(p), Path(p).read_text()) for p in rule_paths]
        self.rules_dir = Path(rule_paths[0]).parent if rule_paths else Path(".")
        engine = engine_from_files(rule_paths, backend)
        self._serving = (engine, AnswerCache(engine.program))  # swapped together
        self.applied_seq = 0
        self.applied_at = time.monotonic()
        self.fact_writes = WriteStats()  # what the batches of facts cost the engine
        self._applied = threading.Condition()  # notified whenever applied_seq grows
        self._apply_lock = threading.Lock()  # one writer of facts at a time
        # A seqlock over the serving engine's facts: odd while a batch is being written and
        # its answers invalidated. An answer is kept only when the count was even and
        # unchanged from before the query to its keeping (checked under the answer cache's
        # lock, which invalidation takes): it then saw no batch half applied.
        self._writes = 0
        self._wake = threading.Event()  # an append through this process: tail at once
        self._retired = None  # the engine replaced last: closed at the next swap, not at
        # once, so queries still running on it finish
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: str | None = None  # the last failure of the tailer, for /health
        self.catch_up()

    @property
    def engine(self):
        return self._serving[0]

    @property
    def answers(self) -> AnswerCache:
        return self._serving[1]

    # ---- answers -------------------------------------------------------------------

    def query(self, text: str, *, as_of: int | None = None, limit: int | None = None,
              timeout: float = 5.0, after_seq: int | None = None,
              look_up: bool = True) -> tuple[Answer, int]:
        """The answer of a query and the applied seq it includes at least; with `after_seq`,
        on a basis that includes it (QueryTimeout if the engine is not there in time).
        `look_up=False`: the caller has just found no kept answer (`cached`)."""
        if after_seq is not None and after_seq > self.applied_seq:
            head = self.head()[0]
            if after_seq > head:
                raise QueryError(f"after_seq {after_seq:,} is past the store's head seq "
                                 f"{head:,}", code="after-seq-ahead")
            if not self.wait_for(after_seq, timeout):
                raise QueryTimeout(f"the engine did not reach seq {after_seq:,} within "
                                   f"{timeout:g}s (applied: {self.applied_seq:,})")
        text = query_text(text)
        found = self.cached(text, as_of=as_of, limit=limit) if look_up else None
        return found or self._computed(text, as_of, limit, timeout)

    def cached(self, text: str, *, as_of: int | None = None, limit: int | None = None,
               after_seq: int | None = None) -> tuple[Answer, int] | None:
        """The kept answer of a query and the applied seq it includes, or None (no answer
        kept, or `after_seq` not applied yet). Never waits: the service calls it on its
        event loop, so a kept answer costs no thread hop."""
        if after_seq is not None and after_seq > self.applied_seq:
            return None
        started = time.perf_counter()
        seq = self.applied_seq  # read first: a batch is applied only once its answers
        # are dropped, so what is kept now holds at least up to seq
        kept = self.answers.get((query_text(text), as_of, limit))
        if kept is None:
            return None
        return kept.again((time.perf_counter() - started) * 1000), seq

    def submit(self, text: str, *, as_of: int | None = None, limit: int | None = None,
               timeout: float = 5.0, done) -> bool:
        """Hand a query with no kept answer to the engine without waiting (the service's
        event loop must not block): `done(found, error)` is called on the engine's thread
        with (answer, seq) or the error. False, and nothing handed over, when the engine
        must prepare the query first: ask `query()` from a thread that may wait."""
        engine, cache = self._serving
        writes, seq = self._writes, self.applied_seq
        text = query_text(text)
        money = known_money_columns(engine, text)
        if money is None or not cache.knows(text):  # analysing the text on the Prolog
            return False  # thread would hold up every query behind it: a worker does it once
        asked = END_OF_TIME if as_of is None and self.now_as_of_end else as_of
        started = time.perf_counter()

        def answered(result, error) -> None:
            if error is None:
                try:
                    answer = Answer(text, result.columns, result.rows,
                                    (time.perf_counter() - started) * 1000, as_of, money,
                                    waited_ms=result.waited_ms)
                    self._keep(engine, cache, writes, (text, as_of, limit), answer)
                except BaseException as failure:  # noqa: BLE001 - the caller waits for it
                    error = failure
            if error is not None:
                done(None, error)
            else:
                done((answer, seq), None)

        return engine.submit(text, as_of=asked, limit=limit, timeout=timeout, done=answered)

    def _computed(self, text: str, as_of: int | None, limit: int | None,
                  timeout: float) -> tuple[Answer, int]:
        """Ask the engine, and keep the answer when no batch was written meanwhile."""
        engine, cache = self._serving
        writes, seq = self._writes, self.applied_seq
        asked = as_of
        if as_of is None and self.now_as_of_end:
            asked = END_OF_TIME
        answer = run_query(engine, text, as_of=asked, limit=limit, timeout=timeout)
        if asked != as_of:
            answer = replace(answer, as_of=None)
        self._keep(engine, cache, writes, (text, as_of, limit), answer)
        return answer, seq

    def _keep(self, engine, cache: AnswerCache, writes: int, key, answer: Answer) -> None:
        """Keep an answer that `engine` computed while the seqlock read `writes`, if no batch
        was written since (or during) and the engine still serves."""
        if writes % 2 == 0 and self._serving[0] is engine:
            cache.put(key, answer, stale=lambda: self._writes != writes)

    def wait_for(self, seq: int, timeout: float | None) -> bool:
        """Wait until every event up to `seq` is a fact; whether it came to be in time."""
        with self._applied:
            return self._applied.wait_for(lambda: self.applied_seq >= seq, timeout)

    def appended(self) -> None:
        """Events were appended through this process: tail them now, not at the next poll."""
        self._wake.set()

    # ---- facts from events ---------------------------------------------------------

    def _feed(self, engine, after_seq: int, applied=None) -> int:
        """Assert the events after `after_seq` into `engine`; the last seq asserted.
        `applied(seq, write)` is called around each batch: `write()` asserts it and returns
        the earliest valid time per relation it gave facts to."""
        batch = FactBatch(engine)
        while True:
            with self.store_lock:
                if batch.envelope:  # the rules read the envelope: whole events
                    facts = [(e.seq, e.type, e.time, e.payload, envelope_of(e)) for e in
                             self.store.read(from_seq=after_seq + 1, limit=READ_BATCH)]
                else:
                    facts = list(islice(self.store.read_facts(from_seq=after_seq + 1),
                                        READ_BATCH))
            for seq, type, valid_time, payload, *envelope in facts:
                batch.add(type, payload, valid_time, seq, *envelope)
            taken = batch.take()

            def write(taken=taken) -> dict[str, int]:
                if taken:
                    engine.assert_many({rel: (rows, seqs) for rel, rows, seqs in taken})
                return _earliest(engine, taken)

            if facts:
                after_seq = facts[-1][0]
                if applied is None:
                    write()
                else:
                    applied(after_seq, write)
            if len(facts) < READ_BATCH:
                return after_seq

    def _apply(self, seq: int, write) -> None:
        """Write one batch into the serving engine, drop the answers it changes, and only
        then say it is applied (under the seqlock: see __init__)."""
        self._writes += 1
        started = time.perf_counter()
        try:
            earliest = write()
            self.answers.invalidate(earliest)
            self.fact_writes.note(seq - self.applied_seq, time.perf_counter() - started)
        except BaseException:
            self.answers.invalidate({r: -2**63 for r in self.engine.relations()})
            raise
        finally:
            self._writes += 1
        with self._applied:
            self.applied_seq = seq
            self.applied_at = time.monotonic()
            self._applied.notify_all()

    def catch_up(self) -> int:
        """Assert every event the store has beyond `applied_seq`; the new applied seq."""
        with self._apply_lock:
            self._feed(self.engine, self.applied_seq, self._apply)
            return self.applied_seq

    def head(self) -> tuple[int, str]:
        with self.store_lock:
            return self.store.head()

    def store_event(self, seq: int):
        """The event with this seq, if any."""
        with self.store_lock:
            return next(self.store.read(from_seq=seq, to_seq=seq, limit=1), None)

    def lag(self) -> int:
        """Events in the store not yet facts."""
        return max(0, self.head()[0] - self.applied_seq)

    # ---- tailing -------------------------------------------------------------------

    def follow(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._tail, name="store-tailer", daemon=True)
            self._thread.start()

    def _tail(self) -> None:
        # Waiting blocks on a connection of its own: the served store's one connection is
        # shared by the request threads under store_lock, which a wait must not hold.
        waiter = None
        if hasattr(self.store, "wait_for_append") and getattr(self.store, "shared", False):
            waiter = open_store(self.store.url)
        try:
            self._tail_with(waiter.wait_for_append if waiter is not None else None)
        finally:
            if waiter is not None:
                waiter.close()

    def _tail_with(self, wait) -> None:
        while not self._stop.is_set():
            try:
                if wait is not None:
                    wait(self.applied_seq, 1.0)
                else:
                    self._wake.wait(POLL_SECONDS)
                self._wake.clear()
                self.catch_up()
                self.error = None
            except Exception as error:  # noqa: BLE001 - kept for /health, retried
                self.error = f"{type(error).__name__}: {error}"
                log.exception("tailing the store failed; retrying")
                self._stop.wait(1.0)

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for engine in (self.engine, self._retired):
            if engine is not None:
                engine.close()

    # ---- rules ---------------------------------------------------------------------

    def program_from_text(self, text: str, path: str | None = None) -> Program:
        """Analyse a rule set given as text; `.include`s resolve beside the served rules."""
        name = path or "posted.dl"
        return program_from_source(text, str(self.rules_dir / Path(name).name))

    def replace_rules(self, program: Program, sources: list[tuple[str, str]]) -> None:
        """Serve `program` from now on, over every event; the old engine serves meanwhile."""
        engine = open_engine(program, self.backend)
        try:
            seq = self._feed(engine, 0)
            with self._apply_lock:
                seq = self._feed(engine, seq)  # what arrived during the replay
                old = self.engine
                self._serving = (engine, AnswerCache(engine.program))
                with self._applied:
                    self.applied_seq = max(self.applied_seq, seq)
                    self._applied.notify_all()
                self.rule_sources = sources
        except BaseException:
            engine.close()
            raise
        if self._retired is not None:
            self._retired.close()
        self._retired = old

    def reload_files(self, paths: list[Path]) -> None:
        """Replace the rules with these files (the REPL's `.load`)."""
        program = load_program(list(paths))
        self.replace_rules(program, [(str(p), Path(p).read_text()) for p in paths])


class WriteStats:
    """Batches of facts written into the serving engine: how many, and how long they held
    it (a write goes before every waiting query: this is what a query can wait behind)."""

    def __init__(self):
        self.batches = self.events = 0
        self.seconds = 0.0

    def note(self, events: int, seconds: float) -> None:
        self.batches += 1
        self.events += events
        self.seconds += seconds

    def to_json(self) -> dict:
        return {"batches": self.batches, "events": self.events,
                "ms": round(self.seconds * 1000, 3)}


def _earliest(engine, taken) -> dict[str, int]:
    """The earliest valid time of the new facts of each event relation in a batch."""
    relations = engine.relations()
    found = {}
    for name, rows, _ in taken:
        column = relations[name].time_column
        if rows:
            found[name] = min(row[column] for row in rows) if column is not None else -2**63
    return found
