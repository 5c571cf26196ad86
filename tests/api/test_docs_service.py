"""Every session shown in the README, docs/service.md and docs/repl.md runs, as shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from docs_sessions import (
    DOCS,
    curl_sessions,
    repl_sessions,
    run_curl,
    run_repl_input,
    same_output,
    same_repl_output,
)
from service_fixtures import Server

from api.live import LiveEngine
from api.repl.session import Repl
from sim import open_store

README = (DOCS.parent / "README.md").read_text()
SERVICE = curl_sessions(README) + curl_sessions((DOCS / "service.md").read_text())
REPL = repl_sessions(README) + repl_sessions((DOCS / "repl.md").read_text())


@pytest.fixture(scope="module")
def doc_server(small_store, tmp_path_factory):
    token = tmp_path_factory.mktemp("token") / "token"
    token.write_text("let-me-in\n")  # the docs' token
    server = Server(small_store, tmp_path_factory.mktemp("log") / "serve.log",
                    "--token-file", str(token), rules=Path("rules/trading.dl"))
    yield server
    server.stop()


def test_the_service_session_shows_what_the_server_answers(doc_server):
    assert len(SERVICE) >= 10
    for command, shown in SERVICE:  # in order: later commands see earlier appends
        got = run_curl(doc_server.client, command)
        assert same_output(shown, got), f"{command}\nshown: {shown}\ngot:   {got}"


def test_the_repl_session_shows_what_the_repl_prints(pristine_store, monkeypatch):
    monkeypatch.chdir(DOCS.parent)  # the sessions name rules/trading.dl
    assert len(REPL) >= 8
    store = open_store(pristine_store)
    live = LiveEngine(store, [Path("rules/trading.dl")])
    try:
        repl = Repl(live)
        for typed, shown in REPL:
            got = run_repl_input(repl, typed)
            assert same_repl_output(shown, got), f"{typed}\nshown:\n{shown}\ngot:\n{got}"
    finally:
        live.close()
        store.close()


def _metrics(header: str) -> list[str]:
    """`app;dur=4.1, cache;desc=miss` -> ['app;dur', 'cache;desc=miss']: names and kinds,
    without the durations, which differ from run to run."""
    return [metric.strip().split("=")[0] if "dur=" in metric else metric.strip()
            for metric in header.split(",")]


def test_the_server_timing_headers_shown_are_the_servers(doc_server):
    shown = [_metrics(line.partition(": ")[2]) for line in
             (DOCS / "service.md").read_text().splitlines() if line.startswith("server-timing:")]
    client = doc_server.client
    query = {"query": 'price_updated("AAPL", p, t)', "as_of": 33}
    miss, hit = (client.post("/query", json=query) for _ in range(2))
    append = client.post("/events", headers={"Authorization": "Bearer let-me-in"}, json={
        "events": [{"type": "PriceUpdated", "time": 500, "stream_id": "market-DOCS",
                    "payload": {"symbol": "DOCS", "price": 100}}]})
    got = [_metrics(r.headers["server-timing"]) for r in (miss, hit, append)]
    assert shown == got
