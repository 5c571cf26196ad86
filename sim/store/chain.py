"""The hash chain: each row's canonical bytes hashed with the previous hash, and its walk."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii as _quote

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class Verification:
    """The outcome of walking the hash chain: `bad_seq` is the first seq that fails."""

    ok: bool
    events: int
    last_seq: int
    last_hash: str
    bad_seq: int | None = None
    reason: str = ""


def row_bytes(seq: int, event_id: str, type: str, time: int, ts: int, stream_id: str,
              version: int, causation_id: str | None, correlation_id: str | None,
              idempotency_key: str | None, payload_json: str) -> bytes:
    """A stored row's canonical bytes: a JSON array of its columns, payload last, verbatim.
    Spelled out by hand for speed; equal to canonical_json of the same list."""
    for number in (seq, time, ts, version):
        if number.__class__ is not int:
            raise TypeError(f"{number!r} is not an integer")
    return (f"[{seq},{_quote(event_id)},{_quote(type)},{time},{ts},{_quote(stream_id)},"
            f"{version},{_optional(causation_id)},{_optional(correlation_id)},"
            f"{_optional(idempotency_key)},{payload_json}]").encode("ascii")


def _optional(text: str | None) -> str:
    return "null" if text is None else _quote(text)


def chain_hash(previous: str, row: bytes) -> str:
    """SHA-256 over the previous hash and this row's canonical bytes."""
    return hashlib.sha256(previous.encode("ascii") + row).hexdigest()


def row_template(type: str, time: int, ts: int, stream_id: str, causation_id: str | None,
                 idempotency_key: str | None, payload_json: str) -> tuple[str, str, str]:
    """The pieces of row_bytes that do not depend on the log, made before an append takes
    its lock; chained_hash joins them with the seq, id, version and correlation it assigns.
    The arguments are a checked event's (check_event): integers are integers."""
    return (f",{_quote(type)},{time},{ts},{_quote(stream_id)},",
            f",{_optional(causation_id)},", f",{_optional(idempotency_key)},{payload_json}]")


def chained_hash(previous: str, seq: int, event_id: str, version: int,
                 correlation_id: str | None, middle: str, causation: str, tail: str) -> str:
    """chain_hash(previous, row_bytes(...)) of a row made from its row_template: the only
    part of the chain an append computes while it holds the log's lock."""
    return hashlib.sha256(
        f"{previous}[{seq},{_quote(event_id)}{middle}{version}{causation}"
        f"{_optional(correlation_id)}{tail}".encode("ascii")).hexdigest()


def verify_rows(rows: Iterable[tuple]) -> Verification:
    """Walk stored rows (the columns in order, the payload as stored JSON text, the hash
    last) from seq 1: seqs gapless, every hash recomputed from the row and its predecessor."""
    previous, expected, count = GENESIS_HASH, 1, 0
    for row in rows:
        seq = row[0]
        if seq != expected:
            return Verification(False, count, expected - 1, previous, expected,
                                f"seq {expected} is missing (next is {seq})")
        try:
            computed = chain_hash(previous, row_bytes(*row[:11]))
        except (TypeError, ValueError, UnicodeEncodeError) as error:
            return Verification(False, count, seq - 1, previous, seq,
                                f"row is not well-formed: {error}")
        if computed != row[11]:
            return Verification(False, count, seq - 1, previous, seq,
                                "hash does not match the row and the previous hash")
        previous, expected, count = computed, expected + 1, count + 1
    return Verification(True, count, expected - 1, previous)
