"""The REPL's dot-commands: one table that `.help`, completion and the docs all read."""

from __future__ import annotations

from typing import NamedTuple


class Command(NamedTuple):
    name: str
    args: str
    help: str


COMMANDS = (
    Command(".asof", "T|now", "answer the next queries as of time T (the events with "
                              "time <= T), or over every event again"),
    Command(".explain", "QUERY", "proof trees of the query's answers: rules and events"),
    Command(".whynot", "FACT", "why a fact does not hold: what each derivation lacks"),
    Command(".check", "", "run every .never invariant; list the violations"),
    Command(".relations", "", "every relation: columns, whether an event, how many facts"),
    Command(".schema", "REL", "one relation's columns and their types"),
    Command(".load", "FILE", "add a rule file to the rule set (the old rules stay if it "
                             "has errors)"),
    Command(".events", "[key=value …]", "events from the store; keys: type, stream, "
                                        "correlation, from_seq, to_seq, from_time, to_time, "
                                        "limit (default 20)"),
    Command(".timing", "on|off", "show the time each query took"),
    Command(".format", "table|json|csv", "how answers are printed (money as dollars in "
                                         "tables and CSV, cents in JSON)"),
    Command(".help", "", "this table"),
    Command(".quit", "", "leave (Ctrl-D too)"),
)

BY_NAME = {command.name: command for command in COMMANDS}

EVENT_FILTERS = {"type": str, "stream": str, "correlation": str, "from_seq": int,
                 "to_seq": int, "from_time": int, "to_time": int, "limit": int}
