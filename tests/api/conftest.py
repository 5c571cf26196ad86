"""Fixtures for the service tests: small simulated stores, a token file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from service_fixtures import TOKEN, simulate


@pytest.fixture(scope="session")
def pristine_store(tmp_path_factory) -> Path:
    return simulate(tmp_path_factory.mktemp("pristine") / "events.db")


@pytest.fixture(scope="module")
def small_store(pristine_store, tmp_path_factory) -> Path:
    """A copy of one simulated store per test module: each module may append to its own."""
    path = tmp_path_factory.mktemp("store") / "events.db"
    shutil.copyfile(pristine_store, path)
    return path


@pytest.fixture(scope="module")
def token_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("token") / "token"
    path.write_text(TOKEN + "\n")
    return path
