"""The read models together: one dispatch table, one state to snapshot, hash and compare."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sim.events.ids import parse_json
from sim.projections.balances import Balances
from sim.projections.positions import Positions
from sim.projections.trades import Trades


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


@dataclass(frozen=True)
class StateDifference:
    """Where two replays of the same events first disagree."""

    seq: int
    type: str
    projection: str
    key: Any
    left: Any
    right: Any

    def format(self, left_name: str = "first replay", right_name: str = "second replay") -> str:
        key = "/".join(map(str, self.key)) if isinstance(self.key, tuple | list) else self.key
        return (f"first difference at seq {self.seq} ({self.type}): {self.projection} {key}\n"
                f"  {left_name}:  {canonical(self.left)}\n"
                f"  {right_name}: {canonical(self.right)}")

    def to_dict(self) -> dict:
        return {"seq": self.seq, "type": self.type, "projection": self.projection,
                "key": self.key, "left": self.left, "right": self.right}


class ReadModels:
    """Positions, trade history and balances, fed the same events in seq order.

    `last_seq` is the seq the models have read through (events none of them reads included);
    each projection's own `last_seq` is the last event it applied."""

    def __init__(self) -> None:
        self.positions = Positions()
        self.trades = Trades()
        self.balances = Balances()
        self.projections = (self.positions, self.trades, self.balances)
        self.last_seq = 0
        self.applied = 0
        dispatch: dict[str, list] = {}
        for projection in self.projections:
            for type, handler in projection.bound_handlers().items():
                dispatch.setdefault(type, []).append((projection, handler))
        self._dispatch = dispatch

    @property
    def event_types(self) -> frozenset[str]:
        return frozenset(self._dispatch)

    def apply(self, seq: int, type: str, time: int, payload: dict) -> list[tuple[str, Any]]:
        """Apply one event; returns (projection name, key) of every state entry it changed."""
        if seq <= self.last_seq:
            raise ValueError(f"seq {seq} is not after {self.last_seq}: events apply in order")
        touched = []
        for projection, handler in self._dispatch.get(type, ()):
            for key in handler(seq, time, payload):
                touched.append((projection.name, key))
            projection.last_seq = seq
        self.last_seq = seq
        self.applied += bool(touched)
        return touched

    def apply_rows(self, rows: Iterable[tuple[int, str, int, str]]) -> int:
        """Apply (seq, type, time, payload JSON) rows in seq order, decoding only the payloads
        of the types some model reads; returns how many rows were read. The replay hot path."""
        dispatch, loads = self._dispatch, parse_json
        count = applied = 0
        seq = self.last_seq
        for seq, type, time, payload in rows:
            count += 1
            targets = dispatch.get(type)
            if targets is None:
                continue
            decoded = loads(payload)
            for projection, handler in targets:
                handler(seq, time, decoded)
                projection.last_seq = seq
            applied += 1
        self.last_seq = max(self.last_seq, seq)
        self.applied += applied
        return count

    def entry(self, name: str, key: Any) -> Any:
        return next(p for p in self.projections if p.name == name).entry(key)

    # ---- state -------------------------------------------------------------------------

    def state(self) -> dict:
        return {"last_seq": self.last_seq,
                **{projection.name: projection.state() for projection in self.projections}}

    def restore(self, state: dict) -> None:
        self.last_seq = state["last_seq"]
        for projection in self.projections:
            projection.restore(state[projection.name])

    def digest(self) -> str:
        """SHA-256 of the state's canonical JSON: equal states, equal digests."""
        return hashlib.sha256(canonical(self.state()).encode("ascii")).hexdigest()

    @classmethod
    def from_state(cls, state: dict) -> ReadModels:
        models = cls()
        models.restore(state)
        return models

    def first_difference(self, other: ReadModels) -> StateDifference | None:
        """Compare whole states: the first differing entry (seq unknown: 0), or None."""
        mine, theirs = self.state(), other.state()
        for projection in self.projections:
            a, b = mine[projection.name], theirs[projection.name]
            if a != b:
                for field in sorted(set(a) | set(b)):
                    if a.get(field) != b.get(field):
                        return StateDifference(0, "", projection.name, field, a.get(field),
                                               b.get(field))
        if mine["last_seq"] != theirs["last_seq"]:
            return StateDifference(0, "", "read models", "last_seq", mine["last_seq"],
                                   theirs["last_seq"])
        return None
