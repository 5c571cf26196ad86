"""A small simulated store shared by the audit tests (replay, snapshots, statements, report)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from sim.config import DEFAULT_CLIENTS, SimConfig
from sim.exchange.simulator import simulate
from sim.store import open_store

# 1,200 ticks (two trading days, trades settled after 100 ticks) with one client that
# overrides its position and concentration breaches: every event type and every finding.
AUDIT_CONFIG = SimConfig(ticks=1_200, seed=3, settlement_ticks=100, clients=tuple(
    dataclasses.replace(c, overrides=("position", "concentration")) if c.id == "client-2" else c
    for c in DEFAULT_CLIENTS))


@pytest.fixture(scope="session")
def audit_db(tmp_path_factory) -> Path:
    """The path of a store holding one AUDIT_CONFIG run; tests must not change it (copy it
    with `store_copy` to change anything)."""
    path = tmp_path_factory.mktemp("audit") / "events.db"
    with open_store(path, create=True, durable=False) as store:
        store.append(simulate(AUDIT_CONFIG))
    return path


@pytest.fixture
def audit_store(audit_db):
    with open_store(audit_db) as store:
        yield store


@pytest.fixture
def store_copy(audit_db, tmp_path) -> Path:
    target = tmp_path / "copy.db"
    shutil.copyfile(audit_db, target)
    return target
