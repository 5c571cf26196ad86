"""Engine.interrupt stops the engine's own running or waiting query, and nothing else."""

from __future__ import annotations

import threading
import time

from engine import QueryCancelled
from engine.analysis import program_from_source
from engine.backends.swipl.backend import SwiplEngine

# Three-way joins of 2,000 numbers: 8e9 combinations, far longer than any test waits, so
# only an interrupt ends RUNAWAY.
PROGRAM = ".decl e(x: number)\n" + "".join(f"e({i}).\n" for i in range(2000)) + (
    ".decl small(x: number)\nsmall(x) :- e(x), x < 3.\n")
RUNAWAY = "e(a), e(b), e(c), a + b + c < 0"


def _engine() -> SwiplEngine:
    return SwiplEngine(program_from_source(PROGRAM))


def _asked(engine, text: str) -> tuple[threading.Thread, dict]:
    outcome: dict = {}

    def ask() -> None:
        try:
            outcome["answer"] = engine.query(text, timeout=120)
        except QueryCancelled as error:
            outcome["cancelled"] = error

    thread = threading.Thread(target=ask)
    thread.start()
    return thread, outcome


def _interrupt_once_running(engine) -> None:
    deadline = time.monotonic() + 60
    while not engine.interrupt():  # False until the query is queued or running
        assert time.monotonic() < deadline, "the query never started"
        time.sleep(0.05)


def test_a_running_query_stops_and_the_engine_answers_after_it():
    engine, bystander = _engine(), _engine()
    try:
        thread, outcome = _asked(engine, RUNAWAY)
        time.sleep(0.5)
        assert not bystander.interrupt()  # another engine's query is not its to stop
        _interrupt_once_running(engine)
        engine.interrupt()  # a second Ctrl-C: the same one cancellation
        thread.join(30)
        assert not thread.is_alive() and outcome["cancelled"].code == "query-cancelled"
        assert not engine.interrupt()  # nothing runs now
        # No interrupt is left over for the next query, of this engine or another.
        assert engine.query("small(x)").rows == ((0,), (1,), (2,))
        assert bystander.query("small(x)").rows == ((0,), (1,), (2,))
    finally:
        engine.close()
        bystander.close()


def test_a_query_waiting_behind_another_is_dropped_before_it_runs():
    slow, waiting = _engine(), _engine()
    try:
        running, first = _asked(slow, RUNAWAY)
        time.sleep(0.5)
        queued, second = _asked(waiting, "small(x)")
        _interrupt_once_running(waiting)  # queued behind `slow`'s query
        queued.join(30)
        assert "cancelled" in second and running.is_alive()
        _interrupt_once_running(slow)
        running.join(30)
        assert "cancelled" in first
    finally:
        slow.close()
        waiting.close()
