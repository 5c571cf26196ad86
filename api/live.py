"""An engine that follows an event store: replays it, then tails it, and swaps rule sets."""

from __future__ import annotations

import logging
import threading
import time
from itertools import islice
from pathlib import Path

from engine import Program, engine_from_files, load_program, open_engine, program_from_source
from sim import FactBatch, envelope_of, open_store

log = logging.getLogger("tempolog.live")

READ_BATCH = 20_000  # events per read of the store while catching up
POLL_SECONDS = 0.1  # how often a store without wait_for_append is asked for new events


class LiveEngine:
    """The facts of every event in `store`, kept current.

    `catch_up()` asserts the events after `applied_seq`; `follow()` starts a thread that
    does so whenever the store grows (through `wait_for_append` where the store has it,
    else by polling its reads), so events appended by another process become facts within
    a fraction of a second. `replace_rules` builds a new engine beside the serving one and
    swaps it in only once it holds every event: a bad rule set never stops the old one."""

    def __init__(self, store, rule_paths: list[Path], *, backend: str | None = None):
        self.store = store
        self.store_lock = threading.RLock()  # one connection, shared by every thread
        self.backend = backend
        self.rule_sources = [(str(p), Path(p).read_text()) for p in rule_paths]
        self.rules_dir = Path(rule_paths[0]).parent if rule_paths else Path(".")
        self.engine = engine_from_files(rule_paths, backend)
        self.applied_seq = 0
        self.applied_at = time.monotonic()
        self._apply_lock = threading.Lock()  # one writer of facts at a time
        self._retired = None  # the engine replaced last: closed at the next swap, not at
        # once, so queries still running on it finish
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: str | None = None  # the last failure of the tailer, for /health
        self.catch_up()

    # ---- facts from events ---------------------------------------------------------

    def _feed(self, engine, after_seq: int) -> int:
        """Assert the events after `after_seq` into `engine`; the last seq asserted."""
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
            if taken:
                engine.assert_many({rel: (rows, seqs) for rel, rows, seqs in taken})
            if facts:
                after_seq = facts[-1][0]
            if len(facts) < READ_BATCH:
                return after_seq

    def catch_up(self) -> int:
        """Assert every event the store has beyond `applied_seq`; the new applied seq."""
        with self._apply_lock:
            self.applied_seq = self._feed(self.engine, self.applied_seq)
            self.applied_at = time.monotonic()
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
                    self._stop.wait(POLL_SECONDS)
                self.catch_up()
                self.error = None
            except Exception as error:  # noqa: BLE001 - kept for /health, retried
                self.error = f"{type(error).__name__}: {error}"
                log.exception("tailing the store failed; retrying")
                self._stop.wait(1.0)

    def close(self) -> None:
        self._stop.set()
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
                old, self.engine = self.engine, engine
                self.applied_seq = seq
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
