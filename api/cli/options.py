"""Options more than one command takes, spelled once."""

from __future__ import annotations

from typing import Annotated

import typer

DEFAULT_DB = "var/events.db"

Db = Annotated[str, typer.Option(
    "--db", envvar="TEMPOLOG_DB",
    help="The event store: an SQLite file, or a URL (sqlite:PATH, postgresql://…).")]
