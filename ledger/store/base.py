"""`ContentStore`: the one interface the aggregator, participants and auditors use for IPFS.

Two implementations sit behind it: `DiskStore` (embedded default: blocks in a
directory) and `DaemonStore` (any Kubo-compatible RPC daemon). They differ in
where blocks live and how content is added; they share, here, the part that
must never differ: every read goes through `VerifiedReader`, so no backend can
hand a caller bytes that do not match the CID, whatever it stores or answers.

Backends implement the block primitives (`_read_block`, `_has_block`,
`put_block`) and the add path (`put_bytes`, `put_file`), plus pinning.
"""

from __future__ import annotations

import os
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Self

from ledger.errors import FormatError
from ledger.store.builder import layout_for
from ledger.store.cid import RAW, Cid
from ledger.store.errors import ContentNotFound, IntegrityError
from ledger.store.unixfs import decode_node
from ledger.store.verify import ContentStream, VerifiedReader, block_limit, check_block
from ledger.store.verify import verify as _verify

PathLike = str | os.PathLike[str]


class ContentStore(ABC):
    """Content-addressed storage for fedledger artifacts, verified on every read.

    CIDs are strings on the way in (any multibase) and canonical base32 CIDv1
    strings on the way out: what `ipfs add --cid-version 1 --raw-leaves` prints.
    """

    # -- backend primitives ---------------------------------------------------

    @abstractmethod
    def _read_block(self, cid: Cid, limit: int, *, probe: bool = False) -> bytes:
        """Return a block's stored bytes, unverified, reading at most `limit + 1` bytes.

        `probe` asks for a quick local answer (used by `has`) rather than a
        search elsewhere. Raises `ContentNotFound` when the block is not available.
        """

    @abstractmethod
    def _has_block(self, cid: Cid) -> bool:
        """Whether the backend holds this block (without fetching it from elsewhere)."""

    @abstractmethod
    def put_block(self, cid: str | Cid, data: bytes) -> None:
        """Store one block under its CID after checking that the bytes hash to it.

        Raises
        ------
        IntegrityError
            `data` does not hash to `cid`.
        """

    @abstractmethod
    def put_bytes(self, data: bytes | bytearray | memoryview, *, pin: bool = True) -> str:
        """Add content and return its CID (pinned unless `pin=False`)."""

    @abstractmethod
    def put_file(
        self, path: PathLike, *, pin: bool = True, progress: Callable[[int], None] | None = None
    ) -> str:
        """Add a file's content, streamed from disk, and return its CID.

        `progress` is called with the byte count of each piece read.
        """

    @abstractmethod
    def pin(self, cid: str | Cid) -> None:
        """Keep this content: fails with `ContentNotFound` unless all of it is present."""

    @abstractmethod
    def unpin(self, cid: str | Cid) -> None:
        """Release a pin; the content may then be garbage-collected."""

    @abstractmethod
    def describe(self) -> str:
        """Where this store keeps content, for error messages and logs."""

    def close(self) -> None:
        """Release connections or handles; the default holds none."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- verified reads (shared by every backend) -----------------------------

    def open_stream(self, cid: str | Cid, *, max_size: int | None = None) -> VerifiedReader:
        """Stream content block by block, each block verified before it is yielded.

        The root block is fetched and checked at once: an unknown CID raises
        `ContentNotFound`, content over `max_size` raises `ContentTooLarge`, both
        before iteration starts. A later corrupt or missing block raises
        `IntegrityError` or `ContentNotFound` naming the CID mid-iteration.
        """
        return VerifiedReader(cid, self._read_block, max_size, self._content_stream())

    def _content_stream(self) -> ContentStream | None:
        """Optional fast path for reads: the content's bytes in order, unverified.

        A backend whose per-block round trip is slow (a daemon) returns a
        function streaming the whole content (`cat`); `VerifiedReader` cuts raw
        leaves from it and checks each against the CID in its verified parent,
        so nothing about the guarantees changes. None: fetch leaves one by one.
        """
        return None

    def size(self, cid: str | Cid) -> int:
        """Content size in bytes, from the verified root block alone (nothing else is read)."""
        reader = self.open_stream(cid)
        reader.close()
        return reader.size

    def get_bytes(self, cid: str | Cid, *, max_size: int | None = None) -> bytes:
        """Return the whole content, verified against its CID (see `open_stream`)."""
        return b"".join(self.open_stream(cid, max_size=max_size))

    def get_file(
        self,
        cid: str | Cid,
        dest: PathLike,
        *,
        max_size: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Write verified content to `dest` and return its size.

        Bytes go to a temporary file next to `dest`, renamed into place only
        once the whole content has verified: `dest` never holds a partial or
        unverified file, and a failure leaves an existing `dest` untouched.
        """
        reader = self.open_stream(cid, max_size=max_size)
        target = Path(dest)
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".part", dir=target.parent
        )
        written = 0
        try:
            with os.fdopen(fd, "wb") as out:
                for piece in reader:
                    out.write(piece)
                    written += len(piece)
                    if progress is not None:
                        progress(len(piece))
            os.replace(tmp_name, target)
        except BaseException:
            reader.close()
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return written

    def get_block(self, cid: str | Cid) -> bytes:
        """Return one block, verified against its CID."""
        parsed = Cid.parse(cid)
        limit = block_limit(layout_for(parsed))
        block = self._read_block(parsed, limit)
        if len(block) > limit:
            raise IntegrityError(f"block {parsed} is over {limit} bytes: refused unread")
        check_block(parsed, block, parsed)
        return block

    def iter_blocks(self, cid: str | Cid) -> Iterator[tuple[Cid, bytes]]:
        """Every block of a content's DAG (root first, depth first), each verified."""
        root = Cid.parse(cid)
        stack = [root]
        while stack:
            current = stack.pop()
            block = self.get_block(current)
            yield current, block
            if current.codec != RAW:
                stack.extend(reversed(self._child_cids(root, current, block)))

    def has(self, cid: str | Cid) -> bool:
        """Whether every block of the content is held by this store."""
        root = Cid.parse(cid)
        stack = [root]
        while stack:
            current = stack.pop()
            if current.codec == RAW:
                if not self._has_block(current):
                    return False
                continue
            limit = block_limit(layout_for(current))
            try:
                block = self._read_block(current, limit, probe=True)
            except ContentNotFound:
                return False
            if len(block) > limit:
                raise IntegrityError(f"content {root}: block {current} is over {limit} bytes")
            check_block(current, block, root)
            stack.extend(self._child_cids(root, current, block))
        return True

    def verify(self, cid: str | Cid, data: bytes | bytearray | memoryview) -> None:
        """Raise `IntegrityError` unless `data` is exactly the content named by `cid`."""
        _verify(cid, data)

    @staticmethod
    def _child_cids(root: Cid, cid: Cid, block: bytes) -> list[Cid]:
        try:
            return [Cid.from_bytes(link.cid) for link in decode_node(block).links]
        except FormatError as exc:
            raise IntegrityError(
                f"content {root}: block {cid} is not a dag-pb node: {exc}"
            ) from exc
