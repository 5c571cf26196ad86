"""The one OS thread that owns SWI-Prolog; callers on any thread hand it their requests."""

from __future__ import annotations

import atexit
import ctypes
import json
import logging
import signal
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.errors import BackendUnavailable, QueryCancelled, QueryError, QueryTimeout

# pyswip is not thread-safe, every OS thread touching Prolog gets an engine of its own that
# is never freed, and tables are private to a thread (SWI-NOTES traps 3, 4). So one thread
# imports pyswip, owns every Prolog call and serves a queue. Requests go through one entry
# predicate, tempolog_rt:tl_entry/3, opened with the flags of pyswip's catcherrors=True
# (PL_Q_NODEBUG | PL_Q_CATCH_EXCEPTION); it catches every error and answers JSON built in
# Prolog: ~20x cheaper than pyswip's term conversion, and exact for big integers and Unicode
# (trap 8).
#
# Two queues, not one FIFO: an urgent request (writing facts) is served before every waiting
# ordinary one (queries), so a writer waits for at most the request that is running, however
# many readers queue; in one FIFO it waited behind all of them, and ingest fell behind the
# store under query load (issue 14, item 7). Readers are not starved in turn: a writer hands
# over one batch at a time and prepares the next (reading the store, encoding its rows) while
# queries run.

RUNTIME = Path(__file__).with_name("runtime.pl")
STACK_LIMIT = 1024**3  # bytes of Prolog stacks per thread
TABLE_SPACE = 1024**3  # bytes of tables per thread (both SWI-Prolog's defaults, made explicit)

Call = Callable[[str, str], Any]  # (goal text, argument text) -> parsed JSON answer


# Interrupting a running query: PL_thread_raise marks this signal pending in the Prolog
# thread, from any OS thread and without a Prolog engine of its own; Prolog takes it at the
# next safe point and runtime.pl's handler throws, but only inside a query (tl_search).
INTERRUPT = signal.SIGUSR1
PL_CLEANUP_NO_RECLAIM_MEMORY = 0x10000  # SWI-Prolog.h: PL_cleanup() exits without freeing


Done = Callable[[Any, "BaseException | None"], None]  # (result, error) of a submitted fn


class _Job:
    __slots__ = ("fn", "owner", "cancelled", "result", "error", "done", "then", "freeing")

    def __init__(self, fn: Callable[[Call], Any], owner: object = None, then: Done | None = None,
                 freeing: bool = False):
        self.fn = fn
        self.owner = owner
        self.freeing = freeing  # it only frees memory: at exit it need not run
        self.cancelled = False
        self.result: Any = None
        self.error: BaseException | None = None
        self.then = then  # called with the outcome; else the waiting caller is woken
        self.done = threading.Lock()
        self.done.acquire()

    def finish(self) -> None:
        if self.then is None:
            self.done.release()
            return
        try:
            self.then(self.result, self.error)
        except BaseException:  # noqa: BLE001 - a caller's callback never stops the thread
            logging.getLogger("tempolog").exception("a query's callback failed")


def _failure_logged(_result: Any, error: BaseException | None) -> None:
    if error is not None:
        logging.getLogger("tempolog").warning("freeing a closed engine failed: %s", error)


