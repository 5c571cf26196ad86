"""The simulated exchange: wires the actors to one scheduler and runs them tick by tick."""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from sim.config import SimConfig
from sim.events.eventlog import EventLog
from sim.events.types import Event
from sim.exchange.clients import Clients
from sim.exchange.gateway import Gateway
from sim.exchange.marketdata import MarketData
from sim.exchange.matching import MatchingEngine
from sim.exchange.positions import PositionKeeper
from sim.exchange.risk import RiskManager
from sim.exchange.scheduler import Priority, Scheduler

# Simulated processing latency of each actor, in microseconds (low, high).
LATENCY_US = {
    "gateway": (20, 80),
    "risk": (5, 30),
    "matching": (2, 15),
    "positions": (10, 40),
    "market": (50, 200),
}


def _rng(seed: int, name: str) -> random.Random:
    """One random stream per purpose, so that changing one actor leaves the others' draws."""
    digest = hashlib.sha256(f"tempolog:{seed}:{name}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _latency(rng: random.Random, low: int, high: int) -> Callable[[], int]:
    draw, span = rng.random, high - low + 1
    return lambda: low + int(draw() * span)


class Sink(Protocol):
    """Where a run's events go, a tick at a time (the store, the engine …)."""

    def on_tick(self, tick: int, events: list[Event]) -> None: ...

    def close(self) -> None: ...


@dataclass
class RunSummary:
    ticks: int
    events: int
    counts: Counter = field(default_factory=Counter)
    last_seq: int = 0


class Simulation:
    def __init__(self, config: SimConfig | None = None):
        self.config = config = config or SimConfig()
        self.bus = bus = Scheduler()
        self.log = log = EventLog(config.seed, config.epoch_us, config.tick_us)
        latency = _rng(config.seed, "latency")

        def delay(actor: str) -> Callable[[], int]:
            return _latency(latency, *LATENCY_US[actor])

        self.market = MarketData(bus, log, config, _rng(config.seed, "market"), delay("market"))
        self.positions = PositionKeeper(bus, log, config, delay("positions"))
        self.matching = MatchingEngine(bus, log, config, delay("matching"))
        self.risk = RiskManager(bus, log, config, delay("risk"))
        self.gateway = Gateway(bus, log, config, delay("gateway"))
        self.clients = Clients(bus, config, _rng(config.seed, "clients"), self.gateway,
                               self.market, self.matching)
        # Who talks to whom.
        self.gateway.risk, self.gateway.matching = self.risk, self.matching
        self.risk.matching = self.matching
        self.matching.positions, self.matching.market = self.positions, self.market
        self.positions.risk = self.risk
        self.market.subscribers = [self.gateway, self.risk, self.matching]
        self.tick = 0

    def step(self) -> list[Event]:
        """Run one tick; returns its events in seq order."""
        t, bus = self.tick, self.bus
        self.log.start_tick(t)
        if t == 0:
            self.open_accounts()
        bus.post(t, Priority.CLOCK, self.market.on_clock, t)
        bus.post(t, Priority.CLOCK, self.matching.on_clock, t)
        self.clients.on_tick(t)
        bus.post(t, Priority.MARKET_DATA, self.market.on_tick_end, t)
        bus.run_until(t)
        self.tick += 1
        return self.log.drain()

    def open_accounts(self) -> None:
        """Each client's AccountOpened, first of all: the log, not the config, then tells
        the rules each client's balance and limits."""
        config = self.config
        for client in config.clients:
            self.log.emit("AccountOpened", "account-" + client.id, {
                "client": client.id, "balance": client.balance,
                "risk_limit": client.risk_limit, "velocity_limit": client.velocity_limit,
                "velocity_window": config.velocity_window,
                "loss_limit": client.daily_loss_limit})

    def ticks(self) -> Iterator[tuple[int, list[Event]]]:
        while self.tick < self.config.ticks:
            tick = self.tick
            yield tick, self.step()

    def run(self, sinks: Iterable[Sink] = (),
            progress: Callable[[int, int], None] | None = None) -> RunSummary:
        """Run every tick, handing each tick's events to every sink, then close the sinks."""
        sinks = list(sinks)
        summary = RunSummary(self.config.ticks, 0)
        counts = summary.counts
        try:
            for tick, events in self.ticks():
                for event in events:
                    counts[event.type] += 1
                summary.events += len(events)
                for sink in sinks:
                    sink.on_tick(tick, events)
                if progress is not None:
                    progress(tick + 1, summary.events)
        finally:
            for sink in sinks:
                sink.close()
        summary.last_seq = self.log.seq
        return summary


def simulate(config: SimConfig | None = None) -> list[Event]:
    """Every event of a whole run, in seq order (for tests and small runs)."""
    sim = Simulation(config)
    return [event for _, events in sim.ticks() for event in events]
