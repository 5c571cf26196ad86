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
