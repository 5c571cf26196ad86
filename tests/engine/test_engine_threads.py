"""Many threads: 8 query while another asserts; every answer is correct and none is lost."""

from __future__ import annotations

import threading

import pytest

from engine.errors import QueryTimeout

LEDGER = """
.event deposit(account: symbol, amount: number, t: time)
balance(a, n) :- deposit(a, _, _), n = sum x : { deposit(a, x, _) }.
deposits(a, n) :- deposit(a, _, _), n = count : { deposit(a, _, _) }.
total(n) :- n = sum x : { deposit(_, x, _) }.
"""
ACCOUNTS = 4
BATCHES = 30  # batch b deposits b+1 into every account, at time b


def test_eight_readers_and_one_writer(engine_factory):
    ledger = engine_factory(LEDGER)
    # What the readers may see after k batches: every answer must be one of these.
    balance_after = {k: sum(range(1, k + 1)) for k in range(BATCHES + 1)}
    errors: list[str] = []
    answered = [0] * 8
    writer_done = threading.Event()

    def writer() -> None:
        for b in range(BATCHES):
            ledger.assert_facts("deposit", [(f"a{i}", b + 1, b) for i in range(ACCOUNTS)])
        writer_done.set()

    def reader(n: int) -> None:
        while True:
            done = writer_done.is_set()
            rows = ledger.query("balance(a, n), deposits(a, k)").rows
            # one consistent state: every account after the same number of batches
            states = {(bal, k) for _, bal, k in rows}
            if rows and (len(states) != 1 or len(rows) != ACCOUNTS):
                errors.append(f"reader {n} saw a torn state {rows}")
            for _, bal, k in rows:
                if balance_after.get(k) != bal:
                    errors.append(f"reader {n}: {k} deposits but balance {bal}")
            past = ledger.query("total(n)", as_of=9).rows
            if rows and rows[0][2] >= 10 and past != ((ACCOUNTS * balance_after[10],),):
                errors.append(f"reader {n}: total as of 9 was {past}")
            answered[n] += 1
            if done:
                return

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(8)]
    threads.append(threading.Thread(target=writer))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert all(count > 0 for count in answered), answered
    final = ledger.query("balance(a, n)").rows
    assert final == tuple((f"a{i}", balance_after[BATCHES]) for i in range(ACCOUNTS))


def test_many_threads_same_query_same_answer(engine_factory):
    ledger = engine_factory(LEDGER, {"deposit": [(f"a{i % 3}", i, i) for i in range(60)]})
    expected = ledger.query("balance(a, n)").rows
    results: list[tuple] = []
    lock = threading.Lock()

    def ask() -> None:
        for as_of in (None, 30, 59):
            rows = ledger.query("balance(a, n)", as_of=as_of).rows
            with lock:
                results.append((as_of, rows))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 24
    assert all(rows == expected for as_of, rows in results if as_of in (None, 59))
    at_30 = {rows for as_of, rows in results if as_of == 30}
    assert len(at_30) == 1


def test_a_query_past_its_timeout_raises_and_the_next_is_answered(engine_factory):
    graph = engine_factory(".decl edge(a: number, b: number)\n"
                           "linked(x, z) :- edge(x, y), edge(y, z).\n",
                           {"edge": [(i, i + 1) for i in range(300)]})
    # 27 million combinations, each with arithmetic: far beyond the limit on any backend
    runaway = "edge(a, _), edge(b, _), edge(c, _), s = a + b + c, s > 10000"
    with pytest.raises(QueryTimeout) as timeout:
        graph.query(runaway, timeout=0.2)
    assert timeout.value.code == "query-timeout"
    assert graph.query("linked(0, z)").rows == ((2,),)
    assert graph.query("edge(299, y)").rows == ((300,),)
