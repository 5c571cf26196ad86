"""Engine.submit: a prepared query as of a time handed to the Prolog thread without waiting,
its outcome given to a callback; anything else is left to query()."""

from __future__ import annotations

import threading

import pytest

from engine import QueryCancelled, QueryTimeout
from engine.analysis import program_from_source
from engine.backends.swipl.backend import SwiplEngine

PROGRAM = ".decl e(x: number)\n" + "".join(f"e({i}).\n" for i in range(2000)) + (
    ".decl small(x: number)\nsmall(x) :- e(x), x < 3.\n")
RUNAWAY = "e(a), e(b), e(c), a + b + c < {n}"  # 8e9 combinations: only a limit or
# an interrupt ends it (every answer is asked for, sorted)


class Outcome:
    """A callback that remembers its (result, error) and the thread it was called on."""

    def __init__(self):
        self.called = threading.Event()

    def __call__(self, result, error):
        self.result, self.error, self.thread = result, error, threading.current_thread()
        self.called.set()

    def wait(self):
        assert self.called.wait(60), "the callback was never called"
        return self


@pytest.fixture(scope="module")
def engine():
    engine = SwiplEngine(program_from_source(PROGRAM))
    yield engine
    engine.close()


def test_only_a_prepared_query_as_of_a_time_is_submitted(engine):
    outcome = Outcome()
    assert not engine.submit("small(x), x > 0", as_of=5, done=outcome)  # never compiled
    assert engine.query("small(x), x > 0", as_of=5).rows == ((1,), (2,))
    assert not engine.submit("small(x), x > 1", as_of=None, done=outcome)  # "now"
    assert not outcome.called.is_set()  # nothing was queued
    assert engine.submit("small(x), x > 1", as_of=5, done=outcome)  # the same shape
    outcome.wait()
    assert outcome.error is None and outcome.result.rows == ((2,),)
    assert outcome.result == engine.query("small(x), x > 1", as_of=5)
    assert outcome.thread.name == "tempolog-prolog" and outcome.result.waited_ms >= 0


def test_a_submitted_query_past_its_limit_reports_the_timeout(engine):
    with pytest.raises(QueryTimeout):
        engine.query(RUNAWAY.format(n=0), as_of=1, timeout=0.2)  # compiles the shape
    outcome = Outcome()
    assert engine.submit(RUNAWAY.format(n=1), as_of=1, timeout=0.2, done=outcome)
    assert isinstance(outcome.wait().error, QueryTimeout) and outcome.result is None
    assert engine.query("small(x)", as_of=1).rows == ((0,), (1,), (2,))


def test_an_interrupt_cancels_the_submitted_queries_running_and_waiting(engine):
    running, waiting = Outcome(), Outcome()
    assert engine.submit(RUNAWAY.format(n=2), as_of=1, timeout=60, done=running)
    assert engine.submit(RUNAWAY.format(n=3), as_of=2, timeout=60, done=waiting)
    assert engine.interrupt()
    for outcome in (running.wait(), waiting.wait()):
        assert isinstance(outcome.error, QueryCancelled)
    assert engine.query("small(x)", as_of=3).rows == ((0,), (1,), (2,))
