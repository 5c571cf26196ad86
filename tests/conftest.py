"""Shared fixtures: `engine_factory` runs a test once per evaluation backend; a PostgreSQL
server for the run (`postgres_server`) and an empty schema of it per test (`postgres_url`)."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests import their helpers (naive, cases_io)
pytest_plugins = ("audit_support",)  # the simulated store the audit tests share

from pg_server import postgres_server, postgres_url  # noqa: E402, F401  (fixtures for all)

from engine.analysis import program_from_source  # noqa: E402
from engine.analysis.program import Program  # noqa: E402
from engine.backends.factory import BACKENDS, backend_class  # noqa: E402


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """The name of one backend; tests using it run once per backend. Both are requirements
    (`make` installs SWI-Prolog), so a backend that cannot start fails the test."""
    backend_class(request.param)
    return request.param


@pytest.fixture
def engine_factory(backend):
    """`make(program_or_source, facts=None, **options)` -> a new Engine on this test's
    backend, loaded with `facts` ({relation: rows}); every engine is closed afterwards."""
    engines = []

    def make(program: Program | str, facts: Mapping[str, Iterable[tuple]] | None = None,
             **options):
        if isinstance(program, str):
            program = program_from_source(program)
        engine = backend_class(backend)(program, **options)
        engines.append(engine)
        for relation, rows in (facts or {}).items():
            engine.assert_facts(relation, list(rows))
        return engine

    make.backend = backend
    yield make
    for engine in engines:
        engine.close()
