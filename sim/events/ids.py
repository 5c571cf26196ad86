"""Deterministic identities: time-ordered UUID-shaped event ids, canonical JSON, the hash chain."""

from __future__ import annotations

import hashlib
import json
from json.encoder import encode_basestring_ascii as _quote

GENESIS_HASH = "0" * 64
SEQ_LOW_BITS = 30
VARIANT = 0b10 << 62


def seed_bits(seed: int | str, salt: str = "events") -> int:
    """32 bits derived from a seed: the per-run part of every event id."""
    digest = hashlib.sha256(f"tempolog:{salt}:{seed}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def event_id(unix_ms: int, seq: int, run_bits: int) -> str:
    """A UUIDv7-shaped id (RFC 9562 layout) built from time, sequence and run, no randomness.

    48 bits of milliseconds, version 7, 42 bits of sequence (the RFC's monotonic counter)
    split around the variant, then 32 bits of the run: ids sort by time, then by seq.
    """
    value = (
        (unix_ms & 0xFFFF_FFFF_FFFF) << 80
        | 0x7 << 76
        | (seq >> SEQ_LOW_BITS & 0xFFF) << 64
        | VARIANT
        | (seq & (1 << SEQ_LOW_BITS) - 1) << 32
        | run_bits & 0xFFFF_FFFF
    )
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def canonical_json(value) -> str:
    """The one JSON spelling of a value: sorted keys, no spaces, ASCII only."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False)


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
