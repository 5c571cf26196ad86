"""docs/rules.md: every query of the tour runs against the rules, and shows its answer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine import engine_from_files
from sim.config import SimConfig
from sim.exchange.simulator import Simulation
from sim.sinks import EngineSink

ROOT = Path(__file__).resolve().parent.parent
TOUR = (ROOT / "docs" / "rules.md").read_text()
QUERIES = re.findall(r"```query\n(.*?)\n```", TOUR, re.DOTALL)


@pytest.fixture(scope="module")
def engine():
    with engine_from_files([ROOT / "rules" / "trading.dl"], "swipl") as engine:
        Simulation(SimConfig(ticks=300)).run([EngineSink(engine)])
        yield engine


def test_the_tour_shows_a_query_and_an_answer_for_each_question():
    assert len(QUERIES) >= 21
    answers = re.findall(r"```query\n.*?\n```\n```text\n(.*?)```", TOUR, re.DOTALL)
    assert len(answers) == len(QUERIES) and all(a.strip() for a in answers)
    assert "SAMPLE" not in TOUR


@pytest.mark.parametrize("query", QUERIES)
def test_every_query_of_the_tour_runs(engine, query):
    result = engine.query(query, timeout=None)
    assert result.columns  # the answer's columns are the query's variables
