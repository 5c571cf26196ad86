"""Engine snapshots on SWI-Prolog: a restored engine answers as the one dumped, and goes on."""

from __future__ import annotations

import random

import pytest

from engine import SnapshotRejected
from engine.analysis import program_from_source
from engine.backends.swipl import snapshot
from engine.backends.swipl.backend import SwiplEngine

# A timed view (filled), a prefix aggregate (filled_qty's sum per order), a negation kept
# key by key (open_order), recursion (replaced_by) and aggregates over derived relations.
PROGRAM = """
.event order_placed(order: symbol, client: symbol, sym: symbol, qty: number, t: time)
.event order_filled(order: symbol, qty: number, t: time)
.event order_cancelled(order: symbol, t: time)
.event order_replaced(old: symbol, new: symbol, t: time)
.decl desk(client: symbol, name: symbol)
desk("c0", "north").
desk("c1", "south").

filled(o) :- order_filled(o, _, _).
filled_qty(o, n) :- order_placed(o, _, _, _, _), n = sum q : { order_filled(o, q, _) }.
open_order(o, c, s) :- order_placed(o, c, s, q, _), filled_qty(o, f), f < q,
                       !order_cancelled(o, _).
replaced_by(a, b) :- order_replaced(a, b, _).
replaced_by(a, c) :- replaced_by(a, b), order_replaced(b, c, _).
open_count(c, n) :- order_placed(_, c, _, _, _), n = count : { open_order(_, c, _) }.
desk_open(d, o) :- desk(c, d), open_order(o, c, _).
"""
QUERIES = ["filled(o)", "filled_qty(o, n)", "open_order(o, c, s)", "replaced_by(a, b)",
           "open_count(c, n)", "desk_open(d, o)"]


def events(seed: int, first: int, orders: int) -> list[tuple[str, list[tuple]]]:
    """Batches of facts (relation, rows) for orders first..first+orders, times mostly rising."""
    rng = random.Random(seed)
    batches = []
    for i in range(first, first + orders):
        t = i + rng.randrange(5)
        qty = rng.randrange(2, 20)
        batch = [("order_placed", [(f"o{i}", f"c{rng.randrange(3)}", rng.choice("XY"), qty, t)])]
        for _ in range(rng.randrange(3)):
            batch.append(("order_filled", [(f"o{i}", rng.randrange(1, qty), t + rng.randrange(8))]))
        if rng.random() < 0.2:
            batch.append(("order_cancelled", [(f"o{i}", t + rng.randrange(1, 9))]))
        if i and rng.random() < 0.3:
            batch.append(("order_replaced", [(f"o{i - 1}", f"o{i}", t)]))
        batches.append(batch)
    return batches


def load(engine, batches, seq: int) -> int:
    """Assert the batches with rising seqs from `seq`; returns the next seq."""
    for batch in batches:
        for relation, rows in batch:
            engine.assert_facts(relation, rows, seqs=range(seq, seq + len(rows)))
            seq += len(rows)
    return seq


def answers(engine, as_of=None) -> dict[str, tuple]:
    return {q: engine.query(q, as_of=as_of, timeout=None).rows for q in QUERIES}


@pytest.fixture
def new_engine():
    engines = []

    def new(source: str = PROGRAM) -> SwiplEngine:
        engines.append(SwiplEngine(program_from_source(source)))
        return engines[-1]

    yield new
    for engine in engines:
        engine.close()


def module_state(engine) -> str:
    """The module's bottom-up state: clean, delta or full (now_state.py)."""
    found = engine._prolog.request(
        f"tl_call_json(nb_current('bu:{engine.module}', delta))")
    return "delta" if found["ok"] else "other"


def test_restore_then_the_rest_answers_as_a_full_load(new_engine):
    before, after = events(1, 0, 60), events(2, 60, 40)
    dumped = new_engine()
    seq = load(dumped, before, 1)
    answers(dumped)  # the now-state materialised before the snapshot
    answers(dumped, as_of=30)
    blob = dumped.dump_state()
    restored = new_engine()
    restored.restore_state(blob)
    assert answers(restored) == answers(dumped)
    full = new_engine()
    load(full, before + after, 1)
    load(restored, after[:20], seq)
    assert module_state(restored) == "delta"  # kept for an incremental step, not dropped
    next_seq = load(restored, after[20:], seq + sum(len(r) for b in after[:20] for _, r in b))
    assert answers(restored) == answers(full)
    for as_of in (0, 25, 61, 80, 200):
        assert answers(restored, as_of) == answers(full, as_of), f"as of {as_of}"
    # the seqs go on from where the dumped engine was
    assert restored._next_seq == next_seq


