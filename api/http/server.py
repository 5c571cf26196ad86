"""`tempolog serve`: load the rules, replay the store, tail it, and serve HTTP with uvicorn."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import uvicorn

from api.http.app import create_app
from api.http.security import Settings
from api.live import LiveEngine
from engine.errors import format_diagnostics
from sim import StoreNotFound, open_store


def open_live(db: str, rules: list[Path], backend: str | None = None) -> LiveEngine:
    """A live engine over an existing store (StoreNotFound when there is none)."""
    try:
        store = open_store(db)
    except StoreNotFound as error:
        raise StoreNotFound(f"{error} (run `tempolog sim --db {db}` first)") from None
    try:
        return LiveEngine(store, list(rules), backend=backend)
    except BaseException:
        store.close()
        raise


def serve(db: str, rules: list[Path], *, host: str = "127.0.0.1", port: int = 8000,
          settings: Settings | None = None, backend: str | None = None,
          log_level: str = "info") -> None:
    settings = settings or Settings()
    live = open_live(db, rules, backend)
    try:
        if live.engine.program.warnings:  # as `tempolog lint` shows them; they fail nothing
            print(format_diagnostics(list(live.engine.program.warnings)), file=sys.stderr)
        with live.store_lock:  # an empty append reads every stream's head now, not in
            live.store.append([])  # the first command (1.5 s on the default simulation)
        live.follow()
        app = create_app(live, settings)
        seq = live.applied_seq
        print(f"tempolog: {seq:,} events of {db} are facts of {', '.join(map(str, rules))}; "
              f"serving on http://{host}:{port} (docs at /docs)"
              + ("; writes need the token" if settings.token else ""),
              file=sys.stderr, flush=True)
        logging.getLogger("tempolog").setLevel(log_level.upper())
        uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)
    finally:
        live.close()
        live.store.close()
