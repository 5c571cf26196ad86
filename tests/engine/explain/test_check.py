"""Engine.check on a small simulation with planted violations: first times agree with a
tick-by-tick scan (big_position can heal), proofs reach the events, `since` keeps only
newer answers; both backends."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from engine.analysis import load_program
from engine.lang import pretty
from sim import load_config, open_store, replay, simulate

PLANTED = Path(__file__).parents[2] / "rules" / "planted.dl"
TICKS = 150


@cache
def events():
    return tuple(simulate(load_config(ticks=TICKS)))


@pytest.fixture
def store(tmp_path):
    with open_store(str(tmp_path / "events.db"), create=True) as store:
        store.append(list(events()))
        yield store


@pytest.fixture
def engine(engine_factory, store):
    engine = engine_factory(load_program([PLANTED]))
    replay(store, engine)
    return engine


def event_at(store):
    return lambda seq: next(iter(store.read(from_seq=seq, to_seq=seq)), None)


def first_tick_scan(engine, body: str) -> int | None:
    """The first tick at which the body has an answer, by asking at every tick."""
    for tick in range(TICKS + 1):
        if engine.query(body, as_of=tick).rows:
            return tick
    return None


def test_check_reports_each_invariant(engine, store):
    report = engine.check(events=event_at(store))
    by_name = {r.name: r for r in report.results}
    assert list(by_name) == ["no_wash_trades", "big_trade", "big_position", "non_positive_qty"]
    assert not report.ok and by_name["non_positive_qty"].holds
    assert [r.name for r in report.violated] == ["no_wash_trades", "big_trade", "big_position"]
    for result in report.violated:
        body = engine.program.invariants[[i.name for i in engine.program.invariants]
                                         .index(result.name)].body
        text = pretty.body(body)
        answers = engine.query(text).rows
        assert result.count == len({row for row in answers}) > 0
        assert result.where == f"{PLANTED}:{body[0].pos.line}"
        assert result.first_time == first_tick_scan(engine, text)  # exact, healing or not
        leaves = result.proof.leaves()
        assert leaves and all(leaf.kind == "event" for leaf in leaves)
        for leaf in leaves:
            stored = event_at(store)(leaf.seq)
            assert leaf.event_id == stored.event_id and leaf.time == stored.time
        assert max(leaf.time for leaf in leaves) <= result.first_time


def test_check_json_is_the_documented_shape(engine):
    report = json.loads(json.dumps(engine.check().to_json()))
    assert report["ok"] is False and report["invariants"] == 4 and report["violated"] == 3
    wash = report["results"][0]
    assert wash["name"] == "no_wash_trades" and wash["line"] == 6
    assert wash["count"] == len(wash["answers"]) + wash["more"]
    assert isinstance(wash["first_time"], int)
    proof = wash["proof"]
    assert proof["kind"] == "query" and proof["rule"]["line"] == 6
    event = proof["children"][0]["children"][0]
    assert event["kind"] == "event" and set(event) >= {"seq", "event_id", "time", "fact"}
    assert report["results"][3] == {"name": "non_positive_qty", "path": str(PLANTED),
                                    "line": 9, "rule": report["results"][3]["rule"],
                                    "holds": True, "count": 0}


def test_check_since_counts_only_answers_that_became_true_later(engine):
    whole = {r.name: r for r in engine.check().results}["no_wash_trades"]
    since = 100
    later = {r.name: r for r in engine.check(since=since).results}["no_wash_trades"]
    before = engine.query("self_trade(tr, c, s, q, p, t)", as_of=since).rows
    assert later.count == whole.count - len(before) > 0
    assert later.first_time > since
    assert later.first_time == min(row[-1] for row in engine.query(
        "self_trade(tr, c, s, q, p, t)").rows if row not in before)
    assert engine.check(as_of=10).ok  # nothing planted has happened by tick 10


def test_check_of_a_program_without_invariants_is_ok(engine_factory):
    engine = engine_factory(".event e(x: number, t: time)\n.decl p(x: number)\np(x) :- e(x, _).")
    report = engine.check()
    assert report.ok and report.results == () and "0 invariants" in report.render()
