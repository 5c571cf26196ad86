"""The simulator: deterministic, complete, and its events tell a consistent story."""

from __future__ import annotations

import dataclasses
import io
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from engine import parse
from sim.config import DEFAULT_CLIENTS, SimConfig, SimConfigError, load_config
from sim.events.eventlog import EventLog
from sim.events.ids import event_id, seed_bits
from sim.events.types import EVENT_TYPES, render_dl
from sim.exchange.simulator import Simulation, simulate
from sim.store import open_store

ROOT = Path(__file__).resolve().parents[2]
# 1,000 ticks with settlement after 100 and a client that overrides its frequent position
# breaches bring out every event type.
FULL = SimConfig(ticks=1_000, seed=3, settlement_ticks=100, clients=tuple(
    dataclasses.replace(c, overrides=("position", "concentration")) if c.id == "client-2" else c
    for c in DEFAULT_CLIENTS))
TERMINAL = {"OrderRejected", "OrderFilled", "OrderCancelled", "OrderExpired"}


@pytest.fixture(scope="module")
def events():
    return simulate(FULL)


def _log(config: SimConfig) -> tuple[str, str]:
    """The run's JSONL export and its last hash."""
    with open_store(":memory:", create=True) as store:
        store.append(simulate(config))
        out = io.StringIO()
        store.export_jsonl(out)
        return out.getvalue(), store.head()[1]


def test_the_same_seed_gives_a_byte_identical_log_and_another_seed_another():
    config = SimConfig(ticks=400, seed=11)
    first, first_hash = _log(config)
    again, again_hash = _log(config)
    assert first == again and first_hash == again_hash
    _, other_hash = _log(config.replace(seed=12))
    assert other_hash != first_hash


def test_every_event_type_happens(events):
    assert set(Counter(e.type for e in events)) == set(EVENT_TYPES)


def test_rules_events_dl_is_generated_from_the_event_table():
    text = (ROOT / "rules" / "events.dl").read_text()
    assert text == render_dl(), "regenerate: python -m sim.events > rules/events.dl"
    declared = {d.relation: d for d in parse(text, "events.dl").items}
    assert set(declared) == {t.relation for t in EVENT_TYPES.values()} | {"event"}
    assert [f.name for f in declared["event"].fields] == [
        "seq", "id", "type", "stream", "version", "t", "causation", "correlation"]
    for event_type in EVENT_TYPES.values():
        declaration = declared[event_type.relation]
        assert declaration.is_event
        assert [f.name for f in declaration.fields] == [*event_type.field_names, "t"]


def test_events_use_their_types_streams_and_versions(events):
    versions: dict[str, int] = defaultdict(int)
    for event in events:
        event_type = EVENT_TYPES[event.type]
        assert event.stream_id == event_type.stream.format(**event.payload)
        versions[event.stream_id] += 1
        assert event.version == versions[event.stream_id]


