"""`DiskStore`: the embedded content store, IPFS blocks in a plain directory.

The demo, the unit tests and a single-machine network need no daemon: this store
chunks content exactly as `ipfs add --cid-version 1 --raw-leaves` does, so the
CIDs it returns are the ones a Kubo or js-ipfs node gives the same bytes, and
its blocks can be handed to such a node (and theirs to it) unchanged.

Layout of the directory (modelled on Kubo's flatfs):

    FORMAT                     marker; a non-empty directory without it is refused
    blocks/<2 chars>/<KEY>.data  one file per block; KEY = base32 of the multihash,
                               the shard = the two characters before its last one
    pins/<cid>                 one empty file per pinned root
    tmp/                       blocks being written (renamed into blocks/ atomically)
    lock                       flock: writers share it, `gc` takes it alone

Blocks are keyed by multihash, not CID, so one stored block answers for its raw
and dag-pb names alike (as in Kubo). Every read is re-hashed by the shared
`VerifiedReader`: a block rotted on disk is an `IntegrityError`, never data.
"""

from __future__ import annotations

import base64
import fcntl
import itertools
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ledger.store.base import ContentStore, PathLike
from ledger.store.builder import CidHasher, hash_stream
from ledger.store.cid import RAW, Cid
from ledger.store.errors import ContentNotFound, IntegrityError, StoreError, StoreUnavailable
from ledger.store.verify import check_block

FORMAT_LINE: Final = "fedledger-blockstore 1\n"


@dataclass(frozen=True, slots=True)
class GcResult:
    """What `DiskStore.gc` removed."""

    removed_blocks: int
    freed_bytes: int
    kept_blocks: int


