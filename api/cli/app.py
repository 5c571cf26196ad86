"""The `tempolog` command: one typer app holding every command; `main` is the console script."""

from __future__ import annotations

import sys

import typer

from api.cli import audit, explain, lint, replay, service, sim, store
from api.cli.errors import USER_ERRORS, fail, message
from api.cli.errors import exit_code as code_of

app = typer.Typer(
    help="Temporal Datalog rules over an event-sourced trading system.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _group() -> None:
    """Temporal Datalog rules over an event-sourced trading system."""


for commands in (lint, sim, store, explain, service, replay, audit):
    commands.register(app)


def main() -> None:
    try:
        app()
    except USER_ERRORS as error:  # a user's mistake that a command did not catch itself
        fail(message(error), code_of(error))


if __name__ == "__main__":
    sys.exit(main())
