"""The `tempolog` command: one typer app that ties engine, sim and api together."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from api.cli import sim as sim_cli
from engine.errors import DiagnosticError, TempologError

app = typer.Typer(
    help="Temporal Datalog rules over an event-sourced trading system.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _group() -> None:
    """Temporal Datalog rules over an event-sourced trading system."""


class Format(StrEnum):
    text = "text"
    json = "json"


def fail(message: str, code: int = 1) -> None:
    """Print a user-facing error (never a traceback) and exit."""
    typer.echo(message, err=True)
    raise typer.Exit(code)


@app.command()
def lint(
    files: Annotated[list[Path], typer.Argument(help="Rule files (.dl) to check together.")],
    output: Annotated[Format, typer.Option("--format", help="text, or json for tools.")] = (
        Format.text),
) -> None:
    """Check rule files: syntax, declarations, safety, types and stratification."""
    from engine.analysis import load_program

    try:
        program = load_program(files)
    except DiagnosticError as error:
        if output is Format.json:
            typer.echo(json.dumps({"ok": False, "errors": [d.to_dict() for d in
                                                          error.diagnostics]}, indent=2))
        else:
            typer.echo(error.format(), err=True)
        raise typer.Exit(1) from None
    strata = len(program.strata)
    if output is Format.json:
        typer.echo(json.dumps({
            "ok": True,
            "relations": len(program.relations),
            "rules": sum(1 for r in program.rules if not r.is_fact),
            "facts": sum(1 for r in program.rules if r.is_fact),
            "invariants": len(program.invariants),
            "strata": strata,
        }, indent=2))
    else:
        names = ", ".join(str(f) for f in files)
        typer.echo(f"{names}: ok — {program.summary()}")


sim_cli.register(app)


def main() -> None:
    try:
        app()
    except TempologError as error:  # a user's mistake that a command did not catch itself
        fail(error.user_message())
    except KeyboardInterrupt:
        fail("interrupted", 130)


if __name__ == "__main__":
    sys.exit(main())
