"""The store writer process: appends the batches framed on stdin, answers each on stdout."""

from __future__ import annotations

import sys

from sim.events.types import Event
from sim.store.frames import recv_frame, send_frame
from sim.store.url import open_store


def main(argv: list[str]) -> int:
    url, mode = argv
    source, answers = sys.stdin.buffer, sys.stdout.buffer
    failed = False
    with open_store(url, create=True, durable=mode == "--durable") as store:
        while (batch := recv_frame(source)) is not None:
            if failed:  # keep reading, so that the sender never blocks on a full pipe
                continue
            try:
                seqs = store.append([Event._make(row) for row in batch])
                send_frame(answers, ("ok", seqs[0], len(seqs)))
            except Exception as error:  # the sender raises it
                failed = True
                send_frame(answers, ("error", error))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
