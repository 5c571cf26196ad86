"""`tempolog sim`: simulate the exchange into a store, optionally streaming facts to an engine."""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.cli.console import Console
from api.cli.errors import show_warnings, user_errors
from api.cli.options import DEFAULT_DB, Db, shown
from api.live import END_OF_TIME
from api.query import Answer, money_columns
from engine import TempologError, engine_from_files
from sim import (
    EVENT_TYPES,
    EngineSink,
    Simulation,
    StoreNotFound,
    StoreSink,
    load_config,
    open_store,
)
from sim.runs import record_run
from sim.store import remove_store

DESIGN_TOTAL = 150_000  # the design's estimate of facts for the default run
DEMO_QUERIES = (
    "current_position(client, symbol, qty, avg_price, realized)",
    "pending_order(order, client, symbol, side, qty, price)",
    "wash_trade(client, buy_order, sell_order)",
)

def register(app: typer.Typer) -> None:
    app.command("sim")(sim)


# ---- sim --------------------------------------------------------------------------

def sim(
    ticks: Annotated[int | None, typer.Option(help="Ticks to simulate (default 10000).")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed: same seed, same log (default 1).")]
    = None,
    db: Db = DEFAULT_DB,
    config: Annotated[Path | None, typer.Option(
        help="A TOML file of settings (see docs/sim.md); options override it.")] = None,
    orders_per_tick: Annotated[int | None, typer.Option(help="New orders per tick (default 5).")]
    = None,
    day_ticks: Annotated[int | None, typer.Option(help="Ticks per trading day (default 1000).")]
    = None,
    price_interval: Annotated[int | None, typer.Option(
        help="Ticks between price updates (default 10).")] = None,
    self_match: Annotated[bool | None, typer.Option(
        "--self-match/--no-self-match", help="Let a client trade with itself (default yes).")]
    = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a store at --db.")]
    = False,
    no_store: Annotated[bool, typer.Option("--no-store", help="Keep no event store.")] = False,
    engine: Annotated[list[Path] | None, typer.Option(
        help="Stream the events as facts into an engine of these rule files.")] = None,
    query: Annotated[list[str] | None, typer.Option(
        help="A query to answer after the run (with --engine); repeatable.")] = None,
    stream_every: Annotated[int, typer.Option(help="Assert facts every N ticks (default 1).")] = 1,
    backend: Annotated[str | None, typer.Option(help="swipl or pydatalog.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Simulate the exchange into an event store, optionally streaming facts to an engine."""
    console = Console(stderr=True, quiet=quiet)
    with user_errors():
        settings = load_config(config, ticks=ticks, seed=seed, orders_per_tick=orders_per_tick,
                               day_ticks=day_ticks, price_interval=price_interval,
                               self_match=self_match)
        if stream_every < 1:
            raise TempologError("--stream-every must be at least 1", code="usage")
        if query and not engine:
            raise TempologError("--query needs --engine RULES.dl to answer it", code="usage")
        sinks, store, facts = [], None, None
        if not no_store:
            _prepare(db, overwrite)
            store = open_store(db, create=True)
            record_run(store, settings)  # so that `validate --resimulate` can run it again
            sinks.append(StoreSink(store, process=True))
        if engine:
            facts = engine_from_files(engine, backend)
            show_warnings(facts.program)
            sinks.append(EngineSink(facts, every=stream_every, background=True))
        simulation = Simulation(settings)
        started = time.perf_counter()
        with _progress(console, settings.ticks) as advance:
            summary = simulation.run(sinks, advance)
        elapsed = time.perf_counter() - started
        out = Console()
        out.print(_summary_table(summary.counts, settings))
        rate = summary.events / elapsed if elapsed else 0
        where = f"into {shown(db)}" if store is not None else "without a store"
        out.print(f"{summary.events:,} events in {elapsed:.1f} s ({rate:,.0f} events/s) {where}"
                  + (f", streamed into {facts.__class__.__name__}" if facts else ""))
        if store is not None:
            seq, last_hash = store.head()
            out.print(f"last seq {seq}, last hash {last_hash}")
            store.close()
        if facts is not None:
            with facts:
                _answer(out, facts, query or [q for q in DEMO_QUERIES
                                              if q.split("(")[0] in facts.relations()])


def _prepare(db: str, overwrite: bool) -> None:
    """A fresh store at `db`: an existing one is replaced only when asked to."""
    try:
        open_store(db).close()
    except StoreNotFound:
        return
    if not overwrite:
        raise TempologError(f"{shown(db)} already exists; choose another --db or pass --overwrite",
                            code="store-exists")
    remove_store(db)


@contextmanager
def _progress(console: Console, ticks: int):
    every = max(1, ticks // 200)
    with Progress(TextColumn("simulating"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("ticks  {task.fields[events]:,} events"), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("sim", total=ticks, events=0)

        def advance(tick: int, events: int) -> None:
            if tick % every == 0 or tick == ticks:
                progress.update(task, completed=tick, events=events)

        yield advance


def expected_counts(config, counts) -> dict[str, str]:
    """Beside each type, what the design fixes (orders, prices, sessions) or what the
    other counts imply: a summary that checks itself."""
    closes = 0
    if config.ticks >= config.session_ticks:
        closes = (config.ticks - config.session_ticks) // config.day_ticks + 1
    submitted = config.ticks * config.orders_per_tick
    updates = -(-config.ticks // config.price_interval) * len(config.symbols)
    trades, validated = counts.get("TradeExecuted", 0), counts.get("OrderValidated", 0)
    return {
        "OrderSubmitted": f"{submitted:,}",
        "OrderValidated": f"<= {submitted:,}",
        "OrderRejected": f"<= {submitted:,}",
        "OrderAccepted": f"<= {validated:,} validated",
        "OrderFilled": f"+ partial = {2 * trades:,} (2/trade)",
        "TradeReported": f"= {trades:,} trades",
        "TradeSettled": f"<= {trades:,} trades",
        "PositionIncreased": f"4 kinds >= {2 * trades:,}",
        "RiskChecked": f"= {validated:,} validated",
        "LimitOverridden": "<= breaches",
        "PriceUpdated": f"{updates:,}",
        "VolumeUpdated": f"<= {updates:,}",
        "MarketOpened": f"{config.days:,}",
        "MarketClosed": f"{closes:,}",
    }


def _summary_table(counts, config) -> Table:
    expected = expected_counts(config, counts)
    table = Table(title=f"{config.ticks:,} ticks, seed {config.seed}")
    table.add_column("event type")
    table.add_column("relation")
    table.add_column("events", justify="right")
    table.add_column("expected", justify="right")
    for name, event_type in EVENT_TYPES.items():
        table.add_row(name, event_type.relation, f"{counts.get(name, 0):,}",
                      expected.get(name, ""))
    total = sum(counts.values())
    is_default = (config.ticks, config.orders_per_tick) == (10_000, 5)
    table.add_row("total", "", f"{total:,}",
                  f"~{DESIGN_TOTAL:,} (design)" if is_default else "", style="bold")
    return table


def _answer(out: Console, engine, queries: list[str], shown: int = 5) -> None:
    for text in queries:
        # As the service asks "now": through the time index, evaluating only what the
        # question needs (the engine's own "now" evaluates the whole rule set first).
        result = engine.query(text, as_of=END_OF_TIME)
        table = Table(title=f"{text}: {len(result):,} answers", title_justify="left")
        first = Answer(text, result.columns, result.rows[:shown], 0.0,
                       money=money_columns(engine, text))
        for column in result.columns:
            table.add_column(column)
        for row in first.shown_rows():
            table.add_row(*row)
        if len(result) > shown:
            table.add_row(*(["…"] * len(result.columns)))
        out.print(table)


