"""Copy content between stores block by block, verified on both sides.

Because the embedded store and an IPFS daemon chunk content identically, a
file added to one can be served by the other without re-chunking: its blocks
are moved as they are and the CID stays the same. This is how an operator
publishes what a participant wrote to its embedded store onto a real IPFS
node, or mirrors a daemon's content into a local store for an offline audit.
"""

from __future__ import annotations

from ledger.store.base import ContentStore
from ledger.store.cid import Cid


def copy_content(
    source: ContentStore, target: ContentStore, cid: str | Cid, *, pin: bool = True
) -> int:
    """Copy every block of `cid` from `source` to `target`; return the number of blocks.

    Each block is verified when read from `source` and again by `target` before
    it is stored; with `pin`, the target pins the content once it is complete.

    Raises
    ------
    ContentNotFound
        `source` lacks a block.
    IntegrityError
        A block does not match its CID.
    """
    parsed = Cid.parse(cid)
    count = 0
    for block_cid, block in source.iter_blocks(parsed):
        target.put_block(block_cid, block)
        count += 1
    if pin:
        target.pin(parsed)
    return count