def test_ids_sort_in_seq_order_and_causes_come_first(events):
    ids = [e.event_id for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    seen = {}
    for event in events:
        if event.causation_id is None:
            assert event.correlation_id == event.event_id  # a root starts its correlation
        else:
            cause = seen[event.causation_id]
            assert cause.time <= event.time
            assert cause.ts < event.ts  # processing takes simulated time
            assert event.correlation_id == cause.correlation_id
        seen[event.event_id] = event


def test_time_never_goes_back_and_ts_lies_in_its_tick(events):
    config = FULL
    for before, after in zip(events, events[1:]):
        assert before.time <= after.time
    for event in events:
        assert event.ts >= config.epoch_us + event.time * config.tick_us


def test_every_order_follows_the_lifecycle(events):
    orders: dict[str, list] = defaultdict(list)
    for event in events:
        if event.stream_id.startswith("order-"):
            orders[event.payload["order"]].append(event)
    assert len(orders) == FULL.ticks * FULL.orders_per_tick
    for history in orders.values():
        types = [e.type for e in history]
        submitted = history[0].payload
        assert types[0] == "OrderSubmitted"
        assert types[1] in ("OrderValidated", "OrderRejected")
        if types[1] == "OrderValidated" and len(types) > 2:
            assert types[2] in ("OrderAccepted", "OrderRejected")
        assert sum(t in TERMINAL for t in types) <= 1
        if any(t in TERMINAL for t in types):
            assert types[-1] in TERMINAL, types
        fills = [e.payload["qty"] for e in history if e.type.startswith("OrderPartially")
                 or e.type == "OrderFilled"]
        assert sum(fills) <= submitted["qty"]
        if "OrderFilled" in types:
            modified = [e.payload["qty"] for e in history if e.type == "OrderModified"]
            assert sum(fills) == submitted["qty"] or modified
        if submitted["tif"] == "ioc" and "OrderAccepted" in types:
            assert types[-1] in ("OrderFilled", "OrderExpired")
            assert history[-1].time == history[0].time
        for event in history:
            assert event.time <= submitted["expires"] or event.type == "OrderExpired"


def test_the_gateway_rejects_with_a_reason_for_each_rule():
    events = simulate(SimConfig(ticks=1_000, seed=5, bad_order_rate=0.2))
    reasons = Counter(e.payload["reason"] for e in events if e.type == "OrderRejected")
    for reason in ("unknown_client", "unknown_symbol", "bad_side", "bad_quantity",
                   "bad_price", "market_closed", "symbol_halted"):
        assert reasons[reason] > 0, reason
    opened = {e.time for e in events if e.type == "MarketOpened"}
    closed = {e.time for e in events if e.type == "MarketClosed"}
    assert opened == {0} and closed == {FULL.session_ticks - 1}


def test_risk_checks_record_every_check_and_breaches_match(events):
    checked = {e.payload["order"]: e.payload for e in events if e.type == "RiskChecked"}
    validated = {e.payload["order"] for e in events if e.type == "OrderValidated"}
    assert set(checked) == validated
    breaches = Counter((e.payload["order"], e.payload["check"]) for e in events
                       if e.type == "LimitBreached")
    overrides = {(e.payload["order"], e.payload["check"]) for e in events
                 if e.type == "LimitOverridden"}
    for order, result in checked.items():
        for check in ("position", "velocity", "loss", "concentration"):
            assert (result[check] != "pass") == ((order, check) in breaches)
            assert (result[check] == "override") == ((order, check) in overrides)
        assert (result["result"] == "failed") == ("fail" in result.values())


def test_self_match_prevention_stops_wash_trades():
    allowed = simulate(SimConfig(ticks=500, seed=2))
    prevented = simulate(SimConfig(ticks=500, seed=2, self_match=False))

    def wash(events):
        return sum(1 for e in events if e.type == "TradeExecuted"
                   and e.payload["buyer"] == e.payload["seller"])

    assert wash(allowed) > 0 and wash(prevented) == 0
    assert any(e.type == "OrderCancelled" and e.payload["reason"] == "self_match_prevented"
               for e in prevented)


def test_some_clients_cancel_and_modify_far_more_than_others(events):
    client_of = {e.payload["order"]: e.payload["client"] for e in events
                 if e.type == "OrderSubmitted"}
    submitted = Counter(client_of.values())

    def rate(kind: str, client: str) -> float:
        return sum(1 for e in events if e.type == kind and client_of[e.payload["order"]] ==
                   client) / submitted[client]

    assert rate("OrderCancelled", "client-3") > 3 * rate("OrderCancelled", "client-1")
    assert rate("OrderModified", "client-4") > 3 * rate("OrderModified", "client-2")


def test_halts_stop_orders_in_their_symbol(events):
    halts = [e.payload for e in events if e.type == "TradingHalted"]
    assert halts
    accepted = {e.payload["order"]: e.time for e in events if e.type == "OrderAccepted"}
    symbol_of = {e.payload["order"]: e.payload["symbol"] for e in events
                 if e.type == "OrderSubmitted"}
    for halt in halts:
        halted_at = next(e.time for e in events if e.type == "TradingHalted"
                         and e.payload == halt)
        for order, time in accepted.items():
            if symbol_of[order] == halt["symbol"]:
                assert not halted_at < time <= halt["until"]


def test_price_updates_walk_within_a_step_and_stay_above_the_floor(events):
    last: dict[str, int] = dict(FULL.symbols)
    for event in events:
        if event.type == "PriceUpdated":
            symbol, price = event.payload["symbol"], event.payload["price"]
            assert event.time % FULL.price_interval == 0
            assert abs(price - last[symbol]) <= last[symbol] * FULL.price_step_bp // 10_000 + 1
            assert price >= FULL.price_floor
            last[symbol] = price


def test_a_run_can_be_stepped_and_counts_its_events():
    sim = Simulation(SimConfig(ticks=50, seed=4))
    summary = sim.run()
    assert summary.events == sum(summary.counts.values()) == summary.last_seq
    assert summary.ticks == 50


# ---- configuration ----------------------------------------------------------------

def test_config_from_toml_with_money_in_dollars(tmp_path):
    path = tmp_path / "sim.toml"
    path.write_text('''
ticks = 120
seed = 9
price_floor = "0.50"
[symbols]
AAPL = "190.25"
[[clients]]
id = "desk"
balance = "2500.75"
risk_limit = 1000
velocity_limit = 10
overrides = ["loss"]
''')
    config = load_config(path, seed=10)
    assert config.ticks == 120 and config.seed == 10
    assert config.symbols == {"AAPL": 19_025} and config.price_floor == 50
    assert config.clients[0].balance == 250_075 and config.clients[0].overrides == ("loss",)
    events = simulate(config)
    assert {e.payload["client"] for e in events if e.type == "OrderSubmitted"} <= {
        "desk", "client-0"}


@pytest.mark.parametrize("text, message", [
    ("tick = 5", "unknown setting 'tick'"),
    ("ticks = -1", "ticks must not be negative"),
    ('[symbols]\nAAPL = "1.001"', "not a whole number of cents"),
    ("[[clients]]\nid = \"x\"\nbalance = 1\nrisk_limit = 1\nvelocity_limit = 1\n"
     "overrides = [\"luck\"]", "unknown override 'luck'"),
    ("ticks = [", "not valid TOML"),
])
def test_bad_config_is_one_clear_error(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(SimConfigError, match=message):
        load_config(path)


def test_missing_config_file_is_a_config_error(tmp_path):
    with pytest.raises(SimConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")


@pytest.mark.parametrize("tick", [0, 1, 12_345])
@pytest.mark.parametrize("seq", [1, 2**30 - 1, 2**30, 2**31 + 77, 5 * 2**40])
def test_the_logs_fast_event_ids_equal_the_reference_layout(tick, seq):
    log = EventLog(5, FULL.epoch_us, FULL.tick_us)
    log.start_tick(tick)
    assert log._event_id(seq) == event_id(log.tick_start // 1000, seq, seed_bits(5))
    assert uuid.UUID(log._event_id(seq)).version == 7


# ---- the documentation ---------------------------------------------------------------

DOC = (ROOT / "docs" / "sim.md").read_text()


def test_the_docs_toml_example_loads_and_runs(tmp_path):
    example = DOC.split("```toml\n")[1].split("```")[0]
    path = tmp_path / "example.toml"
    path.write_text(example)
    config = load_config(path, ticks=50)
    assert config.seed == 42 and not config.self_match
    assert [c.id for c in config.clients] == ["client-1", "client-3"]
    assert simulate(config)


def test_the_docs_list_every_event_type_with_its_relation():
    for event_type in EVENT_TYPES.values():
        assert f"| {event_type.name} | `{event_type.relation}(" in DOC, event_type.name


def test_each_client_account_opens_first_with_its_balance_and_limits():
    config = SimConfig(ticks=1)
    opened = simulate(config)[:len(config.clients)]
    assert [(e.type, e.time) for e in opened] == [("AccountOpened", 0)] * len(config.clients)
    assert [e.payload for e in opened] == [
        {"client": c.id, "balance": c.balance, "risk_limit": c.risk_limit,
         "velocity_limit": c.velocity_limit, "velocity_window": config.velocity_window,
         "loss_limit": c.daily_loss_limit} for c in config.clients]
    assert opened[2].payload["balance"] == 5_000_000  # client-3's 50,000.00 in cents


def test_a_client_reworking_its_oldest_orders_modifies_some_more_than_five_times():
    events = simulate(SimConfig(ticks=1_000))
    modifications = Counter(e.payload["order"] for e in events if e.type == "OrderModified")
    client = {e.payload["order"]: e.payload["client"] for e in events
              if e.type == "OrderSubmitted"}
    heavy = {client[order] for order, n in modifications.items() if n > 5}
    assert heavy == {"client-3"}