class DiskStore(ContentStore):
    """Content store in a local directory; see the module docstring for its layout.

    Parameters
    ----------
    root
        Directory of the store; created when missing.
    fsync
        Flush every block to stable storage before renaming it into place
        (slower; protects against power loss, not against bugs).
    """

    def __init__(self, root: PathLike, *, fsync: bool = False) -> None:
        self.root = Path(root).expanduser().absolute()
        self._fsync = fsync
        self._blocks = self.root / "blocks"
        self._pins = self.root / "pins"
        self._tmp = self.root / "tmp"
        self._lock_path = self.root / "lock"
        self._known_shards: set[str] = set()
        self._counter = itertools.count()
        self._open_directory()

    def _open_directory(self) -> None:
        marker = self.root / "FORMAT"
        if self.root.exists() and not self.root.is_dir():
            raise StoreUnavailable(f"store path {self.root} exists and is not a directory")
        try:
            if self.root.is_dir() and not marker.exists() and any(self.root.iterdir()):
                raise StoreUnavailable(
                    f"{self.root} is not empty and holds no fedledger store (no FORMAT file): "
                    "point the store at a new or empty directory"
                )
            for folder in (self._blocks, self._pins, self._tmp):
                folder.mkdir(parents=True, exist_ok=True)
            if not marker.exists():
                marker.write_text(FORMAT_LINE)
            elif marker.read_text() != FORMAT_LINE:
                raise StoreUnavailable(
                    f"{self.root} holds a store of another format ({marker.read_text()!r})"
                )
        except OSError as exc:
            raise StoreUnavailable(f"cannot open the store directory {self.root}: {exc}") from exc

    def describe(self) -> str:
        return f"the embedded store at {self.root}"

    # -- block files --------------------------------------------------------

    @staticmethod
    def block_key(cid: Cid) -> str:
        """File name stem of a block: unpadded base32 of its multihash (as Kubo's flatfs)."""
        return base64.b32encode(cid.multihash).decode("ascii").rstrip("=")

    def block_path(self, cid: str | Cid) -> Path:
        """Path of the file that holds (or would hold) a block."""
        key = self.block_key(Cid.parse(cid))
        return self._blocks / key[-3:-1] / f"{key}.data"

    def _read_block(self, cid: Cid, limit: int, *, probe: bool = False) -> bytes:
        path = self.block_path(cid)
        try:
            with open(path, "rb", buffering=0) as handle:
                size = os.fstat(handle.fileno()).st_size
                return handle.read(min(size, limit + 1))
        except FileNotFoundError:
            raise ContentNotFound(f"{cid} is not in {self.describe()}") from None
        except OSError as exc:
            raise StoreError(f"cannot read block {cid} from {path}: {exc}") from exc

    def _has_block(self, cid: Cid) -> bool:
        return self.block_path(cid).is_file()

    def _write_block(self, cid: Cid, data: bytes | bytearray | memoryview) -> None:
        key = self.block_key(cid)
        shard = key[-3:-1]
        path = self._blocks / shard / f"{key}.data"
        try:
            if path.stat().st_size == len(data) and path.read_bytes() == data:
                return
        except FileNotFoundError:
            pass
        if shard not in self._known_shards:
            (self._blocks / shard).mkdir(exist_ok=True)
            self._known_shards.add(shard)
        tmp = self._tmp / f"{key}.{os.getpid()}.{threading.get_ident()}.{next(self._counter)}"
        try:
            with open(tmp, "wb") as handle:
                handle.write(data)
                if self._fsync:
                    handle.flush()
                    os.fsync(handle.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise StoreError(f"cannot write block {cid} to {path}: {exc}") from exc

    @contextmanager
    def _locked(self, exclusive: bool = False) -> Iterator[None]:
        with open(self._lock_path, "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- adding content ------------------------------------------------------

    def put_block(self, cid: str | Cid, data: bytes) -> None:
        parsed = Cid.parse(cid)
        check_block(parsed, data, parsed)
        with self._locked():
            self._write_block(parsed, data)

    def put_bytes(self, data: bytes | bytearray | memoryview, *, pin: bool = True) -> str:
        with self._locked():
            hasher = CidHasher(sink=self._write_block)
            hasher.update(data)
            root = hasher.finish()
            if pin:
                self._write_pin(root)
        return str(root)

    def put_file(
        self, path: PathLike, *, pin: bool = True, progress: Callable[[int], None] | None = None
    ) -> str:
        try:
            with open(path, "rb", buffering=0) as stream, self._locked():
                root = hash_stream(stream, sink=self._write_block, progress=progress)
                if pin:
                    self._write_pin(root)
        except OSError as exc:
            raise StoreError(f"cannot read {path}: {exc}") from exc
        return str(root)

    # -- pins and garbage collection ------------------------------------------

    def pin(self, cid: str | Cid) -> None:
        parsed = Cid.parse(cid)
        with self._locked():
            if not self.has(parsed):
                raise ContentNotFound(
                    f"cannot pin {parsed}: not all of its blocks are in {self.describe()}"
                )
            self._write_pin(parsed)

    def unpin(self, cid: str | Cid) -> None:
        parsed = Cid.parse(cid)
        try:
            (self._pins / str(parsed)).unlink()
        except FileNotFoundError:
            raise StoreError(f"{parsed} is not pinned in {self.describe()}") from None

    def pins(self) -> list[str]:
        """Pinned root CIDs, sorted."""
        return sorted(entry.name for entry in self._pins.iterdir())

    def _write_pin(self, cid: Cid) -> None:
        (self._pins / str(cid)).touch()

    def gc(self) -> GcResult:
        """Delete every block no pinned content needs, and stale temporary files.

        Holds the store's lock exclusively, so no `put_*` runs meanwhile. A
        pinned content whose internal nodes are missing or corrupt makes it
        refuse (`ContentNotFound` / `IntegrityError`) rather than guess.
        """
        with self._locked(exclusive=True):
            keep: set[str] = set()
            for name in self.pins():
                keep.update(self._reachable_keys(Cid.parse(name)))
            removed = freed = kept = 0
            for shard in self._blocks.iterdir():
                for block_file in shard.iterdir():
                    if block_file.name.removesuffix(".data") in keep:
                        kept += 1
                        continue
                    freed += block_file.stat().st_size
                    block_file.unlink()
                    removed += 1
            for leftover in self._tmp.iterdir():
                leftover.unlink(missing_ok=True)
        return GcResult(removed, freed, kept)

    def _reachable_keys(self, root: Cid) -> set[str]:
        keys: set[str] = set()
        stack = [root]
        while stack:
            current = stack.pop()
            keys.add(self.block_key(current))
            if current.codec == RAW:
                continue
            try:
                block = self.get_block(current)
            except ContentNotFound:
                raise ContentNotFound(
                    f"pinned content {root} is missing block {current}: gc refuses to run"
                ) from None
            except IntegrityError as exc:
                raise IntegrityError(f"pinned content {root}: {exc}; gc refuses to run") from exc
            stack.extend(self._child_cids(root, current, block))
        return keys
