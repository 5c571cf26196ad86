"""Hypothesis strategies that mutate valid rule files, queries, events and simulator settings
into hostile ones: the fuzz tests (tests/test_fuzz.py) and bench/fuzz.py share them."""

from __future__ import annotations

from pathlib import Path

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
RULE_SEEDS = sorted(p.read_text() for p in (ROOT / "tests/cases").glob("*/*.dl"))[:40]
QUERY_SEEDS = ['p(x, s)', 'p(x, "a"), x > 0', 'q(n), n = count : { p(_, _) }',
               'p(x, s), y = x * 2 + 1', '!p(3, "b"), p(x, _)', 'p(x, s), s != "a"']
# Pieces that broke tempolog once (issue 14) or are plausible trouble.
HOSTILE = ["9" * 4400, "1.0e400", "1e308 * 10.0", "-_", '"\\x"', '"\\ud800"', '"\\U0011ffff"',
           "\\0", "\x00", "\udc80", "(" * 60, ")" * 60, " + 1" * 300, "-" * 300,
           "count : { " * 50, "}" * 50, '.include "/dev/zero"\n', '.include "a\\0b"\n',
           '.include "nope.dl"\n', ":-", ".", ",", "!", "_", "/*", "//", '"', "\n", "\t",
           ".decl", ".event", ".never", "é", "\u202e", "x", "0", "1.5", "=", "<", "%", "/ 0"]


@st.composite
def mutated(draw, seeds: list[str]) -> str:
    """A seed text with up to four edits: an inserted hostile piece or random text, a cut,
    or a duplicated span."""
    text = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(["hostile", "random", "cut", "copy"]))
        if edit == "hostile":
            text = text[:at] + draw(st.sampled_from(HOSTILE)) + text[at:]
        elif edit == "random":
            text = text[:at] + draw(st.text(max_size=8)) + text[at:]
        else:
            end = draw(st.integers(at, min(len(text), at + 40)))
            text = text[:at] + (text[at:end] * 2 if edit == "copy" else "") + text[end:]
    return text


def rule_files():
    return mutated(RULE_SEEDS)


def queries():
    return mutated(QUERY_SEEDS)


# ---- events: a valid PriceUpdated with one field replaced by something hostile

HOSTILE_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(2**63 - 2, 2**64),
    st.floats(allow_nan=True), st.text(max_size=5), st.sampled_from(["\ud800", "x" * 1100, ""]),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(),
                                                         max_size=2))
ENVELOPE_FIELDS = ["type", "time", "stream_id", "payload", "event_id", "ts", "version",
                   "causation_id", "correlation_id", "idempotency_key"]


@st.composite
def events(draw) -> dict:
    event = {"type": "PriceUpdated", "time": draw(st.integers(0, 5)),
             "stream_id": "market-AAPL", "payload": {"symbol": "AAPL", "price": 19_000}}
    for _ in range(draw(st.integers(0, 2))):
        if draw(st.booleans()):
            event[draw(st.sampled_from(ENVELOPE_FIELDS))] = draw(HOSTILE_VALUES)
        else:
            payload = dict(event["payload"]) if isinstance(event["payload"], dict) else {}
            payload[draw(st.sampled_from(["symbol", "price", "extra"]))] = draw(HOSTILE_VALUES)
            event["payload"] = payload
    if draw(st.integers(0, 9)) == 0:
        event[draw(st.text(max_size=4))] = 1  # a field no event has
    return event


# ---- simulator settings: a few valid ones, some replaced by hostile values

SETTINGS = {"seed": st.integers(0, 10), "ticks": st.integers(0, 30),
            "orders_per_tick": st.integers(0, 3), "day_ticks": st.integers(1, 50),
            "price_interval": st.integers(1, 10), "epoch": st.just("2026-01-05T14:30:00Z"),
            "symbols": st.just({"AAPL": 19_000})}
HOSTILE_SETTINGS = st.one_of(
    HOSTILE_VALUES, st.sampled_from([1.5, True, "abc", -1, 0, 2**63, "1960-01-01T00:00:00Z",
                                     {"": 100}, {"A" * 300: 100}, {"A": 2**63}, {"A": 0}]))


@st.composite
def settings(draw) -> dict:
    chosen = {name: draw(value) for name, value in SETTINGS.items() if draw(st.booleans())}
    for _ in range(draw(st.integers(0, 2))):
        chosen[draw(st.sampled_from(sorted(SETTINGS) + ["halt_ticks", "tick_us"]))] = draw(
            HOSTILE_SETTINGS)
    return chosen
