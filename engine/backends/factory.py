"""Backend selection: TEMPOLOG_BACKEND=swipl|pydatalog, SWI-Prolog by default, with a fallback."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from pathlib import Path

from engine.analysis import Program, load_program
from engine.engine import Engine, register_factory
from engine.errors import BackendUnavailable

BACKENDS = ("swipl", "pydatalog")
DEFAULT = "swipl"
_warned = False


def backend_class(name: str) -> type[Engine]:
    """The Engine class of backend `name`; BackendUnavailable if it cannot run here."""
    if name == "swipl":
        from engine.backends.swipl.backend import SwiplEngine
        from engine.backends.swipl.thread import PrologThread

        PrologThread.shared()  # raises BackendUnavailable when libswipl is missing
        return SwiplEngine
    if name == "pydatalog":
        try:
            from engine.backends.pydatalog.backend import PyDatalogEngine
        except ImportError as error:
            raise BackendUnavailable(f"pyDatalog is not installed: {error}") from error
        return PyDatalogEngine
    raise BackendUnavailable(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")


def chosen_backend(backend: str | None = None) -> type[Engine]:
    """`backend` if given (it must be available); else TEMPOLOG_BACKEND or swipl, falling
    back to pyDatalog with one warning when SWI-Prolog cannot run."""
    global _warned
    if backend is not None:
        return backend_class(backend)
    name = os.environ.get("TEMPOLOG_BACKEND", "").strip().lower() or DEFAULT
    if name not in BACKENDS:
        raise BackendUnavailable(
            f"TEMPOLOG_BACKEND={name!r} is not a backend; choose one of {', '.join(BACKENDS)}")
    if name == "pydatalog":
        return backend_class("pydatalog")
    try:
        return backend_class("swipl")
    except BackendUnavailable as error:
        if not _warned:
            _warned = True
            warnings.warn(f"{error}. Falling back to the pyDatalog backend, which is 30-70x "
                          "slower; install SWI-Prolog (apt-get install swi-prolog-nox) to use "
                          "the default backend.", RuntimeWarning, stacklevel=3)
        return backend_class("pydatalog")


def open_engine(program: Program, backend: str | None = None) -> Engine:
    """An engine for `program` on the chosen backend."""
    return chosen_backend(backend)(program)


def engine_from_files(paths: Iterable[str | Path], backend: str | None = None) -> Engine:
    return open_engine(load_program(list(paths)), backend)


register_factory(open_engine)
