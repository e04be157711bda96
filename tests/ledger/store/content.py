"""Deterministic test content: distinct, incompressible chunks without a slow generator.

Each 256 KiB window is cut from one SHAKE-256 stream at a different offset, so no
two chunks of a file up to 1 GiB repeat (dedup would hide layout bugs), and 50 MB
is built in milliseconds instead of the ~0.4 s SHAKE needs for all of it.
"""

from __future__ import annotations

import hashlib
from functools import cache

from ledger.store.builder import CHUNK_SIZE

_OFFSETS = 4096


@cache
def _seed_block(seed: bytes) -> bytes:
    return hashlib.shake_256(seed).digest(CHUNK_SIZE + _OFFSETS)


def content(size: int, seed: bytes = b"fedledger-store-tests") -> bytes:
    """`size` deterministic bytes; chunk i starts at offset i of the seed block."""
    block = _seed_block(seed)
    full, tail = divmod(size, CHUNK_SIZE)
    pieces = [block[i % _OFFSETS : i % _OFFSETS + CHUNK_SIZE] for i in range(full)]
    pieces.append(block[full % _OFFSETS : full % _OFFSETS + tail])
    return b"".join(pieces)
