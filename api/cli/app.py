"""The `tempolog` command: one typer app holding every command; `main` is the console script."""

from __future__ import annotations

import sys

import typer

from api.cli import audit, explain, lint, replay, service, sim, store
from api.cli.errors import USER_ERRORS, message, report_internal
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
    """The console script: never a traceback; a bug exits INTERNAL (3) with one line."""
    try:
        app()
    except USER_ERRORS as error:  # a user's mistake that a command did not catch itself
        print(message(error), file=sys.stderr)
        sys.exit(code_of(error))
    except Exception as error:  # noqa: BLE001 - anything else is a bug
        sys.exit(report_internal(error))


if __name__ == "__main__":
    sys.exit(main())
