"""The actors' outbox: numbers, stamps and links every event they emit, without a wall clock."""

from __future__ import annotations

from sim.events.ids import SEQ_LOW_BITS, VARIANT, seed_bits
from sim.events.types import Event


class EventLog:
    """Gives each event its seq, stream version, time-ordered id and simulated timestamp.

    `ts` is the tick's start plus the simulated processing latency along the causal chain,
    so `ts(fill) - ts(submission)` is the order's execution latency. An event without a
    cause starts its own correlation (its correlation id is its own id).
    """

    def __init__(self, seed: int, epoch_us: int, tick_us: int, first_seq: int = 1):
        self.run_bits = seed_bits(seed)
        self.epoch_us, self.tick_us = epoch_us, tick_us
        self.seq = first_seq - 1
        self.versions: dict[str, int] = {}
        self.pending: list[Event] = []
        self.start_tick(0)

    def start_tick(self, tick: int) -> None:
        self.now = tick
        self.tick_start = self.epoch_us + tick * self.tick_us
        millis = f"{self.tick_start // 1000 & 0xFFFF_FFFF_FFFF:012x}"
        self._id_prefix = f"{millis[:8]}-{millis[8:]}-7"  # what ids.event_id gives this tick

    def _event_id(self, seq: int) -> str:
        """ids.event_id(tick ms, seq, run bits), spelled out: the log's hottest line."""
        low = f"{VARIANT | (seq & (1 << SEQ_LOW_BITS) - 1) << 32 | self.run_bits:016x}"
        return f"{self._id_prefix}{seq >> SEQ_LOW_BITS & 0xFFF:03x}-{low[:4]}-{low[4:]}"

    def emit(self, type: str, stream: str, payload: dict, cause: Event | None = None,
             latency: int = 0, key: str | None = None) -> Event:
        self.seq = seq = self.seq + 1
        version = self.versions[stream] = self.versions.get(stream, 0) + 1
        eid = self._event_id(seq)
        if cause is None:
            event = Event(type, self.now, stream, payload, eid, self.tick_start + latency,
                          version, None, eid, key)
        else:
            start = cause.ts if cause.ts > self.tick_start else self.tick_start
            event = Event(type, self.now, stream, payload, eid, start + latency, version,
                          cause.event_id, cause.correlation_id, key)
        self.pending.append(event)
        return event

    def drain(self) -> list[Event]:
        events, self.pending = self.pending, []
        return events
