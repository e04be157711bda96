"""Verified reads: nothing leaves the store before its bytes are proven to match the CID.

The aggregator and auditors fetch updates from daemons and disks they do not
control; the CID on chain is the only thing they trust. `VerifiedReader` walks
the DAG under a root CID block by block:

1. every block is hashed and compared with the link that named it before any
   of its bytes or links are used (a corrupt, swapped or truncated block is an
   `IntegrityError` naming the block and the content's CID);
2. the root's declared file size is checked against the caller's `max_size`
   before any leaf is fetched, and every node's sizes must add up, so a 2 GB
   "update" is refused after reading one small block;
3. the tree must have the shape `ipfs add` gives the bytes (fixed chunks, at
   most 174 links, leaves at one depth), and while the leaves stream out the
   CID is re-derived from them; at the end it must equal the requested CID. A
   DAG that hashes correctly but was built some other way is refused.

Leaf bytes are yielded as soon as their own hash is verified, so a stream
consumer never sees a byte that does not belong to the content; the final
layout check can still fail after the last leaf, and callers that need all or
nothing (`get_bytes`, `get_file`) only publish the result after it passes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Final

from ledger.errors import FormatError
from ledger.store.builder import DagBuilder, Layout, compute_cid, layout_for
from ledger.store.cid import RAW, Cid
from ledger.store.errors import ContentNotFound, ContentTooLarge, IntegrityError, InvalidCid
from ledger.store.unixfs import UNIXFS_FILE, PBNode, UnixFSData, decode_node, decode_unixfs

BlockFetcher = Callable[[Cid, int], bytes]
"""Returns a block's bytes as stored (unverified), reading at most `limit + 1` bytes.

Raises `ContentNotFound` when the block is not available.
"""
ContentStream = Callable[[Cid], Iterator[bytes]]
"""Returns a content's bytes in order, unverified (a daemon's `cat`): an optional fast
path for raw leaves, which are then cut from this stream instead of fetched one by one."""

NODE_SIZE_MARGIN: Final = 64 * 1024
"""Room above the chunk size for node framing (a full 174-link node is about 9 KiB)."""


def block_limit(layout: Layout) -> int:
    """Largest block a DAG of this layout can hold; anything bigger is refused unread."""
    return layout.chunk_size + NODE_SIZE_MARGIN


def check_block(cid: Cid, block: bytes | bytearray | memoryview, content: Cid | str) -> None:
    """Raise `IntegrityError` unless `block` hashes to `cid`'s digest."""
    if hashlib.sha256(block).digest() != cid.digest:
        where = "" if str(content) == str(cid) else f" (part of content {content})"
        raise IntegrityError(
            f"block {cid}{where} is corrupt: its {len(block)} bytes do not hash to its CID"
        )


def verify(cid: str | Cid, data: bytes | bytearray | memoryview) -> None:
    """Check that `data` is exactly the content named by `cid`.

    The CID is recomputed from the bytes with the layout the CID's version
    implies (CIDv1: `--cid-version 1 --raw-leaves`; CIDv0: plain `ipfs add`).

    Raises
    ------
    IntegrityError
        The bytes give another CID.
    InvalidCid
        `cid` is not a CID fedledger accepts.
    """
    expected = Cid.parse(cid)
    actual = compute_cid(data, layout_for(expected))
    if actual != str(expected):
        raise IntegrityError(
            f"content does not match CID {expected}: its {len(data)} bytes have CID {actual}"
        )


