"""`tempolog serve` over a real uvicorn on 127.0.0.1: queries, events, rules, errors, SSE."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import httpx
import pytest
from service_fixtures import ROOT, TOKEN, Server

AUTH = {"Authorization": f"Bearer {TOKEN}"}
RUNAWAY = ("order_submitted(a, _, _, _, _, _, _, _, _), order_submitted(b, _, _, _, _, _, _, "
           "_, _), order_submitted(c, _, _, _, _, _, _, _, _), a != b, b != c")


@pytest.fixture(scope="module")
def server(small_store, token_file, tmp_path_factory):
    server = Server(small_store, tmp_path_factory.mktemp("log") / "serve.log",
                    "--token-file", str(token_file), "--query-timeout", "2")
    yield server
    server.stop()
    assert "Traceback" not in server.log.read_text()


def price_event(symbol: str, price: int, time: int, **extra) -> dict:
    return {"type": "PriceUpdated", "time": time, "stream_id": f"market-{symbol}",
            "payload": {"symbol": symbol, "price": price}, **extra}


def test_query_now_and_as_of_agree_with_the_stored_events(server):
    client = server.client
    events = client.get("/events", params={"type": "PriceUpdated", "limit": 1000}).json()
    aapl = sorted((e["payload"]["price"], e["time"]) for e in events["events"]
                  if e["payload"]["symbol"] == "AAPL")
    assert len(aapl) > 5
    now = client.post("/query", json={"query": 'price_updated("AAPL", p, t).'}).json()
    assert now["columns"] == ["p", "t"] and now["money_columns"] == ["p"]
    assert sorted(map(tuple, now["rows"])) == aapl
    assert now["count"] == len(aapl) and now["elapsed_ms"] > 0
    middle = sorted(t for _, t in aapl)[len(aapl) // 2]
    then = client.post("/query", json={"query": 'price_updated("AAPL", p, t)',
                                       "as_of": middle}).json()
    assert sorted(map(tuple, then["rows"])) == [(p, t) for p, t in aapl if t <= middle]
    assert then["as_of"] == middle
    limited = client.post("/query", json={"query": 'price_updated("AAPL", p, t)', "limit": 2})
    assert limited.json()["count"] == 2


def test_a_json_body_sent_the_way_curl_d_sends_it_is_read_as_json(server):
    body = '{"query": "market_opened(d, t)"}'
    for given in ({"Content-Type": "application/x-www-form-urlencoded"}, {},
                  {"Content-Type": "text/plain"}):
        response = server.client.post("/query", content=body, headers=given)
        assert response.status_code == 200 and response.json()["rows"] == [[0, 0]]
    refused = server.client.post("/query", content="query=x", headers={
        "Content-Type": "application/x-www-form-urlencoded"})  # a real form: not JSON
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "bad-json"
    assert "at character 0" in refused.json()["error"]["message"]
    listed = server.client.post("/query", json=[1])  # JSON, but not an object
    assert listed.status_code == 400 and listed.json()["error"]["code"] == "bad-json"
    assert "must be a JSON object" in listed.json()["error"]["message"]


def test_a_bad_query_is_a_400_with_positioned_diagnostics(server):
    response = server.client.post("/query", json={"query": "current_positon(c, s, q, a, r)"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "undefined-relation"
    assert error["diagnostics"][0]["column"] == 1
    assert "current_position" in error["diagnostics"][0]["hint"]
    too_long = server.client.post("/query", json={"query": "p(x), " * 3000 + "p(x)"})
    assert too_long.status_code == 400 and too_long.json()["error"]["code"] == "query-too-long"


def test_a_runaway_query_gets_504_and_the_next_query_its_answer(server):
    started = time.monotonic()
    response = server.client.post("/query", json={"query": RUNAWAY, "timeout": 0.5})
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "query-timeout"
    assert time.monotonic() - started < 5
    after = server.client.post("/query", json={"query": "market_opened(d, t)"})
    assert after.status_code == 200 and after.json()["rows"] == [[0, 0]]  # day 0 opens at tick 0


def test_a_query_asked_before_goes_straight_to_the_engine_and_keeps_its_limit(server):
    # A prepared query as of a time skips the worker thread (`pool` 0): its answers and
    # its 504 are those of the way through a worker.
    shape = "market_opened(d, t), t >= d"  # asked by no other test
    asked = [server.client.post("/query", json={"query": shape, "as_of": t}) for t in (3, 4)]
    assert [a.json()["rows"] for a in asked] == [[[0, 0]], [[0, 0]]]
    assert float(server_timing(asked[0])["pool"]) > 0 == float(server_timing(asked[1])["pool"])
    for as_of in (10**6, 10**6 + 1):  # compiled by the first, straight to the engine next
        response = server.client.post("/query", json={"query": RUNAWAY, "as_of": as_of,
                                                      "timeout": 0.5})
        assert response.status_code == 504
        assert response.json()["error"]["code"] == "query-timeout"
    after = server.client.post("/query", json={"query": shape, "as_of": 7})
    assert after.status_code == 200 and after.json()["rows"] == [[0, 0]]


def test_writes_need_the_token_and_reads_do_not(server):
    batch = {"events": [price_event("TOK", 100, 1)]}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        refused = server.client.post("/events", json=batch, headers=headers)
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "unauthorized"
        assert refused.headers["www-authenticate"] == "Bearer"
    assert server.client.post("/rules", json={"text": ""}).status_code == 401
    assert server.client.get("/events", params={"stream": "market-TOK"}).json()["events"] == []
    accepted = server.client.post("/events", json=batch, headers=AUTH)
    assert accepted.status_code == 200


def test_a_query_after_an_appends_head_seq_reads_it(server):
    client = server.client
    first = client.post("/events", json={"events": [price_event("NEW", 1234, 5)]},
                        headers=AUTH).json()
    answer = client.post("/query", json={"query": 'price_updated("NEW", p, t)',
                                         "after_seq": first["head_seq"]}).json()
    assert answer["rows"] == [[1234, 5]] and answer["seq"] >= first["seqs"][0]
    ahead = client.post("/query", json={"query": "price_updated(s, p, t)",
                                        "after_seq": first["head_seq"] + 10**6})
    assert ahead.status_code == 400 and ahead.json()["error"]["code"] == "after-seq-ahead"
    stored = client.get(f"/events/{first['seqs'][0]}").json()
    assert stored["payload"] == {"price": 1234, "symbol": "NEW"}
    assert client.get(f"/events/{stored['event_id']}").json()["seq"] == first["seqs"][0]


def test_an_invalid_event_is_rejected_naming_the_event_and_the_field(server):
    head = server.client.get("/health").json()["head_seq"]
    batch = {"events": [price_event("BAD", 1, 1), price_event("BAD", "one", 2)]}
    response = server.client.post("/events", json=batch, headers=AUTH)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "event-rejected"
    assert "event 1" in error["message"] and "payload.price" in error["message"]
    malformed = server.client.post("/events", json={"events": [{"type": "PriceUpdated"}]},
                                   headers=AUTH)
    assert malformed.status_code == 400
    assert "event 0: time" in malformed.json()["error"]["message"]
    assert server.client.get("/health").json()["head_seq"] == head  # nothing written


def test_idempotency_and_expected_versions(server):
    client = server.client
    batch = {"events": [price_event("IDM", 10, 1), price_event("IDM", 11, 2)]}
    headers = {**AUTH, "Idempotency-Key": "batch-7"}
    first = client.post("/events", json=batch, headers=headers).json()
    again = client.post("/events", json=batch, headers=headers).json()
    assert again["seqs"] == first["seqs"]
    assert len(client.get("/events", params={"stream": "market-IDM"}).json()["events"]) == 2
    stale = {"events": [price_event("IDM", 12, 3)], "expected_versions": {"market-IDM": 1}}
    conflict = client.post("/events", json=stale, headers=AUTH)
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "concurrency-conflict"
    current = {**stale, "expected_versions": {"market-IDM": 2}}
    assert client.post("/events", json=current, headers=AUTH).status_code == 200


def test_event_reads_page_filter_and_follow_causation(server):
    client = server.client
    page = client.get("/events", params={"type": "order_filled", "limit": 3}).json()
    assert [e["type"] for e in page["events"]] == ["OrderFilled"] * 3
    rest = client.get("/events", params={"type": "order_filled", "limit": 3,
                                         "from_seq": page["next_from_seq"]}).json()
    assert rest["events"][0]["seq"] > page["events"][-1]["seq"]
    fill = page["events"][0]
    chain = client.get(f"/events/{fill['seq']}/causation").json()
    assert chain[-1]["seq"] == fill["seq"] and chain[0]["causation_id"] is None
    assert all(a["event_id"] == b["causation_id"] for a, b in zip(chain, chain[1:]))
    related = client.get("/events", params={"correlation": fill["correlation_id"]}).json()
    assert fill["seq"] in [e["seq"] for e in related["events"]]
    missing = client.get("/events/no-such-event")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not-found"
    unknown = client.get("/events", params={"type": "Nonsense"})
    assert unknown.status_code == 400


def test_relations_stats_health_and_rules(server):
    client = server.client
    relations = {r["name"]: r for r in client.get("/relations").json()["relations"]}
    assert relations["current_position"]["columns"][:2] == ["client", "symbol"]
    assert relations["market_opened"]["count"] == 1 and relations["market_opened"]["is_event"]
    health = client.get("/health").json()
    assert health["lag"] == 0 and len(health["head_hash"]) == 64
    stats = client.get("/stats").json()
    assert stats["head_seq"] == health["head_seq"]
    assert {"OrderSubmitted", "PriceUpdated"} <= {t["type"] for t in stats["types"]}
    rules = client.get("/rules").json()
    assert rules["files"][0]["path"].endswith("trading.dl")


def test_a_bad_rule_set_is_422_with_every_diagnostic_and_the_old_rules_serve(server):
    client = server.client
    bad = '.include "events.dl"\nfoo(x) :- bar(x).\nbaz(x) :- price_updated(x, _, _), !qux(x).\n'
    response = client.post("/rules", json={"text": bad, "path": "desk.dl"}, headers=AUTH)
    assert response.status_code == 422
    diagnostics = response.json()["error"]["diagnostics"]
    assert {(d["line"], d["code"]) for d in diagnostics} >= {(2, "undefined-relation"),
                                                            (3, "undefined-relation")}
    assert all(d["path"].endswith("desk.dl") for d in diagnostics)
    still = client.post("/query", json={"query": "current_position(c, s, q, a, r)"})
    assert still.status_code == 200


def test_proofs_and_invariants_from_the_engine(server):
    check = server.client.post("/check", json={})
    assert check.status_code == 200 and {"ok", "results"} <= set(check.json())
    proof = server.client.post("/explain", json={"query": "market_opened(d, t)"})
    assert proof.status_code == 200
    missing = server.client.post("/why-not", json={"fact": "market_opened(7, 0)"})
    assert missing.status_code == 200
    with server.client.stream("GET", "/subscribe", params={"invariants": 1},
                              timeout=10) as stream:
        [snapshot] = _sse_events(stream.iter_lines(), 1)
    assert snapshot["event"] == "snapshot"
    assert snapshot["data"]["columns"] == ["invariant", "answer"]


def test_a_body_over_the_limit_is_413(server):
    response = server.client.post("/query", content=b"{" + b" " * (2 << 20) + b"}",
                                  headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and response.json()["error"]["code"] == "too-large"


def _sse_events(lines, count: int) -> list[dict]:
    """The next `count` SSE events from a stream's lines (comments skipped)."""
    events, current = [], {}
    for line in lines:
        if line.startswith(":"):
            continue
        if not line:
            if current:
                events.append({**current, "data": json.loads(current["data"])})
                current = {}
                if len(events) == count:
                    return events
            continue
        key, _, value = line.partition(": ")
        current[key] = value
    raise AssertionError(f"the stream ended after {events}")


