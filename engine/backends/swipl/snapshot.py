"""Engine snapshots on SWI-Prolog: a module's stored state as bytes, and back (snapshot.pl)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import struct
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from engine.analysis.planner import Statistics
from engine.backends.swipl import prolog_text as pl
from engine.errors import QueryError, SnapshotRejected

# A snapshot is MAGIC, the length of a JSON header, the header, then the Prolog state: the
# fast_write/2 terms of snapshot.pl, zlib-compressed at level 1 (6x smaller, and
# decompressing 86 MB costs ~0.25 s: measured in bench/snapshot.py against storing it raw).
# The header holds what the Python side of the engine keeps (the next seq, the rows given per
# relation, the planner's statistics), the program hash and a SHA-256 of the state, so a
# snapshot of another program, another SWI-Prolog or another format is refused before any of
# it is read into Prolog.
FORMAT_VERSION = 2  # bump when what a module stores changes shape (2: kept aggregates left out)
MAGIC = b"TLES"
SNAPSHOT_PL = Path(__file__).with_name("snapshot.pl")
LEVEL = 1  # zlib's level; 0 stores the state raw


@dataclass(frozen=True)
class EngineState:
    """What the Python side of an engine keeps beside its Prolog module."""

    next_seq: int
    rows_given: dict[str, int]
    planned_rows: dict[str, int] | None
    stats: Statistics


def program_hash(module: str, program_text: str, prolog_version: int) -> str:
    """The identity of a compiled program for snapshots: its text (without the module's
    name, nor the numbers of local variables, which count across programs), SWI-Prolog's
    version and this format's version."""
    text = re.sub(rf"\b{re.escape(module)}\b", "<module>", program_text)
    text = re.sub(r"\bL\d+_", "L_", text)
    digest = hashlib.sha256(f"tempolog engine snapshot {FORMAT_VERSION}\n"
                            f"swipl {prolog_version}\n".encode())
    digest.update(text.encode("utf-8"))
    return digest.hexdigest()


def ensure_loaded(call) -> None:
    answer = call(f"tl_call_json(load_files({pl.atom(str(SNAPSHOT_PL))}, "
                  "[silent(true), if(not_loaded)]))", "")
    if answer != {"ok": True}:
        raise QueryError(f"SWI-Prolog could not load {SNAPSHOT_PL.name}", code="prolog-error")


def prolog_version(call) -> int:
    ensure_loaded(call)
    return call("tempolog_snapshot:tl_prolog_version", "")["version"]


def dump(call, module: str, program: str, state: EngineState) -> bytes:
    """The module's state as a snapshot's bytes (run on the Prolog thread)."""
    ensure_loaded(call)
    with _scratch() as path:
        counts = call(f"tempolog_snapshot:tl_dump_state({module}, {pl.atom(str(path))})", "")
        raw = path.read_bytes()
    body = zlib.compress(raw, LEVEL) if LEVEL else raw
    header = {
        "format": FORMAT_VERSION, "program": program, "compression": "zlib" if LEVEL else "none",
        "sha256": hashlib.sha256(body).hexdigest(), "facts": counts["facts"],
        "next_seq": state.next_seq, "rows_given": state.rows_given,
        "planned_rows": state.planned_rows,
        "stats": {"rows": dict(state.stats.rows),
                  "distinct": {r: list(d) for r, d in state.stats.distinct.items()}},
    }
    text = json.dumps(header, sort_keys=True).encode("utf-8")
    return MAGIC + struct.pack(">I", len(text)) + text + body


def read_header(blob: bytes, program: str) -> tuple[dict, memoryview]:
    """The header and the state of a snapshot, checked: its format, its program and the
    state's SHA-256. SnapshotRejected says what does not match."""
    if not isinstance(blob, bytes | bytearray | memoryview) or bytes(blob[:4]) != MAGIC:
        raise SnapshotRejected("not an engine snapshot (no tempolog engine snapshot header)")
    view = memoryview(blob)
    try:
        (length,) = struct.unpack(">I", view[4:8])
        header = json.loads(bytes(view[8:8 + length]))
    except (struct.error, ValueError) as error:
        raise SnapshotRejected(f"the snapshot's header is damaged: {error}") from None
    if header.get("format") != FORMAT_VERSION:
        raise SnapshotRejected(f"the snapshot is of format {header.get('format')!r}, this "
                               f"tempolog reads format {FORMAT_VERSION}")
    if header.get("program") != program:
        raise SnapshotRejected(
            f"the snapshot is of another program ({str(header.get('program'))[:16]}…, this "
            f"engine's is {program[:16]}…): other rules, options or SWI-Prolog version")
    body = view[8 + length:]
    if hashlib.sha256(body).hexdigest() != header.get("sha256"):
        raise SnapshotRejected("the snapshot's state does not match its SHA-256: it is damaged")
    return header, body


def restore(call, module: str, header: dict, body: memoryview) -> EngineState:
    """Replace the module's state by a checked snapshot's (run on the Prolog thread)."""
    ensure_loaded(call)
    try:
        raw = zlib.decompress(body) if header["compression"] == "zlib" else bytes(body)
    except zlib.error as error:
        raise SnapshotRejected(f"the snapshot's state does not decompress: {error}") from None
    with _scratch() as path:
        path.write_bytes(raw)
        del raw
        call(f"tempolog_snapshot:tl_restore_state({module}, {pl.atom(str(path))})", "")
    stats = header["stats"]
    return EngineState(
        next_seq=header["next_seq"], rows_given=dict(header["rows_given"]),
        planned_rows=header["planned_rows"],
        stats=Statistics(dict(stats["rows"]), {r: list(d) for r, d in stats["distinct"].items()}))


class _scratch:
    """A temporary file's path, removed afterwards: how the state passes to and from Prolog
    (fast_write/2 and fast_read/2 work on streams)."""

    def __enter__(self) -> Path:
        handle, name = tempfile.mkstemp(prefix="tempolog-snapshot-", suffix=".bin")
        os.close(handle)
        self.path = Path(name)
        return self.path

    def __exit__(self, *exc) -> None:
        self.path.unlink(missing_ok=True)
