"""The event store's commands: verify, stats, events (export) and import."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from api.cli.console import Console
from api.cli.errors import FAILED, fail, user_errors
from api.cli.options import DEFAULT_DB, Db, shown
from engine import TempologError
from sim import EventStore, StoreNotFound, open_store, resolve_type


def register(app: typer.Typer) -> None:
    app.command("verify")(verify)
    app.command("stats")(stats)
    app.command("events")(events)
    app.command("import")(import_events)
    app.command("copy")(copy)


def _open(db: str) -> EventStore:
    try:
        return open_store(db)
    except StoreNotFound as error:
        raise StoreNotFound(f"{error} (run `tempolog sim --db {shown(db)}` first)") from None


def verify(db: Db = DEFAULT_DB) -> None:
    """Walk the hash chain; exit 1 naming the first bad seq."""
    with user_errors(), _open(db) as store:
        result = store.verify()
    if not result.ok:
        fail(f"{shown(db)}: corrupted at seq {result.bad_seq}: {result.reason} "
             f"({result.events:,} events verify before it)", FAILED)
    typer.echo(f"{shown(db)}: ok, {result.events:,} events, last seq {result.last_seq}, "
               f"last hash {result.last_hash}")


def stats(db: Db = DEFAULT_DB,
          since: Annotated[int | None, typer.Option(help="Only events at or after this tick.")]
          = None,
          until: Annotated[int | None, typer.Option(help="Only events at or before this tick.")]
          = None,
          json_output: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False,
          ) -> None:
    """Per event type: count, first and last time (tick) and seq, within --since/--until."""
    with user_errors():
        if since is not None and until is not None and since > until:
            raise TempologError(f"--since {since} is after --until {until}", code="usage")
        with _open(db) as store:
            rows = store.stats(since=since, until=until)
    if json_output:
        for row in rows:
            typer.echo(json.dumps(row.__dict__))
        return
    window = "" if since is None and until is None else (
        f", t={'' if since is None else since}..{'' if until is None else until}")
    table = Table(title=str(db) + window)
    for column in ("type", "count", "first time", "last time", "first seq", "last seq"):
        table.add_column(column, justify="left" if column == "type" else "right")
    for row in rows:
        table.add_row(row.type, f"{row.count:,}", str(row.first_time), str(row.last_time),
                      str(row.first_seq), str(row.last_seq))
    table.add_row("total", f"{sum(r.count for r in rows):,}", "", "", "", "", style="bold")
    Console().print(table)


def events(
    db: Db = DEFAULT_DB,
    from_seq: Annotated[int | None, typer.Option(help="First seq.")] = None,
    to_seq: Annotated[int | None, typer.Option(help="Last seq.")] = None,
    from_time: Annotated[int | None, typer.Option(help="First tick.")] = None,
    to_time: Annotated[int | None, typer.Option(help="Last tick.")] = None,
    type: Annotated[list[str] | None, typer.Option(
        "--type", help="An event type (OrderFilled) or relation (order_filled); repeatable.")]
    = None,
    stream: Annotated[str | None, typer.Option(help="One stream, e.g. order-O000042.")]
    = None,
    correlation: Annotated[str | None, typer.Option(help="A correlation id.")] = None,
    chain: Annotated[str | None, typer.Option(
        help="An event id: print its causation chain, root first.")] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many.")] = None,
) -> None:
    """Events as JSON lines (the store's export format; `tempolog import` reads it back)."""
    with user_errors():
        try:
            types = [resolve_type(name).name for name in type] if type else None
        except KeyError as error:
            raise TempologError(f"unknown event type {error.args[0]!r}", code="usage") from None
        _write_events(_open(db), types, chain, dict(
            from_seq=from_seq, to_seq=to_seq, from_time=from_time, to_time=to_time,
            stream_id=stream, correlation_id=correlation, limit=limit))


def _write_events(store, types, chain, filters) -> None:
    with store:
        if chain is not None:
            found = store.causation_chain(chain)
            if not found:
                raise TempologError(f"no event with id {chain}", code="not-found")
            selected = iter(found)
        else:
            selected = store.read(types=types, **filters)
        write = sys.stdout.write
        try:
            for event in selected:
                write(event.to_json() + "\n")
        except BrokenPipeError:  # `tempolog events | head`
            sys.stderr.close()


def import_events(
    file: Annotated[Path, typer.Argument(help="JSON lines from `tempolog events`.")],
    db: Db = DEFAULT_DB,
) -> None:
    """Append exported events to a store as they were, re-verifying the hash chain."""
    with user_errors():
        if not file.exists():
            raise FileNotFoundError(f"no file {file}")
        with open_store(db, create=True) as store, file.open() as lines:
            count = store.import_jsonl(lines)
            seq, last_hash = store.head()
    typer.echo(f"{shown(db)}: imported {count:,} events, last seq {seq}, last hash {last_hash}")


def copy(
    source: Annotated[str, typer.Option("--from", help="The store to copy: a path or URL.")],
    target: Annotated[str, typer.Option("--to", help="A new or empty store: a path or URL.")],
) -> None:
    """Copy a store to another, SQLite or PostgreSQL, as it is (seqs, ids, hashes); the hash
    chain is verified before on one side and after on the other."""
    with user_errors(), _open(source) as origin:
        before = origin.verify()
        if not before.ok:
            fail(f"{shown(source)}: corrupted at seq {before.bad_seq}: {before.reason}; "
                 "nothing was copied", FAILED)
        with open_store(target, create=True) as copied:
            if len(copied):
                fail(f"{shown(target)} already holds {len(copied):,} events; copy into a new or "
                     "empty store", FAILED)
            count = copied.import_jsonl(event.to_json() for event in origin.read())
            after = copied.verify()
    if not after.ok or (after.last_seq, after.last_hash) != (before.last_seq, before.last_hash):
        fail(f"{shown(target)}: the copy does not verify as {shown(source)} does: "
             f"{after.reason}", FAILED)
    typer.echo(f"copied {count:,} events from {shown(source)} to {shown(target)}; the chain "
               f"verifies on both: last seq {after.last_seq}, last hash {after.last_hash}")