def test_sse_pushes_new_answers_and_resumes_after_last_event_id(server):
    client, query = server.client, {"query": 'price_updated("SSE", p, t)'}
    with client.stream("GET", "/subscribe", params=query, timeout=10) as stream:
        lines = stream.iter_lines()
        [snapshot] = _sse_events(lines, 1)
        assert snapshot["event"] == "snapshot" and snapshot["data"]["rows"] == []
        seq = client.post("/events", json={"events": [price_event("SSE", 500, 7)]},
                          headers=AUTH).json()["seqs"][0]
        [change] = _sse_events(lines, 1)
    assert change["event"] == "answers" and int(change["id"]) >= seq
    assert change["data"]["added"] == [[500, 7]] and change["data"]["removed"] == []
    # While no one listens, two more answers arrive; a reconnect gets exactly those.
    for price, tick in ((501, 8), (502, 9)):
        client.post("/events", json={"events": [price_event("SSE", price, tick)]},
                    headers=AUTH)
    with client.stream("GET", "/subscribe", params=query, timeout=10,
                       headers={"Last-Event-ID": change["id"]}) as stream:
        # Stored is not yet applied (POST /events returns once stored): the two answers may
        # come as one change or, if the engine was still applying the second, as two.
        lines, missed = stream.iter_lines(), []
        while sum(len(event["data"]["added"]) for event in missed) < 2:
            missed += _sse_events(lines, 1)
    assert sorted(row for event in missed for row in event["data"]["added"]) == \
        [[501, 8], [502, 9]]
    assert all(event["event"] == "answers" and not event["data"]["removed"] for event in missed)
    assert int(missed[0]["id"]) > int(change["id"])
    bad = client.get("/subscribe", params={"query": "nope(x)"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "undefined-relation"


APPENDER = """
import sys
from sim import open_store
with open_store(sys.argv[1]) as store:
    store.append([{"type": "PriceUpdated", "time": 9, "stream_id": "market-EXT",
                   "payload": {"symbol": "EXT", "price": 777}}])
"""


def test_events_appended_by_another_process_become_facts_within_a_second(server, small_store):
    subprocess.run([sys.executable, "-c", APPENDER, str(small_store)], check=True, cwd=ROOT)
    written = time.monotonic()
    while True:
        rows = server.client.post("/query", json={"query": 'price_updated("EXT", p, t)'})
        if rows.json()["rows"]:
            break
        assert time.monotonic() - written < 1.0, "not a fact within 1 s"
        time.sleep(0.02)
    assert rows.json()["rows"] == [[777, 9]]


def test_no_traceback_reaches_a_client(server):
    for response in (server.client.post("/query", content=b"not json",
                                        headers={"Content-Type": "application/json"}),
                     server.client.get("/nowhere"),
                     server.client.delete("/events")):
        assert response.status_code in (400, 404, 405)
        assert set(response.json()) == {"error"}
        assert "Traceback" not in response.text
    assert isinstance(httpx.get(server.url + "/openapi.json").json()["paths"], dict)


def test_rules_with_a_warning_are_served_and_the_body_lists_it(server):
    # Last of the module: the rule set it posts serves on (trading.dl and one more rule).
    text = ('.include "trading.dl"\n'
            "unpriced(s) :- order_submitted(_, _, s, _, _, _, _, _, _), !price_updated(s, p, _).\n")
    response = server.client.post("/rules", json={"text": text, "path": "desk.dl"},
                                  headers=AUTH)
    assert response.status_code == 200
    [warning] = response.json()["warnings"]
    assert (warning["severity"], warning["code"], warning["line"], warning["column"]) == (
        "warning", "negation-only-variable", 2, 78)
    assert warning["path"].endswith("desk.dl") and "`_`" in warning["hint"]
    assert server.client.get("/rules").json()["warnings"] == [warning]
    answer = server.client.post("/query", json={"query": "unpriced(s)"})
    assert answer.status_code == 200 and answer.json()["columns"] == ["s"]


def server_timing(response: httpx.Response) -> dict[str, str]:
    """`app;dur=1.2, cache;desc=hit` -> {"app": "1.2", "cache": "hit"}."""
    metrics = {}
    for metric in response.headers["server-timing"].split(","):
        name, _, param = metric.strip().partition(";")
        metrics[name] = param.partition("=")[2]
    return metrics


def test_every_answer_says_the_servers_own_time_and_whether_it_was_kept(server):
    body = {"query": 'price_updated("MSFT", p, t)', "as_of": 77}  # asked by no other test
    before = server.client.get("/stats").json()["answers"]
    first, again = (server.client.post("/query", json=body) for _ in range(2))
    assert first.json()["rows"] == again.json()["rows"] != []
    assert (first.json()["cached"], again.json()["cached"]) == (False, True)
    computed, kept = server_timing(first), server_timing(again)
    assert computed["cache"] == "miss" and kept["cache"] == "hit" and "engine" not in kept
    assert float(computed["app"]) >= float(computed["engine"]) > 0
    # the waits are parts of the miss's time: for the Prolog thread inside the engine's
    assert float(computed["engine"]) >= float(computed["queue"]) >= 0
    assert float(computed["app"]) >= float(computed["pool"]) >= 0
    after = server.client.get("/stats").json()["answers"]
    assert (after["hits"] - before["hits"], after["misses"] - before["misses"]) == (1, 1)
    assert after["kept"] >= 1
    append = server.client.post("/events", headers=AUTH,
                                json={"events": [price_event("TIMING", 100, 200)]})
    assert append.status_code == 200 and float(server_timing(append)["store"]) > 0
    errors = server.client.post("/query", json={"query": "nope(x)"})
    assert errors.status_code == 400 and float(server_timing(errors)["app"]) > 0


def test_integers_past_64_bits_are_answered_exactly(server):
    big = 2**70
    response = server.client.post("/query", json={
        "query": f'price_updated("AAPL", p, t), x = p * {big}', "limit": 3})
    assert response.status_code == 200, response.text
    rows = response.json()["rows"]
    assert rows and all(x == p * big for p, t, x in rows)
