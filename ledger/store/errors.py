"""Errors of the content store, derived from fedledger's root family.

`IntegrityError` (bytes that do not match their CID) and `ContentNotFound` live in
`ledger.errors` because other parts raise them too; they are re-exported here so
store callers import one module. The classes below are the store's own refusals.
"""

from __future__ import annotations

from ledger.errors import ContentNotFound, FormatError, IntegrityError, StoreError

__all__ = [
    "ContentNotFound",
    "ContentTooLarge",
    "IntegrityError",
    "InvalidCid",
    "StoreError",
    "StoreUnavailable",
]


class InvalidCid(FormatError, ValueError):
    """A CID string or binary CID is malformed or names a hash/codec fedledger refuses."""


class ContentTooLarge(StoreError):
    """Content is larger than the caller's `max_size`; refused before it was all read."""

    def __init__(self, cid: str, max_size: int, size: int | None = None) -> None:
        self.cid = cid
        self.max_size = max_size
        self.size = size
        if size is None:
            detail = f"content {cid} holds more than the limit of {max_size} bytes"
        else:
            detail = f"content {cid} is {size} bytes, over the limit of {max_size} bytes"
        super().__init__(f"{detail}: refused before reading it all")


class StoreUnavailable(StoreError):
    """The store's backend (an IPFS daemon, a directory) cannot be reached or used."""
