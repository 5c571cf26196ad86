"""Tab completion: commands at the start of a line, relations, and a relation's columns."""

from __future__ import annotations

import re

from prompt_toolkit.completion import Completer, Completion

from api.repl.commands import COMMANDS, EVENT_FILTERS

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")
_OPEN_ATOM = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\(([^()]*)$")  # `rel(a, b` before the cursor


class ReplCompleter(Completer):
    """Completes from the live engine's relations, so a `.load` shows up at once."""

    def __init__(self, relations):
        self.relations = relations  # a callable: name -> Relation

    def get_completions(self, document, complete_event):
        before = document.text_before_cursor
        line = document.current_line_before_cursor
        if line.startswith(".") and " " not in line:
            for command in COMMANDS:
                if command.name.startswith(line):
                    yield Completion(command.name, -len(line), display_meta=command.help)
            return
        word = _WORD.search(before)
        prefix = word.group(0) if word else ""
        relations = self.relations()
        if line.startswith(".events"):
            yield from _matching((f"{key}=" for key in EVENT_FILTERS), prefix)
            return
        atom = _OPEN_ATOM.search(before)
        if atom and atom.group(1) in relations and not line.startswith("."):
            # Inside `rel(`: the columns' names make good variable names.
            column = atom.group(2).count(",")
            fields = relations[atom.group(1)].fields
            if column < len(fields):
                yield from _matching([fields[column]], prefix, "column")
            return
        yield from _matching(sorted(relations), prefix, "relation")


def _matching(words, prefix: str, meta: str = ""):
    for word in words:
        if word.startswith(prefix) and word != prefix:
            yield Completion(word, -len(prefix), display_meta=meta)
