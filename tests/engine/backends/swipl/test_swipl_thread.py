"""The Prolog thread serves writes before waiting queries, so ingest keeps up under load."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from engine.analysis import program_from_source
from engine.backends.swipl.backend import SwiplEngine
from engine.backends.swipl.thread import PrologThread

PROLOG = PrologThread.shared()
LEDGER = """
.event deposit(account: symbol, amount: number, t: time)
total(n) :- n = sum x : { deposit(_, x, _) }.
"""


class Held:
    """Occupies the Prolog thread until released, so that requests queue behind it."""

    def __init__(self):
        self.started, self.gate = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=PROLOG.run, args=(self._hold,))

    def _hold(self, call) -> None:
        self.started.set()
        assert self.gate.wait(60), "never released"

    def __enter__(self) -> Held:
        self.thread.start()
        assert self.started.wait(60)
        return self

    def __exit__(self, *exc) -> None:
        self.gate.set()
        self.thread.join()


def _until(condition, what: str) -> None:
    deadline = time.monotonic() + 60  # a guard against a hang, not a timing
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.005)


def test_an_urgent_request_runs_before_every_waiting_ordinary_one():
    order: list[str] = []
    with Held():
        queries = [threading.Thread(target=PROLOG.run,
                                    args=(lambda call, i=i: order.append(f"query {i}"),))
                   for i in range(8)]
        for thread in queries:
            thread.start()
        _until(lambda: PROLOG.waiting() == (0, 8), "the queries never queued")
        write = threading.Thread(target=PROLOG.run, args=(lambda call: order.append("write"),),
                                 kwargs={"urgent": True})
        write.start()
        _until(lambda: PROLOG.waiting() == (1, 8), "the write never queued")
    for thread in [*queries, write]:
        thread.join()
    assert order[0] == "write"
    assert sorted(order[1:]) == sorted(f"query {i}" for i in range(8))


def test_facts_written_while_eight_queries_wait_are_in_all_their_answers():
    ledger = SwiplEngine(program_from_source(LEDGER, "ledger.dl"))
    try:
        ledger.assert_facts("deposit", [("a", 5, 1)])
        assert ledger.query("total(n)").rows == ((5,),)  # compiled and evaluated once
        answers: list[tuple] = []
        with Held():
            readers = [threading.Thread(
                target=lambda: answers.append(ledger.query("total(n)", timeout=None).rows))
                for _ in range(8)]
            for thread in readers:
                thread.start()
            _until(lambda: PROLOG.waiting() == (0, 8), "the queries never queued")
            writer = threading.Thread(target=ledger.assert_facts,
                                      args=("deposit", [("b", 7, 2)]))
            writer.start()
            _until(lambda: PROLOG.waiting() == (1, 8), "the write never queued")
        for thread in [*readers, writer]:
            thread.join()
        # In one FIFO every query, queued first, would have answered 5.
        assert answers == [((12,),)] * 8
    finally:
        ledger.close()


EXITING = """
import sys, threading
from engine.backends.swipl.thread import PrologThread

prolog = PrologThread.shared()
started = threading.Event()
busy = threading.Thread(target=prolog.run, daemon=True,
                        args=(lambda call: (started.set(), call("tl_call_json(sleep(1))", "")),))
busy.start()
started.wait(30)
prolog.release("tl_call_json((open(%r, write, S), close(S)))" % sys.argv[1])
if sys.argv[2] == "wait":
    prolog.request("tl_call_json(true)")  # after what was queued before it
"""  # and then the process exits


def test_freeing_runs_in_turn_and_not_at_all_once_the_process_exits(tmp_path):
    root = Path(__file__).resolve().parents[4]
    for then, runs in (("wait", True), ("exit", False)):
        marker = tmp_path / f"freed-{then}"
        subprocess.run([sys.executable, "-c", EXITING, str(marker), then], cwd=root,
                       check=True, timeout=60)
        assert marker.exists() == runs, then