class PrologThread:
    """The process's SWI-Prolog, behind one thread. `PrologThread.shared()` starts it once."""

    _shared: PrologThread | None = None
    _failure: BackendUnavailable | None = None  # SWI-Prolog could not start: do not retry
    _shared_lock = threading.Lock()

    @classmethod
    def shared(cls) -> PrologThread:
        """The running thread; raises BackendUnavailable when SWI-Prolog cannot start."""
        with cls._shared_lock:
            if cls._failure is not None:
                raise cls._failure
            if cls._shared is None:
                try:
                    cls._shared = cls()
                except BackendUnavailable as error:
                    cls._failure = error
                    raise
            return cls._shared

    def __init__(self) -> None:
        self._urgent: deque[_Job] = deque()
        self._ordinary: deque[_Job | None] = deque()  # None: stop, after what is queued
        self._queued = threading.Condition(threading.Lock())
        self._running: _Job | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, name="tempolog-prolog", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._startup_error is not None:
            raise BackendUnavailable(
                f"SWI-Prolog could not start: {self._startup_error}") from self._startup_error
        # Registered after pyswip's own atexit hook, so it runs first: Prolog is shut down
        # by the thread that owns it, while that thread still exists.
        atexit.register(self.stop)

    @property
    def ident(self) -> int | None:
        return self._thread.ident

    # ---- for callers (any thread)

    def run(self, fn: Callable[[Call], Any], *, urgent: bool = False,
            owner: object = None) -> Any:
        """Run `fn(call)` on the Prolog thread; `call(goal, arg)` makes one request. Requests
        of one `fn` run back to back: no other caller's request comes between them. An
        `urgent` fn (a write) runs before every ordinary one that is waiting. A query run
        for an `owner` can be stopped by `interrupt(owner)`."""
        if threading.current_thread() is self._thread:
            return fn(self._call)
        if not self._thread.is_alive():
            raise BackendUnavailable("the SWI-Prolog thread has stopped")
        job = _Job(fn, owner)
        self._put(job, urgent)
        job.done.acquire()
        if job.error is not None:
            raise job.error
        return job.result

    def submit(self, fn: Callable[[Call], Any], then: Done, *, owner: object = None) -> None:
        """Queue `fn(call)` as an ordinary request and return at once; `then(result, error)`
        is called on the Prolog thread when it has run (keep it short: queries wait), or on
        the thread of `interrupt` when that drops it before it ran (so it must not wait for
        Prolog either way)."""
        if not self._thread.is_alive():
            raise BackendUnavailable("the SWI-Prolog thread has stopped")
        self._put(_Job(fn, owner, then), False)

    def release(self, goal: str) -> None:
        """Queue a request that only frees memory (a closed engine's module) and return at
        once. At exit one still waiting is dropped unrun: the process's memory goes with it,
        and freeing the default run's engine took 1.2-1.7 s of a one-shot command."""
        if self._thread.is_alive():
            self._put(_Job(lambda call: call(goal, ""), then=_failure_logged, freeing=True), False)

    def request(self, goal: str, arg: str = "", *, owner: object = None) -> Any:
        """One request: `goal` is a callable term text, called as `call(Goal, Arg, Json)`."""
        return self.run(lambda call: call(goal, arg), owner=owner)

    def interrupt(self, owner: object) -> bool:
        """Stop `owner`'s queries: a waiting one is dropped, the running one is stopped at
        its next step; each raises QueryCancelled. False when `owner` had none."""
        cancelled = QueryCancelled("the query was cancelled")
        with self._queued:
            dropped = [job for job in self._ordinary if job is not None and job.owner is owner]
            for job in dropped:
                self._ordinary.remove(job)
                job.error = cancelled
                job.finish()
            running = self._running
            if running is not None and running.owner is owner and not running.cancelled:
                running.cancelled = True
                self._lib.PL_thread_raise(self._prolog_id, INTERRUPT)
                return True
        return bool(dropped)

    def waiting(self) -> tuple[int, int]:
        """How many (urgent, ordinary) requests wait for the thread (for tests and /stats)."""
        with self._queued:
            return len(self._urgent), len(self._ordinary)

    def stop(self) -> None:
        if self._thread.is_alive():
            with self._queued:
                for job in [job for job in self._ordinary if job is not None and job.freeing]:
                    self._ordinary.remove(job)
            self._put(None, False)
            self._thread.join(timeout=10)

    def _put(self, job: _Job | None, urgent: bool) -> None:
        with self._queued:
            (self._urgent if urgent else self._ordinary).append(job)
            self._queued.notify()

    def _next(self) -> _Job | None:
        with self._queued:
            while not self._urgent and not self._ordinary:
                self._queued.wait()
            job = self._urgent.popleft() if self._urgent else self._ordinary.popleft()
            self._running = job
            return job

    def _finished(self) -> None:
        with self._queued:
            cancelled = self._running is not None and self._running.cancelled
            self._running = None
        if cancelled:
            # Take a signal that came after the query's last step now, while no query runs
            # (the handler drops it), not in the next caller's query.
            self._lib.PL_handle_signals()

    # ---- inside the thread

    def _serve(self) -> None:
        try:
            self._start()
        except BaseException as error:  # noqa: BLE001 - reported to the starting caller
            self._startup_error = error
            self._ready.set()
            return
        self._ready.set()
        while (job := self._next()) is not None:
            try:
                job.result = job.fn(self._call)
            except BaseException as error:  # noqa: BLE001 - handed back to the caller
                job.error = error
            finally:
                self._finished()
                job.finish()
        # At exit the process's memory goes with it: freeing every clause, table and atom
        # first took 1.6-1.8 s after the default run's replay.
        self._core.PL_cleanup(PL_CLEANUP_NO_RECLAIM_MEMORY)

    def _start(self) -> None:
        # Importing pyswip initialises SWI-Prolog in this thread.
        from pyswip import Prolog, core

        self._core = core
        self._lib = core._lib  # the C API pyswip loaded, for PL_thread_raise
        self._lib.PL_thread_raise.argtypes = [ctypes.c_int, ctypes.c_int]
        self._prolog_id = self._lib.PL_thread_self()
        # Never open the debugger on an error: it reads stdin and, at EOF, exits the whole
        # process with status 4 (SWI-NOTES trap 1).
        list(Prolog.query("set_prolog_flag(debug_on_error, false)", catcherrors=True))
        list(Prolog.query("set_prolog_flag(report_error, false)", catcherrors=True))
        # Deliberate limits: a runaway evaluation stops with a resource error that names
        # what ran out (a QueryError), before it takes the machine's memory.
        for flag, value in (("stack_limit", STACK_LIMIT), ("table_space", TABLE_SPACE)):
            list(Prolog.query(f"set_prolog_flag({flag}, {value})", catcherrors=True))
        runtime = str(RUNTIME).replace("\\", "\\\\").replace("'", "\\'")
        list(Prolog.query(f"load_files('{runtime}', [silent(true)])", catcherrors=True))
        self._entry = core.PL_predicate("tl_entry", 3, "tempolog_rt")
        if self._call("tl_call_json(true)", "") != {"ok": True}:
            raise RuntimeError(f"the runtime {RUNTIME} did not load")

    def _call(self, goal: str, arg: str) -> Any:
        """Call tl_entry(Goal, Arg, Json) and parse its JSON; errors become TempologErrors."""
        core = self._core
        frame = core.PL_open_foreign_frame()
        try:
            terms = core.PL_new_term_refs(3)
            goal_bytes, arg_bytes = goal.encode("utf-8"), arg.encode("utf-8")
            core.PL_put_chars(terms, core.PL_STRING | core.REP_UTF8, len(goal_bytes), goal_bytes)
            core.PL_put_chars(terms + 1, core.PL_STRING | core.REP_UTF8, len(arg_bytes), arg_bytes)
            flags = core.PL_Q_NODEBUG | core.PL_Q_CATCH_EXCEPTION
            query = core.PL_open_query(None, flags, self._entry, terms)
            try:
                text = None
                if core.PL_next_solution(query):
                    out = core.c_char_p()
                    if core.PL_get_chars(terms + 2, core.byref(out),
                                         core.CVT_STRING | core.REP_UTF8 | core.BUF_STACK):
                        text = out.value.decode("utf-8")
            finally:
                core.PL_cut_query(query)
        finally:
            core.PL_discard_foreign_frame(frame)
        if text is None:
            raise QueryError("SWI-Prolog gave no answer to a request", code="prolog-error")
        answer = json.loads(text)
        if isinstance(answer, dict) and "error" in answer:
            if answer["error"] == "timeout":
                raise QueryTimeout(answer["message"])
            if answer["error"] == "cancelled":
                raise QueryCancelled(answer["message"])
            if answer["error"] == "resource":
                raise QueryError(answer["message"], code="resource-exhausted")
            raise QueryError(f"SWI-Prolog: {answer['message']}", code="prolog-error")
        return answer
