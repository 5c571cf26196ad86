"""The commands' rich Console: a reader that stops reading ends a command quietly."""

from __future__ import annotations

import os
import sys

from rich.console import Console as RichConsole


class Console(RichConsole):
    """rich's Console, except that a closed pipe (`tempolog replay | head`) exits 0, as
    `tempolog events | head` does: the reader chose to stop, nothing failed (rich exits 1)."""

    def on_broken_pipe(self) -> None:
        if self.quiet:
            return
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that the interpreter's flush at exit is quiet
        raise SystemExit(0)
