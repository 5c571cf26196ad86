"""Engine snapshots in the store: a replay with rules resumes from one and answers the same."""

from __future__ import annotations

import logging
from pathlib import Path

from engine import engine_from_files
from sim.engine_snapshots import engine_snapshots, restore_latest, take_engine_snapshots
from sim.replayer import Selection, replay_engine
from sim.store import open_store

ROOT = Path(__file__).resolve().parents[3]
TRADING = [ROOT / "rules" / "trading.dl"]
AUDIT = [ROOT / "rules" / "audit.dl"]
NOW = ["current_position(c, s, q, a, r)", "pending_order(o, c, s, d, q, p)"]
PAST = ['current_position(c, "AAPL", q, a, r)']


def answers(engine, as_of=None, queries=NOW) -> dict:
    return {q: engine.query(q, as_of=as_of, timeout=None).rows for q in queries}


def test_a_replay_from_an_engine_snapshot_answers_as_one_from_seq_1(store_copy):
    with open_store(store_copy) as store, engine_from_files(TRADING, "swipl") as engine:
        head = store.head()[0]
        every = head // 3
        taken = take_engine_snapshots(store, engine, every, queries=("pending_order(o, c, s, "
                                                                    "d, q, p)",))
        assert [s.seq for s in taken] == [*range(every, head, every), head]
        assert engine_snapshots(store, engine.program_hash()) == taken
        last_time = store.get_seq(head).time
    cut = 2 * every + 17  # a from-seq past the second snapshot
    with open_store(store_copy) as store, engine_from_files(TRADING, "swipl") as resumed, \
            engine_from_files(TRADING, "swipl") as full:
        result = replay_engine(store, resumed, Selection(from_seq=cut, to_seq=head - 5))
        assert result.engine_snapshot.seq == 2 * every and result.notes == []
        assert (result.first_seq, result.last_seq) == (2 * every + 1, head - 5)
        from_one = replay_engine(store, full, Selection(from_seq=cut, to_seq=head - 5),
                                 use_snapshots=False)
        assert from_one.engine_snapshot is None and from_one.first_seq == 1
        assert answers(resumed) == answers(full)
        for as_of in (last_time // 3, 2 * last_time // 3, last_time):
            assert answers(resumed, as_of, PAST) == answers(full, as_of, PAST), as_of


def test_a_snapshot_at_the_head_needs_no_events(store_copy):
    with open_store(store_copy) as store, engine_from_files(AUDIT, "swipl") as engine:
        (taken,) = take_engine_snapshots(store, engine)
        assert take_engine_snapshots(store, engine) == []  # nothing new since
    with open_store(store_copy) as store, engine_from_files(AUDIT, "swipl") as engine:
        result = replay_engine(store, engine)
        assert result.engine_snapshot == taken and result.events == 0
        assert len(engine.query("self_trade(tr, c, s, q, p, t)")) > 0


def test_snapshots_of_other_rules_are_not_used(store_copy):
    with open_store(store_copy) as store, engine_from_files(AUDIT, "swipl") as engine:
        take_engine_snapshots(store, engine)
    with open_store(store_copy) as store, engine_from_files(TRADING, "swipl") as engine:
        result = replay_engine(store, engine, Selection(to_seq=3000))
        assert result.engine_snapshot is None and result.events == 3000


def test_a_damaged_or_stale_snapshot_is_passed_over_with_a_warning(store_copy, caplog):
    with open_store(store_copy) as store, engine_from_files(AUDIT, "swipl") as engine:
        older, newer = take_engine_snapshots(store, engine, every=store.head()[0] - 100)
        program = engine.program_hash()
        seq, event_hash, digest, blob = store.load_engine_snapshot(program, newer.seq)
        damaged = blob[:-1] + bytes([blob[-1] ^ 1])
        store.save_engine_snapshot(seq, program, event_hash, digest, damaged)
    with open_store(store_copy) as store, engine_from_files(AUDIT, "swipl") as engine:
        result = replay_engine(store, engine)
        assert result.engine_snapshot.seq == older.seq
        assert "does not match its SHA-256: ignored" in result.notes[0]
    with open_store(store_copy) as store, engine_from_files(AUDIT, "swipl") as engine, \
            caplog.at_level(logging.WARNING):  # no notes asked for: logged
        assert restore_latest(store, engine, newer.seq).seq == older.seq
        assert "ignored (damaged)" in caplog.text
    with open_store(store_copy) as store:  # a snapshot whose event is not the store's
        store.save_engine_snapshot(newer.seq, program, "0" * 64, newer.state_hash, blob)
    with open_store(store_copy) as store, engine_from_files(AUDIT, "swipl") as engine:
        notes: list[str] = []
        assert restore_latest(store, engine, newer.seq, notes).seq == older.seq
        assert "the log changed under it" in notes[0]
    # the bytes of another program's engine, stored under this program's hash
    with open_store(store_copy) as store, engine_from_files(TRADING, "swipl") as engine:
        store.save_engine_snapshot(newer.seq, engine.program_hash(), event_hash,
                                   newer.state_hash, blob)
        result = replay_engine(store, engine, Selection(to_seq=newer.seq))
        assert result.engine_snapshot is None
        assert "was refused: the snapshot is of another program" in result.notes[0]


def test_a_backend_without_snapshots_replays_from_seq_1(store_copy):
    with open_store(store_copy) as store, engine_from_files(AUDIT, "pydatalog") as engine:
        result = replay_engine(store, engine, Selection(to_seq=2000))
        assert result.engine_snapshot is None and result.events == 2000
        assert "pydatalog backend cannot snapshot its state: replaying from seq 1" in \
            result.notes[0]
