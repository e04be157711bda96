"""Content store: IPFS-compatible, content-addressed storage that verifies every byte it returns.

Participants publish updates and proofs here and record the CID on chain; the
aggregator and auditors fetch by CID and get the bytes only once they are
proven to be the content that CID names. CIDs are those of
`ipfs add --cid-version 1 --raw-leaves` (base32 CIDv1, raw leaves, 256 KiB
chunks, balanced DAG of 174 links per node), so any IPFS node agrees on them.

    from ledger.store import open_store
    store = open_store("embedded:.fedledger/store")   # or "http://127.0.0.1:5001"
    cid = store.put_bytes(update_bytes)
    data = store.get_bytes(cid, max_size=64 << 20)

`DaemonStore` lives in `ledger.store.daemon` and is imported on demand (it pulls
in the HTTP client); `open_store` does that for daemon specs.
"""

from __future__ import annotations

from ledger.store.base import ContentStore
from ledger.store.builder import (
    CHUNK_SIZE,
    KUBO_V0,
    KUBO_V1,
    MAX_LINKS,
    CidHasher,
    Layout,
    cid_of_file,
    compute_cid,
)
from ledger.store.cid import Cid, normalize_cid
from ledger.store.disk import DiskStore
from ledger.store.errors import (
    ContentNotFound,
    ContentTooLarge,
    IntegrityError,
    InvalidCid,
    StoreError,
    StoreUnavailable,
)
from ledger.store.factory import open_store
from ledger.store.retry import RetryPolicy, RetryStatus
from ledger.store.transfer import copy_content
from ledger.store.verify import VerifiedReader, verify

__all__ = [
    "CHUNK_SIZE",
    "KUBO_V0",
    "KUBO_V1",
    "MAX_LINKS",
    "Cid",
    "CidHasher",
    "ContentNotFound",
    "ContentStore",
    "ContentTooLarge",
    "DiskStore",
    "IntegrityError",
    "InvalidCid",
    "Layout",
    "RetryPolicy",
    "RetryStatus",
    "StoreError",
    "StoreUnavailable",
    "VerifiedReader",
    "cid_of_file",
    "compute_cid",
    "copy_content",
    "normalize_cid",
    "open_store",
    "verify",
]
