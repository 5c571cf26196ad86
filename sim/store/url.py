"""open_store: an event store from a path or URL; a backend is the module named by the scheme."""

from __future__ import annotations

import importlib
import importlib.util
import re
from pathlib import Path

from engine import TempologError
from sim.store.base import EventStore

_SCHEME = re.compile(r"^([a-z][a-z0-9]*):")


def open_store(url: str | Path, *, create: bool = False, durable: bool = True) -> EventStore:
    """The event store at `url`: a path (an SQLite file) or `scheme:...`, served by the
    module sim.store.<scheme> (its `open_url(url, create=, durable=)` and `remove_url(url)`:
    a new backend is one new module). An existing store
    unless `create`: StoreNotFound (a FileNotFoundError) if there is none."""
    backend, text = _backend(url)
    return backend.open_url(text, create=create, durable=durable)


def remove_store(url: str | Path) -> None:
    """Delete the store at `url` and everything in it (`tempolog sim --overwrite`)."""
    backend, text = _backend(url)
    backend.remove_url(text)


def _backend(url: str | Path):
    """The backend module of a URL (a plain path is an SQLite file), and the URL as text."""
    text = str(url)
    found = _SCHEME.match(text) if not isinstance(url, Path) else None
    if found is None:
        scheme, text = "sqlite", "sqlite:" + text
    else:
        scheme = found.group(1)
    name = f"sim.store.{scheme}"
    backend = importlib.import_module(name) if importlib.util.find_spec(name) else None
    if not hasattr(backend, "open_url"):
        raise TempologError(f"{url}: no event store backend for {scheme}: URLs (one is a "
                            f"module sim/store/{scheme}.py with an open_url)", code="usage")
    return backend, text
