"""The commands over a live engine: `tempolog serve`, `tempolog query`, `tempolog repl`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.errors import show_warnings, user_errors
from api.cli.options import Db
from api.query import Format

Rules = Annotated[list[Path], typer.Option("--rules", help="A rule file (.dl); repeatable.")]
Backend = Annotated[str | None, typer.Option(help="swipl or pydatalog.")]


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("query")(query)
    app.command("repl")(repl)


def serve(
    db: Db,
    rules: Rules,
    host: Annotated[str, typer.Option(help="Address to bind; 127.0.0.1 keeps it local.")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    token_file: Annotated[Path | None, typer.Option(
        help="A file holding the bearer token that writes (events, rules) need.")] = None,
    private_reads: Annotated[bool, typer.Option(
        "--private-reads/--public-reads", help="Whether reads need the token too.")] = False,
    max_body: Annotated[int, typer.Option(help="Largest request body, in bytes.")] = 1 << 20,
    query_timeout: Annotated[float, typer.Option(
        help="Seconds a query may run unless it asks for less.")] = 5.0,
    backend: Backend = None,
) -> None:
    """Serve queries, events, rules and live subscriptions over HTTP (docs at /docs)."""
    from api.http.security import Settings
    from api.http.server import serve as run_server

    if private_reads and token_file is None:
        raise typer.BadParameter("--private-reads needs --token-file")
    with user_errors():
        settings = Settings(token=Settings.token_from(token_file),
                            private_reads=private_reads, max_body=max_body,
                            default_timeout=query_timeout, max_timeout=max(query_timeout, 30.0))
        run_server(db, rules, host=host, port=port, settings=settings, backend=backend)


def query(
    text: Annotated[str, typer.Argument(metavar="QUERY",
                                        help='A rule body, e.g. \'pending_order(o, c, "AAPL", '
                                             "s, q, p), q > 10'.")],
    db: Db,
    rules: Rules,
    as_of: Annotated[int | None, typer.Option(help="Answer as of this time (tick).")] = None,
    output: Annotated[Format, typer.Option("--format", help="table, json or csv.")]
    = Format.table,
    limit: Annotated[int | None, typer.Option(help="At most this many rows.")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds the query may run.")] = 30.0,
    backend: Backend = None,
) -> None:
    """Answer one query over a store's events: a table (money as money), JSON or CSV."""
    from api.cli.console import Console
    from api.http.server import open_live
    from api.query import render, run_query

    with user_errors():
        live = open_live(db, rules, backend)
        show_warnings(live.engine.program)
        try:
            answer = run_query(live.engine, text, as_of=as_of, limit=limit, timeout=timeout)
        finally:
            live.close()
    render(answer, output, Console(), timing=output is Format.table)


def repl(
    db: Db,
    rules: Rules,
    history: Annotated[Path | None, typer.Option(
        help="Where the input history is kept (default ~/.tempolog_history).")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds a query may run.")] = 30.0,
    backend: Backend = None,
) -> None:
    """Ask queries interactively, with history, completion and dot-commands (`.help`)."""
    from api.http.server import open_live
    from api.repl.session import Repl

    with user_errors():
        live = open_live(db, rules, backend)
        show_warnings(live.engine.program)
    try:
        live.follow()
        Repl(live, timeout=timeout).run(history or Path.home() / ".tempolog_history")
    finally:
        live.close()
