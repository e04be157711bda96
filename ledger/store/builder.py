"""Chunk a byte stream and build the UnixFS DAG exactly as `ipfs add` does.

`ipfs add --cid-version 1 --raw-leaves` (Kubo and js-ipfs alike) cuts a file into
256 KiB chunks, stores each chunk as a raw block, and links them in a balanced
tree of dag-pb nodes with at most 174 children each: the leaves fill the tree
left to right, the root sits at the smallest depth whose capacity (174**depth
chunks) holds them all, and a file of one chunk is that single raw block. Its
CID is what participants publish on chain, so it must be reproduced bit for bit.

The builder is streaming: it keeps one pending list of links per tree level,
closes a node as soon as it has 174 children, and closes the partial right edge
at `finish()`. Memory stays at one chunk plus 174 links per level, whatever the
file size; every block is handed to an optional sink as soon as it exists, which
is how the disk store writes while hashing. Hashing (hashlib's sha2-256) is the
cost that remains.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import BinaryIO, Final

from ledger.store.cid import DAG_PB, RAW, Cid
from ledger.store.unixfs import encode_file_data, encode_node

CHUNK_SIZE: Final = 262_144
"""Kubo's default chunker, `size-262144`."""
MAX_LINKS: Final = 174
"""Kubo's `DefaultLinksPerBlock`: children per node of the balanced layout."""

BlockSink = Callable[[Cid, "bytes | bytearray | memoryview"], None]
"""Receives every block as it is built. The view is only valid during the call."""