def test_a_relation_evaluated_before_the_snapshot_is_maintained_after_it(new_engine):
    dumped = new_engine()
    seq = load(dumped, events(3, 0, 30), 1)
    dumped.query("open_count(c, n)")  # its cone is materialised ('bu:done')
    restored = new_engine()
    restored.restore_state(dumped.dump_state())
    done = restored._prolog.request(f"tl_call_json({restored.module}:'bu:done'(_))")
    assert done == {"ok": True}
    restored.assert_facts("order_placed", [("late", "c1", "X", 5, 40)], seqs=[seq])
    restored.assert_facts("order_filled", [("o1", 1, 41)], seqs=[seq + 1])
    fresh = new_engine()
    load(fresh, events(3, 0, 30), 1)
    fresh.assert_facts("order_placed", [("late", "c1", "X", 5, 40)], seqs=[seq])
    fresh.assert_facts("order_filled", [("o1", 1, 41)], seqs=[seq + 1])
    assert answers(restored) == answers(fresh)
    assert restored.event_seqs("order_placed", [("late", "c1", "X", 5, 40)]) == {
        ("late", "c1", "X", 5, 40): seq}


def test_prefix_groups_are_renumbered_apart_from_other_engines(new_engine):
    dumped = new_engine()
    load(dumped, events(4, 0, 20), 1)
    blob = dumped.dump_state()
    restored = new_engine()
    restored.restore_state(blob)
    # both go on growing the same orders' groups: each keeps its own running sums
    dumped.assert_facts("order_filled", [("o3", 100, 90)], seqs=[10_000])
    restored.assert_facts("order_filled", [("o3", 7, 90)], seqs=[10_000])
    assert dumped.query('filled_qty("o3", n)', as_of=95).rows != restored.query(
        'filled_qty("o3", n)', as_of=95).rows
    assert restored.query('filled_qty("o3", n)', as_of=95).rows == (
        (dumped.query('filled_qty("o3", n)', as_of=95).rows[0][0] - 93,),)


def test_a_snapshot_of_another_program_is_refused_and_changes_nothing(new_engine):
    dumped = new_engine()
    load(dumped, events(5, 0, 10), 1)
    other = new_engine(PROGRAM.replace('desk("c1", "south").', 'desk("c1", "east").'))
    load(other, events(6, 0, 5), 1)
    before = answers(other)
    assert other.program_hash() != dumped.program_hash()
    with pytest.raises(SnapshotRejected, match="another program"):
        other.restore_state(dumped.dump_state())
    assert answers(other) == before
    assert new_engine().program_hash() == dumped.program_hash()  # same rules, same hash


def test_a_damaged_snapshot_is_refused(new_engine):
    dumped = new_engine()
    load(dumped, events(7, 0, 10), 1)
    blob = bytearray(dumped.dump_state())
    target = new_engine()
    for damaged, message in ((blob[:-10], "SHA-256"), (b"not a snapshot", "not an engine"),
                             (blob[:40], "header")):
        with pytest.raises(SnapshotRejected, match=message):
            target.restore_state(bytes(damaged))
    blob[-1] ^= 0xFF
    with pytest.raises(SnapshotRejected, match="SHA-256"):
        target.restore_state(bytes(blob))
    assert answers(target) == {q: () for q in QUERIES}


def test_the_format_version_is_part_of_the_program_hash():
    text = "a(1)."
    first = snapshot.program_hash("m1", text + " % m1", 90004)
    assert first == snapshot.program_hash("m2", text + " % m2", 90004)
    assert first != snapshot.program_hash("m1", text + " % m1", 90005)



def test_facts_not_yet_evaluated_at_the_snapshot_are_evaluated_after_it(new_engine):
    first, second = events(8, 0, 30), events(9, 30, 10)
    dumped = new_engine()
    seq = load(dumped, first, 1)
    answers(dumped)
    load(dumped, second, seq)  # kept as a delta ('de:' facts), evaluated by the next query
    assert module_state(dumped) == "delta"
    restored = new_engine()
    restored.restore_state(dumped.dump_state())
    assert module_state(restored) == "delta"
    full = new_engine()
    load(full, first + second, 1)
    assert answers(restored) == answers(full) == answers(dumped)


def test_facts_already_restored_are_not_stored_twice(new_engine):
    batches = events(10, 0, 20)
    dumped = new_engine()
    seq = load(dumped, batches, 1)
    restored = new_engine()
    restored.restore_state(dumped.dump_state())
    # the load path's latest time per event relation comes along, marked as no write's own,
    # so the next write looks up every fact up to it
    marked = restored._prolog.request(
        f"tl_call_json({restored.module}:'mx:order_placed'(_, restored, _))")
    assert marked == {"ok": True}
    again = [row for batch in batches[-5:] for relation, rows in batch
             if relation == "order_placed" for row in rows]
    assert restored.assert_facts("order_placed", again, seqs=range(seq, seq + len(again))) == 0
    assert restored.query("filled_qty(o, n)").rows == dumped.query("filled_qty(o, n)").rows
