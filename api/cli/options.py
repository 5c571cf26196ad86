"""Options more than one command takes, spelled once."""

from __future__ import annotations

import re
from typing import Annotated

import typer

DEFAULT_DB = "var/events.db"

Db = Annotated[str, typer.Option(
    "--db", envvar="TEMPOLOG_DB",
    help="The event store: an SQLite file, or a URL (sqlite:PATH, postgresql://…).")]


def shown(db: str) -> str:
    """The store's path or URL as messages show it: a URL's password replaced by ***."""
    return re.sub(r"^([a-z][a-z0-9+.-]*://[^/:@]*):[^/@]*@", r"\1:***@", str(db))
