"""What the report's charts show, gathered in one pass over the event log."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

_FILLS = ("OrderPartiallyFilled", "OrderFilled")
_POSITIONS = ("PositionOpened", "PositionIncreased", "PositionDecreased", "PositionClosed")
TYPES = ("PriceUpdated", "OrderSubmitted", "LimitBreached", "LimitOverridden", *_FILLS,
         *_POSITIONS)


@dataclass
class ReportData:
    prices: dict[str, list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))
    submitted: list[int] = field(default_factory=list)  # each order's submission time
    breaches: Counter = field(default_factory=Counter)  # check -> breaches
    overridden: Counter = field(default_factory=Counter)  # check -> breaches waived
    latencies_us: list[int] = field(default_factory=list)  # submission -> first fill
    position_events: Counter = field(default_factory=Counter)  # client -> changes
    # client -> symbol -> [(time, qty)], every position change
    positions: dict[str, dict[str, list[tuple[int, int]]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list)))
    last_time: int = 0
    events: int = 0

    @property
    def top_client(self) -> str | None:
        """The client whose positions changed most often (ties: the first by name)."""
        if not self.position_events:
            return None
        return min(self.position_events, key=lambda c: (-self.position_events[c], c))


def gather(store, progress: Callable[[int], None] | None = None) -> ReportData:
    data = ReportData()
    submitted_ts: dict[str, int] = {}
    for event in store.read(types=TYPES):
        p, type = event.payload, event.type
        data.events += 1
        data.last_time = event.time
        if type == "PriceUpdated":
            data.prices[p["symbol"]].append((event.time, p["price"]))
        elif type == "OrderSubmitted":
            data.submitted.append(event.time)
            submitted_ts[p["order"]] = event.ts
        elif type in _FILLS:
            started = submitted_ts.pop(p["order"], None)  # only the first fill counts
            if started is not None:
                data.latencies_us.append(event.ts - started)
        elif type == "LimitBreached":
            data.breaches[p["check"]] += 1
        elif type == "LimitOverridden":
            data.overridden[p["check"]] += 1
        else:
            data.position_events[p["client"]] += 1
            data.positions[p["client"]][p["symbol"]].append((event.time, p["qty"]))
        if progress is not None and data.events % 2000 == 0:
            progress(data.events)
    return data
