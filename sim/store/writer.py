"""The store writer process: appends the batches framed on stdin, answers each on stdout."""

from __future__ import annotations

import pickle
import struct
import sys
from typing import IO, Any

_HEADER = struct.Struct("<Q")


def send_frame(out: IO[bytes], value: Any) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(_HEADER.pack(len(data)) + data)
    out.flush()


def recv_frame(source: IO[bytes]) -> Any:
    """The next framed value, or None at the end of the stream."""
    header = _read_exactly(source, _HEADER.size)
    if header is None:
        return None
    body = _read_exactly(source, _HEADER.unpack(header)[0])
    return None if body is None else pickle.loads(body)


def _read_exactly(source: IO[bytes], size: int) -> bytes | None:
    chunks, remaining = [], size
    while remaining:
        chunk = source.read(remaining)
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def main(argv: list[str]) -> int:
    from sim.events.types import Event
    from sim.store.sqlite import EventStore

    path, mode = argv
    source, answers = sys.stdin.buffer, sys.stdout.buffer
    failed = False
    with EventStore(path, durable=mode == "--durable") as store:
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