@dataclass(frozen=True, slots=True)
class Layout:
    """How `ipfs add` lays a file out; the two profiles fedledger understands.

    Parameters
    ----------
    cid_version
        1: raw leaves, CIDv1 everywhere (fedledger's contract). 0: legacy
        `ipfs add` with no flags (dag-pb leaves, `Qm...` CIDs), read for audits of
        content published by other tools.
    chunk_size
        Fixed chunk size in bytes (`--chunker size-N`).
    max_links
        Children per internal node.
    """

    cid_version: int = 1
    chunk_size: int = CHUNK_SIZE
    max_links: int = MAX_LINKS

    def __post_init__(self) -> None:
        if self.cid_version not in (0, 1):
            raise ValueError(f"cid_version must be 0 or 1, not {self.cid_version}")
        if self.chunk_size < 1:
            raise ValueError(f"chunk_size must be positive, not {self.chunk_size}")
        if self.max_links < 2:
            raise ValueError(f"max_links must be at least 2, not {self.max_links}")

    @property
    def raw_leaves(self) -> bool:
        """CIDv1 layouts keep chunks as raw blocks; CIDv0 wraps them in dag-pb."""
        return self.cid_version == 1

    def depth_for(self, chunks: int) -> int:
        """Depth of the root above the leaves for a file of `chunks` chunks."""
        depth = 0
        capacity = 1
        while capacity < chunks:
            capacity *= self.max_links
            depth += 1
        return depth

    def chunk_count(self, size: int) -> int:
        """Number of chunks (leaves) of a file of `size` bytes (an empty file has one)."""
        return max(1, -(-size // self.chunk_size))


KUBO_V1: Final = Layout(1)
"""`ipfs add --cid-version 1 --raw-leaves`: the layout fedledger writes and expects."""
KUBO_V0: Final = Layout(0)
"""Plain `ipfs add` (CIDv0, dag-pb leaves)."""


def layout_for(cid: Cid) -> Layout:
    """The default-chunker layout a CID of this version was built with."""
    return KUBO_V1 if cid.version == 1 else KUBO_V0


@dataclass(frozen=True, slots=True)
class _Link:
    cid: Cid
    tsize: int
    filesize: int


class DagBuilder:
    """Turns a sequence of chunks into the balanced UnixFS DAG; `finish()` gives the root.

    Feed it chunks of exactly `layout.chunk_size` bytes, except the last, which
    may be shorter (`CidHasher` does the cutting). Each built block goes to `sink`.
    """

    def __init__(self, layout: Layout = KUBO_V1, sink: BlockSink | None = None) -> None:
        self._layout = layout
        self._sink = sink
        self._levels: list[list[_Link]] = [[]]
        self._leaves = 0
        self._size = 0
        self._blocks = 0
        self._root: Cid | None = None

    @property
    def size(self) -> int:
        """Content bytes added so far."""
        return self._size

    @property
    def block_count(self) -> int:
        """Blocks built so far (leaves and internal nodes)."""
        return self._blocks

    def add_chunk(self, chunk: bytes | bytearray | memoryview, digest: bytes | None = None) -> Cid:
        """Add the next chunk as a leaf and return the leaf's CID.

        Parameters
        ----------
        chunk
            The chunk's bytes.
        digest
            Its sha2-256 digest when the caller already has it (a verifier that
            just checked a raw leaf); only used with raw leaves.
        """
        if self._root is not None:
            raise RuntimeError("DagBuilder.add_chunk after finish()")
        length = len(chunk)
        if self._layout.raw_leaves:
            if digest is None:
                digest = hashlib.sha256(chunk).digest()
            cid = Cid.v1(RAW, digest)
            block: bytes | bytearray | memoryview = chunk
            tsize = length
        else:
            block = encode_node((), encode_file_data(length, data=chunk))
            cid = Cid(0, DAG_PB, hashlib.sha256(block).digest())
            tsize = len(block)
        self._emit(cid, block)
        self._leaves += 1
        self._size += length
        self._push(0, _Link(cid, tsize, length))
        return cid

    def finish(self) -> Cid:
        """Close the right edge of the tree and return the root CID (idempotent)."""
        if self._root is not None:
            return self._root
        if self._leaves == 0:
            self.add_chunk(b"")
        levels = self._levels
        if self._leaves == 1:
            self._root = levels[0][0].cid
            return self._root
        depth = self._layout.depth_for(self._leaves)
        for level in range(depth):
            pending = levels[level]
            if pending:
                levels[level] = []
                self._push(level + 1, self._build_node(pending), cascade=False)
        root_level = levels[depth]
        if len(root_level) != 1:  # pragma: no cover - guarded by depth_for's arithmetic
            raise AssertionError(f"balanced layout left {len(root_level)} roots")
        self._root = root_level[0].cid
        return self._root

    def _push(self, level: int, link: _Link, cascade: bool = True) -> None:
        levels = self._levels
        while True:
            if level == len(levels):
                levels.append([])
            pending = levels[level]
            pending.append(link)
            if not cascade or len(pending) < self._layout.max_links:
                return
            levels[level] = []
            link = self._build_node(pending)
            level += 1

    def _build_node(self, children: list[_Link]) -> _Link:
        data = encode_file_data(
            sum(child.filesize for child in children), [child.filesize for child in children]
        )
        block = encode_node([(child.cid.to_bytes(), child.tsize) for child in children], data)
        digest = hashlib.sha256(block).digest()
        cid = Cid.v1(DAG_PB, digest) if self._layout.cid_version == 1 else Cid(0, DAG_PB, digest)
        self._emit(cid, block)
        return _Link(
            cid,
            len(block) + sum(child.tsize for child in children),
            sum(child.filesize for child in children),
        )

    def _emit(self, cid: Cid, block: bytes | bytearray | memoryview) -> None:
        self._blocks += 1
        if self._sink is not None:
            self._sink(cid, block)


class CidHasher:
    """A hashlib-like object that computes the `ipfs add` CID of everything fed to it.

    >>> hasher = CidHasher()
    >>> hasher.update(b"hel"); hasher.update(b"lo")
    >>> str(hasher.finish())
    'bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq'

    Input of any granularity is re-cut into the layout's fixed chunks. Whole
    chunks inside a large `update` are hashed in place; only the pieces that
    straddle a chunk boundary are copied, into one reused chunk-sized buffer.
    """

    def __init__(self, layout: Layout = KUBO_V1, sink: BlockSink | None = None) -> None:
        self._chunk_size = layout.chunk_size
        self._builder = DagBuilder(layout, sink)
        self._buffer: bytearray | None = None
        self._filled = 0

    @property
    def size(self) -> int:
        """Bytes fed so far."""
        return self._builder.size + self._filled

    @property
    def block_count(self) -> int:
        """Blocks built so far."""
        return self._builder.block_count

    def update(self, data: bytes | bytearray | memoryview) -> None:
        """Feed the next bytes of the content."""
        view = memoryview(data).cast("B")
        total = len(view)
        chunk = self._chunk_size
        pos = 0
        if self._filled:
            pos = self._fill(view, 0)
            if self._filled < chunk:
                return
            self._flush()
        add_chunk = self._builder.add_chunk
        while total - pos >= chunk:
            add_chunk(view[pos : pos + chunk])
            pos += chunk
        if pos < total:
            self._fill(view, pos)

    def finish(self) -> Cid:
        """Flush the last partial chunk and return the root CID."""
        if self._filled:
            self._flush()
        return self._builder.finish()

    def _fill(self, view: memoryview, pos: int) -> int:
        """Copy from `view[pos:]` into the boundary buffer; return the new position."""
        if self._buffer is None:
            self._buffer = bytearray(self._chunk_size)
        take = min(self._chunk_size - self._filled, len(view) - pos)
        self._buffer[self._filled : self._filled + take] = view[pos : pos + take]
        self._filled += take
        return pos + take

    def _flush(self) -> None:
        assert self._buffer is not None
        with memoryview(self._buffer) as whole, whole[: self._filled] as piece:
            self._builder.add_chunk(piece)
        self._filled = 0


READ_SIZE: Final = 4 * CHUNK_SIZE


def hash_stream(
    stream: BinaryIO,
    layout: Layout = KUBO_V1,
    sink: BlockSink | None = None,
    progress: Callable[[int], None] | None = None,
) -> Cid:
    """CID of everything readable from a binary stream, read in 1 MiB pieces.

    `progress` is called with the byte count of every piece read.
    """
    hasher = CidHasher(layout, sink)
    buffer = bytearray(READ_SIZE)
    view = memoryview(buffer)
    readinto = getattr(stream, "readinto", None)
    while True:
        if readinto is not None:
            count = readinto(view)
            if not count:
                break
            hasher.update(view[:count])
        else:
            piece = stream.read(READ_SIZE)
            if not piece:
                break
            count = len(piece)
            hasher.update(piece)
        if progress is not None:
            progress(count)
    view.release()
    return hasher.finish()


def hash_chunks(
    pieces: Iterable[bytes], layout: Layout = KUBO_V1, sink: BlockSink | None = None
) -> Cid:
    """CID of the concatenation of `pieces` (any sizes)."""
    hasher = CidHasher(layout, sink)
    for piece in pieces:
        hasher.update(piece)
    return hasher.finish()


def compute_cid(data: bytes | bytearray | memoryview, layout: Layout = KUBO_V1) -> str:
    """CID string `ipfs add --cid-version 1 --raw-leaves --only-hash` gives for `data`."""
    hasher = CidHasher(layout)
    hasher.update(data)
    return str(hasher.finish())


def cid_of_file(
    path: str | os.PathLike[str],
    layout: Layout = KUBO_V1,
    progress: Callable[[int], None] | None = None,
) -> str:
    """CID string of a file's content, streamed from disk (nothing is stored)."""
    with open(path, "rb", buffering=0) as stream:
        return str(hash_stream(stream, layout, progress=progress))
