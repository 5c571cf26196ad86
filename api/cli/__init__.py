"""The `tempolog` command line: one typer app; `main` is the console script."""

from api.cli.app import app, main

__all__ = ["app", "main"]