class VerifiedReader:
    """Iterator over the verified bytes of one content, in order.

    Constructing it fetches and checks the root block, so an unknown CID, a
    corrupt root, or content over `max_size` fails at once, before iteration.

    Parameters
    ----------
    cid
        The content to read.
    fetch
        The backend's raw block reader.
    max_size
        Refuse content larger than this many bytes.
    """

    def __init__(
        self,
        cid: str | Cid,
        fetch: BlockFetcher,
        max_size: int | None = None,
        content_stream: ContentStream | None = None,
    ) -> None:
        self.cid = Cid.parse(cid)
        if max_size is not None and max_size < 0:
            raise ValueError(f"max_size must be >= 0, not {max_size}")
        self._fetch = fetch
        self._max_size = max_size
        self._layout = layout_for(self.cid)
        self._limit = block_limit(self._layout)
        self._rebuild = DagBuilder(self._layout)
        self._delivered = 0
        self._short_leaf = False
        self._content_stream = content_stream if self._layout.raw_leaves else None
        self._stream: Iterator[bytes] | None = None
        self._pending = bytearray()
        root_block = self._fetch_checked(self.cid)
        if self.cid.codec == RAW:
            self.size = len(root_block)
            self._check_max_size(self.size)
            if self.size > self._layout.chunk_size:
                raise IntegrityError(
                    f"content {self.cid} is one raw block of {self.size} bytes; `ipfs add` cuts "
                    f"content into {self._layout.chunk_size}-byte chunks, so its CID is not "
                    "the CID of these bytes"
                )
            self._iterator: Iterator[bytes] = self._single_leaf(root_block)
            return
        node, unixfs = self._decode(self.cid, root_block)
        if unixfs.filesize is None:
            raise IntegrityError(f"content {self.cid}: root node declares no file size")
        self.size = unixfs.filesize
        self._check_max_size(self.size)
        self._depth = self._layout.depth_for(self._layout.chunk_count(self.size))
        self._iterator = self._walk(self.cid, node, unixfs, 0, self.size)

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        return next(self._iterator)

    def close(self) -> None:
        """Stop reading (releases the walk; safe to call twice)."""
        for iterator in (self._iterator, self._stream):
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    # -- walk ---------------------------------------------------------------

    def _single_leaf(self, block: bytes) -> Iterator[bytes]:
        self._rebuild.add_chunk(block, self.cid.digest)
        self._delivered = len(block)
        yield block
        self._finish()

    def _walk(
        self, cid: Cid, node: PBNode, unixfs: UnixFSData, depth: int, expected: int
    ) -> Iterator[bytes]:
        yield from self._walk_node(cid, node, unixfs, depth, expected)
        if depth == 0:
            self._finish()

    def _walk_node(
        self, cid: Cid, node: PBNode, unixfs: UnixFSData, depth: int, expected: int
    ) -> Iterator[bytes]:
        if unixfs.filesize != expected:
            raise IntegrityError(
                f"content {self.cid}: node {cid} declares {unixfs.filesize} bytes where its "
                f"parent announced {expected}"
            )
        if not node.links:
            yield self._inline_leaf(cid, unixfs, depth)
            return
        if depth >= self._depth:
            raise IntegrityError(
                f"content {self.cid}: node {cid} at depth {depth} has links, but the leaves of "
                f"a {self.size}-byte file sit at depth {self._depth}"
            )
        if len(node.links) > self._layout.max_links:
            raise IntegrityError(
                f"content {self.cid}: node {cid} has {len(node.links)} links; `ipfs add` "
                f"puts at most {self._layout.max_links}"
            )
        if unixfs.data:
            raise IntegrityError(f"content {self.cid}: internal node {cid} carries inline data")
        if len(unixfs.blocksizes) != len(node.links) or sum(unixfs.blocksizes) != expected:
            raise IntegrityError(
                f"content {self.cid}: node {cid} lists {len(unixfs.blocksizes)} child sizes "
                f"summing to {sum(unixfs.blocksizes)} for {len(node.links)} links and "
                f"{expected} bytes"
            )
        for link, child_size in zip(node.links, unixfs.blocksizes):
            try:
                child = Cid.from_bytes(link.cid)
            except InvalidCid as exc:
                raise IntegrityError(
                    f"content {self.cid}: node {cid} has a bad link: {exc}"
                ) from exc
            if child_size == 0:
                raise IntegrityError(f"content {self.cid}: node {cid} links an empty child {child}")
            if child.codec == RAW and self._content_stream is not None:
                block = self._cut_leaf(child, child_size)
            else:
                block = self._fetch_checked(child)
            if child.codec == RAW:
                yield self._raw_leaf(child, block, depth + 1, child_size)
            else:
                child_node, child_unixfs = self._decode(child, block)
                yield from self._walk_node(child, child_node, child_unixfs, depth + 1, child_size)

    def _raw_leaf(self, cid: Cid, block: bytes, depth: int, expected: int) -> bytes:
        if not self._layout.raw_leaves:
            raise IntegrityError(
                f"content {self.cid}: raw leaf {cid} inside a CIDv0 DAG, which `ipfs add` "
                "builds from dag-pb leaves"
            )
        if len(block) != expected:
            raise IntegrityError(
                f"content {self.cid}: leaf {cid} holds {len(block)} bytes where its parent "
                f"announced {expected}"
            )
        self._accept_leaf(cid, depth, len(block))
        self._rebuild.add_chunk(block, cid.digest)
        return block

    def _inline_leaf(self, cid: Cid, unixfs: UnixFSData, depth: int) -> bytes:
        if self._layout.raw_leaves:
            raise IntegrityError(
                f"content {self.cid}: leaf {cid} is a dag-pb node; `ipfs add --cid-version 1 "
                "--raw-leaves` stores chunks as raw blocks"
            )
        data = unixfs.data or b""
        if len(data) != unixfs.filesize or unixfs.blocksizes:
            raise IntegrityError(
                f"content {self.cid}: leaf {cid} holds {len(data)} bytes but declares "
                f"{unixfs.filesize}"
            )
        self._accept_leaf(cid, depth, len(data))
        rebuilt = self._rebuild.add_chunk(data)
        if rebuilt != cid:
            raise IntegrityError(
                f"content {self.cid}: leaf {cid} is not encoded as `ipfs add` encodes a chunk "
                f"(expected {rebuilt})"
            )
        return data

    def _accept_leaf(self, cid: Cid, depth: int, length: int) -> None:
        if depth != self._depth:
            raise IntegrityError(
                f"content {self.cid}: leaf {cid} sits at depth {depth}; a balanced DAG of "
                f"{self.size} bytes has all its leaves at depth {self._depth}"
            )
        if self._short_leaf:
            raise IntegrityError(
                f"content {self.cid}: a chunk shorter than {self._layout.chunk_size} bytes "
                f"precedes leaf {cid}; only the last chunk may be short"
            )
        if length > self._layout.chunk_size:
            raise IntegrityError(
                f"content {self.cid}: leaf {cid} holds {length} bytes, more than the "
                f"{self._layout.chunk_size}-byte chunk size"
            )
        self._short_leaf = length < self._layout.chunk_size
        self._delivered += length
        if self._delivered > self.size:
            raise IntegrityError(f"content {self.cid} declares {self.size} bytes but holds more")

    def _finish(self) -> None:
        if self._delivered != self.size:
            raise IntegrityError(
                f"content {self.cid} declares {self.size} bytes but holds {self._delivered}"
            )
        rebuilt = self._rebuild.finish()
        if rebuilt != self.cid:
            raise IntegrityError(
                f"content {self.cid} is not laid out the way `ipfs add` lays out its bytes "
                f"(they give CID {rebuilt}): refused"
            )

    # -- blocks -------------------------------------------------------------

    def _cut_leaf(self, cid: Cid, size: int) -> bytes:
        """Take the next `size` bytes of the content stream as leaf `cid`, verified.

        The size comes from a verified parent node and is at most one chunk, so a
        daemon sending more than the content holds is never read past it.
        """
        if size > self._layout.chunk_size:
            raise IntegrityError(
                f"content {self.cid}: leaf {cid} is announced with {size} bytes, more than the "
                f"{self._layout.chunk_size}-byte chunk size"
            )
        if self._stream is None:
            assert self._content_stream is not None
            self._stream = self._content_stream(self.cid)
        pending = self._pending
        while len(pending) < size:
            piece = next(self._stream, None)
            if piece is None:
                raise IntegrityError(
                    f"content {self.cid}: the byte stream ended {size - len(pending)} bytes "
                    f"short of leaf {cid}"
                )
            pending += piece
        leaf = bytes(pending[:size])
        del pending[:size]
        check_block(cid, leaf, self.cid)
        return leaf

    def _fetch_checked(self, cid: Cid) -> bytes:
        try:
            block = self._fetch(cid, self._limit)
        except ContentNotFound as exc:
            if cid == self.cid:
                raise
            raise ContentNotFound(f"content {self.cid} is incomplete: {exc}") from exc
        if len(block) > self._limit:
            where = "" if cid == self.cid else f" (part of content {self.cid})"
            raise IntegrityError(
                f"block {cid}{where} is over {self._limit} bytes, larger than any block "
                "`ipfs add` writes: refused unread"
            )
        check_block(cid, block, self.cid)
        return block

    def _decode(self, cid: Cid, block: bytes) -> tuple[PBNode, UnixFSData]:
        try:
            node = decode_node(block)
            if node.data is None:
                raise FormatError("no Data field")
            unixfs = decode_unixfs(node.data)
        except FormatError as exc:
            raise IntegrityError(
                f"content {self.cid}: block {cid} is not a UnixFS node: {exc}"
            ) from exc
        if unixfs.type != UNIXFS_FILE:
            raise IntegrityError(
                f"content {self.cid}: block {cid} is a UnixFS {unixfs.type_name}, not a file"
            )
        return node, unixfs

    def _check_max_size(self, size: int) -> None:
        if self._max_size is not None and size > self._max_size:
            raise ContentTooLarge(str(self.cid), self._max_size, size)
