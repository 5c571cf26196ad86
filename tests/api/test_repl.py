"""`tempolog repl` end to end in a pseudo-terminal, typed at as a person types."""

from __future__ import annotations

import os
import re
import time

import pexpect
import pytest
from service_fixtures import ROOT, TEMPOLOG, TRADING

# A fresh prompt, not a redraw of the line being typed: each prompt turns bracketed paste on.
PROMPT = re.compile(r"\x1b\[\?2004h[^\n]*?tempolog>")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    return tmp_path_factory.mktemp("repl") / "history"


def spawn(db, history, *extra: str) -> pexpect.spawn:
    env = {**os.environ, "TERM": "xterm", "NO_COLOR": "1", "PROMPT_TOOLKIT_NO_CPR": "1"}
    child = pexpect.spawn(TEMPOLOG, ["repl", "--db", str(db), "--rules", str(TRADING),
                                     "--history", str(history), *extra],
                          cwd=str(ROOT), env=env, encoding="utf-8", dimensions=(50, 200),
                          timeout=60)
    child.expect("End a query with")
    child.expect(PROMPT)
    return child


def until_prompt(child) -> str:
    """What the REPL printed before its next prompt, without terminal control codes."""
    child.expect(PROMPT)
    return ANSI.sub("", child.before)


def test_queries_commands_errors_and_history_in_a_terminal(small_store, history):
    child = spawn(small_store, history)
    child.sendline("current_position(c, s, q, a, r),")  # not ended: a second line follows
    child.expect(r"\.\.\.>")
    child.sendline("  q > 20.")
    out = until_prompt(child)
    assert re.search(r"\d+ rows? in \d+\.\d ms", out)
    assert "a ($)" in out and re.search(r"\d+\.\d\d", out)  # money as dollars

    child.sendline("current_positon(c, s, q, a, r).")
    out = until_prompt(child)
    assert "error[undefined-relation]" in out and "did you mean current_position?" in out
    caret = next(line for line in out.splitlines() if line.strip() == "^")
    assert caret.index("^") == len("tempolog> ")  # under the first letter typed

    child.sendline(".help")
    out = until_prompt(child)
    for command in (".asof", ".explain", ".whynot", ".check", ".relations", ".schema",
                    ".load", ".events", ".timing", ".format", ".quit"):
        assert command in out

    child.sendline(".asof 50")
    assert "as of t=50" in until_prompt(child)
    child.sendline(".format csv")
    until_prompt(child)
    child.sendline("market_opened(d, t).")
    assert "d,t\r\n0,0" in until_prompt(child)
    child.sendline(".asof now")
    until_prompt(child)
    child.sendline(".format table")
    until_prompt(child)

    child.sendline(".schema price_updated")
    out = until_prompt(child)
    assert "symbol" in out and "time" in out
    child.sendline(".events type=MarketOpened limit=1")
    assert "MarketOpened" in until_prompt(child)
    child.sendline(".frobnicate")
    assert "unknown command .frobnicate" in until_prompt(child)
    child.sendline(".check")
    out = until_prompt(child)
    assert "invariants checked" in out  # the engine runs the .never invariants

    child.send("pric")  # completion of a relation name
    child.send("\t")
    child.expect("e_updated")  # the one relation starting so, completed in place
    child.send("\x15")  # Ctrl-U clears the line
    child.sendline(".quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "market_opened(d, t)." in history.read_text()  # kept for the next session


RUNAWAY = ("order_submitted(a, _, _, _, _, _, _, _, _), order_submitted(b, _, _, _, _, _, _, "
           "_, _), order_submitted(x, _, _, _, _, _, _, _, _), a != b, b != x.")


def test_ctrl_c_stops_a_running_query_not_the_session(small_store, history):
    # A time limit no test waits for: the next query answers only if Ctrl-C stopped this one
    # in the engine, not merely stopped waiting for it.
    child = spawn(small_store, history, "--timeout", "600")
    child.sendline(RUNAWAY)
    child.expect_exact("\x1b[?2004l")  # the prompt has ended: the terminal is cooked again
    time.sleep(0.3)  # and the query is running
    child.sendintr()
    assert "cancelled" in until_prompt(child)
    child.sendline("market_opened(d, t).")
    out = until_prompt(child)
    assert "1 row in" in out
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_load_shows_the_warnings_of_the_rules_and_loads_them(small_store, history, tmp_path):
    desk = tmp_path / "desk.dl"
    desk.write_text(".decl lone(x: number)\n.decl pair(x: number, y: number)\n"
                    "alone(x) :- lone(x), !pair(x, y).\n")
    child = spawn(small_store, history)
    child.sendline(f".load {desk}")
    out = until_prompt(child)
    assert f"{desk}:3:31: warning[negation-only-variable]: variable y occurs only in this " \
           "negated atom" in out
    assert "1 warning generated" in out and f"loaded {desk}:" in out
    child.sendline("alone(x).")
    assert "0 rows in" in until_prompt(child)  # alone is served: no lone facts, no answers
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
