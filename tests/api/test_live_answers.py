"""The live engine's answer cache: an answer is given again until an event can change it."""

from __future__ import annotations

import random
import threading
from pathlib import Path

import pytest

from api.answers import AnswerCache
from api.live import LiveEngine
from api.query import Answer, run_query
from engine import QueryError
from sim import open_store

RULES = [Path(__file__).resolve().parents[2] / "rules" / "trading.dl"]
PRICES = 'price_updated("AAPL", p, t)'
ORDERS = 'order_submitted(o, c, "AAPL", s, q, p, tif, x, t)'
POSITION = 'current_position(c, "AAPL", q, a, r)'


@pytest.fixture(scope="module")
def live(small_store):
    store = open_store(small_store)
    live = LiveEngine(store, RULES)
    yield live
    live.close()
    store.close()


def price(live, value: int, time: int) -> int:
    """An AAPL price at `time`, in a stream of its own (times never go back in a stream)."""
    with live.store_lock:
        [seq] = live.store.append([{"type": "PriceUpdated", "time": time,
                                    "stream_id": f"market-AAPL-{value}-{time}",
                                    "payload": {"symbol": "AAPL", "price": value}}])
    return seq


def test_an_answer_is_given_again_until_an_event_it_reads_arrives(live):
    first, _ = live.query(PRICES)
    again, _ = live.query(PRICES + ".")  # the same query, typed with its final '.'
    assert not first.cached and again.cached and again.rows == first.rows
    orders, _ = live.query(ORDERS)
    late = price(live, 12_345, 10**6)
    live.catch_up()
    assert live.query(ORDERS)[0].cached  # a price cannot change the orders
    fresh, seq = live.query(PRICES)
    assert seq == late and not fresh.cached and (12_345, 10**6) in fresh.rows


def test_an_as_of_answer_stands_until_an_event_at_or_before_its_time(live):
    past, _ = live.query(PRICES, as_of=60)
    price(live, 1, 10**6 + 1)  # after the as-of time: changes nothing at 60
    live.catch_up()
    assert live.query(PRICES, as_of=60)[0].cached
    price(live, 2, 60)  # a late event, at the as-of time: the answer changes
    live.catch_up()
    changed, _ = live.query(PRICES, as_of=60)
    assert not changed.cached and set(changed.rows) == set(past.rows) | {(2, 60)}


def test_cached_answers_are_the_engines_answers_after_any_appends(live):
    rng = random.Random(7)
    queries = [(text, as_of) for text in (PRICES, ORDERS, POSITION)
               for as_of in (None, 40, 100, 149)]
    for round_ in range(12):
        for text, as_of in queries:
            answer, _ = live.query(text, as_of=as_of)
            truth = run_query(live.engine, text, as_of=as_of)
            assert answer.rows == truth.rows, (round_, text, as_of, answer.cached)
        price(live, rng.randint(1, 99_999), rng.choice([30, 100, 140, 10**6 + round_]))
        live.catch_up()
    assert live.answers.hits > 0


def test_after_seq_waits_for_the_engine_and_refuses_a_seq_past_the_head(live):
    seq = price(live, 777, 10**7)  # not caught up: the tailer does not run here
    with pytest.raises(QueryError, match="past the store's head"):
        live.query(PRICES, after_seq=seq + 1)
    live.appended()
    live.catch_up()
    answer, basis = live.query(PRICES, after_seq=seq)
    assert basis >= seq and (777, 10**7) in answer.rows


def test_now_as_of_the_end_of_time_is_the_engines_now_for_every_relation(live):
    for name, relation in sorted(live.engine.relations().items()):
        if relation.arity == 0:
            continue
        text = f"{name}({', '.join(f'v{i}' for i in range(relation.arity))})"
        served, _ = live.query(text, timeout=30)
        assert served.as_of is None
        assert served.rows == run_query(live.engine, text, timeout=30).rows, name


def test_the_cache_keeps_a_bounded_number_of_rows(live):
    cache = AnswerCache(live.engine.program, size=3, rows=80)
    answers = {n: Answer(PRICES, ("p",), tuple((i,) for i in range(n)), 1.0) for n in (5, 11)}
    cache.put((PRICES, 1, None), answers[11])  # over an eighth of the budget: not kept
    assert cache.get((PRICES, 1, None)) is None
    for as_of in range(6):
        cache.put((PRICES, as_of, None), answers[5])
    assert len(cache) == 3 and cache.rows == 15  # the three asked last
    assert cache.get((PRICES, 5, None)) is answers[5] and cache.get((PRICES, 0, None)) is None
    cache.invalidate({"price_updated": 4})
    assert len(cache) == 1 and cache.rows == 5  # as of 3 stands; 4 and 5 see the fact at 4


def test_cached_gives_a_kept_answer_without_waiting_and_nothing_else(live):
    query = 'price_updated("AAPL", p, t), t < 30'
    assert live.cached(query, as_of=40) is None  # nothing kept yet: the caller asks
    misses = live.answers.misses
    computed, seq = live.query(query, as_of=40, look_up=False)
    assert live.answers.misses == misses  # the caller's look-up was the one miss
    kept, kept_seq = live.cached(query + ".", as_of=40)
    assert kept.cached and kept.rows == computed.rows and kept_seq >= seq
    assert live.cached(query, as_of=40, limit=1) is None  # another limit, another answer
    ahead = live.applied_seq + 1
    assert live.cached(query, as_of=40, after_seq=ahead) is None  # would have to wait
    assert live.cached(query, as_of=40, after_seq=live.applied_seq) is not None


def test_an_answer_computed_before_a_write_is_not_kept_after_it(live):
    cache = AnswerCache(live.engine.program)
    answer = run_query(live.engine, PRICES, as_of=61)
    cache.put((PRICES, 61, None), answer, stale=lambda: True)  # a batch came meanwhile
    assert len(cache) == 0
    cache.put((PRICES, 61, None), answer, stale=lambda: False)
    assert len(cache) == 1 and cache.knows(PRICES) and not cache.knows(ORDERS)


def test_submit_hands_over_only_a_text_asked_before(live):
    text, outcome, called = 'price_updated("MSFT", p, t), t > 3', {}, threading.Event()

    def done(found, error):
        outcome.update(found=found, error=error)
        called.set()

    assert not live.submit(text, as_of=62, done=done)  # never asked: analysed by a worker
    live.query(text, as_of=62)
    assert live.submit(text, as_of=63, done=done)
    assert called.wait(30) and outcome["error"] is None
    answer, seq = outcome["found"]
    assert answer.rows == run_query(live.engine, text, as_of=63).rows and not answer.cached
    assert seq <= live.applied_seq and answer.as_of == 63
    assert live.query(text, as_of=63)[0].cached  # the submitted answer was kept
