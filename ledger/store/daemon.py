"""`DaemonStore`: content on a real IPFS node, through its Kubo RPC API (`/api/v0`).

Participants publish to the IPFS node they run; the aggregator and auditors read
from theirs. Nothing the daemon says is trusted:

* adds use `ipfs add` with `cid-version=1`, `raw-leaves=true` and the 256 KiB
  chunker spelled out (a daemon's defaults vary by version and config), while
  the CID is computed locally from the same bytes as they stream out; the
  daemon's answer, normalised to base32, must equal it or the add fails;
* reads fetch the DAG's internal nodes block by block (`block/get`), verify
  each, and take the leaves from one streamed `cat`, cutting it at the leaf
  sizes the verified nodes announce and hashing every leaf against the CID its
  parent names before any of its bytes are used (`VerifiedReader`). A lying
  daemon is caught at the first wrong leaf, never read past the announced size,
  and an oversized block answer is cut off at the largest size a block can have.

The client is `ipfshttpclient` 0.7.0. Its `connect()` refuses every daemon from
version 0.8 on (all modern Kubo, and js-ipfs), because it compares against a
hard-coded maximum; that check says nothing about the RPC subset used here
(version, add, block get/put/stat, pin add/rm/ls), which is stable across
Kubo and js-ipfs. So this module builds `ipfshttpclient.Client` directly and
does its own check: the daemon must answer `version` and be at least 0.4.23.
Everything goes through the client; no plain-HTTP fallback was needed.

A daemon that goes away (restarted, killed) is waited for: every whole-content
call (`get_bytes`, `get_file`, `get_block`, `size`, `has`, the adds, pins) is
retried from scratch with bounded exponential backoff (`RetryPolicy`) while the
daemon cannot be reached, and each wait is reported (`RetryStatus`, a warning
on the `fedledger.store` logger by default). A stream that breaks off counts as
the daemon going away only if the daemon then fails to answer `version`; a
daemon that is up and cut its answer short is not retried. `open_stream` and
`iter_blocks` hand out bytes as they come, so they cannot restart silently:
their callers see the `StoreUnavailable` and decide.
"""

from __future__ import annotations

import io
import ipaddress
import os
import re
import time
import urllib.parse
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any, Final, TypeVar

import ipfshttpclient
import requests
from ipfshttpclient import exceptions as ipfs_errors

from ledger.store.base import ContentStore, PathLike
from ledger.store.builder import CHUNK_SIZE, KUBO_V1, CidHasher
from ledger.store.cid import Cid, normalize_cid
from ledger.store.errors import (
    ContentNotFound,
    IntegrityError,
    StoreError,
    StoreUnavailable,
)
from ledger.store.retry import RetryListener, RetryPolicy, call_with_retry, log_retry
from ledger.store.verify import ContentStream, check_block

T = TypeVar("T")

MINIMUM_VERSION: Final = (0, 4, 23)
"""Oldest daemon with CIDv1/raw-leaves adds and multihash-keyed blocks (Kubo 0.4.23)."""
UPLOAD_PIECE: Final = 4 * CHUNK_SIZE
ADD_OPTIONS: Final = {"cid_version": 1, "raw_leaves": True, "chunker": f"size-{CHUNK_SIZE}"}

STRICT_WARNING: Final = "The 'strict' parameter is no longer needed"
# ipfshttpclient 0.7.0 passes urllib3's removed `strict=` argument on every request; urllib3 2
# only warns. Harmless, and filtered exactly (pytest resets filters per test: the test modules
# that reach a daemon filter it themselves).
warnings.filterwarnings(
    "ignore", message=STRICT_WARNING, category=FutureWarning, module="urllib3.poolmanager"
)


@dataclass(frozen=True, slots=True)
class DaemonInfo:
    """What the daemon says it is."""

    implementation: str
    version: str


def to_multiaddr(url: str) -> tuple[str, str]:
    """Convert `http://host:port[/base]` (or a multiaddr) to ipfshttpclient's (addr, base).

    Raises
    ------
    StoreUnavailable
        The URL is not an http(s) URL with a host and port.
    """
    if url.startswith("/"):
        return url, "api/v0"
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StoreUnavailable(f"{url!r} is not an IPFS RPC URL like http://127.0.0.1:5001")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 5001)
    except ValueError as exc:
        raise StoreUnavailable(f"{url!r} has an invalid port") from exc
    host = parts.hostname
    try:
        family = "ip6" if ipaddress.ip_address(host).version == 6 else "ip4"
    except ValueError:
        family = "dns"
    base = parts.path.strip("/") or "api/v0"
    return f"/{family}/{host}/tcp/{port}/{parts.scheme}", base


def _parse_version(text: str) -> tuple[int, ...]:
    match = re.match(r"^v?(\d+)\.(\d+)\.(\d+)", text)
    if match is None:
        raise StoreUnavailable(f"the daemon reports an unreadable version {text!r}")
    return tuple(int(part) for part in match.groups())


class _HashingReader:
    """File-like wrapper: every piece the client uploads also feeds the local CID."""

    def __init__(
        self, stream: IO[bytes], hasher: CidHasher, progress: Callable[[int], None] | None
    ) -> None:
        self._stream = stream
        self._hasher = hasher
        self._progress = progress

    def read(self, size: int = -1) -> bytes:
        piece = self._stream.read(size)
        if piece:
            self._hasher.update(piece)
            if self._progress is not None:
                self._progress(len(piece))
        return piece


class DaemonStore(ContentStore):
    """Content store backed by an IPFS daemon's RPC API (Kubo or js-ipfs).

    Parameters
    ----------
    url
        RPC endpoint, e.g. `http://127.0.0.1:5001` (or a multiaddr).
    timeout
        Seconds to wait for the daemon to connect and answer ordinary calls.
    fetch_timeout
        Seconds the daemon may spend producing one block (it may search the
        network); past it the block counts as not found.
    probe_timeout
        Seconds `has()` waits per block: a daemon answers for local blocks at
        once, and js-ipfs ignores `offline=true`, so this bounds its search.
    retry
        How long to keep retrying while the daemon cannot be reached (the
        daemon must answer once, here, when the store is created).
    on_retry
        Called with a `RetryStatus` before each wait (default: a log warning).
    sleep
        How to wait (tests pass a fake clock).
    """

    def __init__(
        self,
        url: str = "http://127.0.0.1:5001",
        *,
        timeout: float = 60.0,
        fetch_timeout: float = 30.0,
        probe_timeout: float = 2.0,
        retry: RetryPolicy | None = None,
        on_retry: RetryListener = log_retry,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url
        self._timeout = timeout
        self._fetch_timeout = fetch_timeout
        self._probe_timeout = probe_timeout
        self.retry = retry if retry is not None else RetryPolicy()
        self._on_retry = on_retry
        self._sleep = sleep
        addr, base = to_multiaddr(url)
        try:
            self._client: Any = ipfshttpclient.Client(
                addr, base, session=True, timeout=timeout, chunk_size=UPLOAD_PIECE
            )
        except ipfs_errors.AddressError as exc:
            raise StoreUnavailable(f"{url!r} is not a usable daemon address: {exc}") from exc
        try:
            self.info = self._check_version()
        except BaseException:
            self._client.close()
            raise

    def _check_version(self) -> DaemonInfo:
        try:
            answer = self._client.version()
        except ipfs_errors.Error as exc:
            raise StoreUnavailable(
                f"no IPFS daemon answers at {self.url} ({exc}): start one (`ipfs daemon`, or "
                "`python -m ledger.store.jsipfs`) or choose another store"
            ) from exc
        version = str(answer.get("Version", ""))
        if _parse_version(version) < MINIMUM_VERSION:
            minimum = ".".join(map(str, MINIMUM_VERSION))
            raise StoreUnavailable(
                f"the IPFS daemon at {self.url} is version {version}; fedledger needs "
                f"{minimum} or newer"
            )
        implementation = "js-ipfs" if "ipfs-core" in answer else "kubo"
        return DaemonInfo(implementation, version)

    def describe(self) -> str:
        return f"the IPFS daemon at {self.url} ({self.info.implementation} {self.info.version})"

    def close(self) -> None:
        self._client.close()

    # -- error mapping --------------------------------------------------------

    def _failure(self, action: str, exc: Exception) -> StoreError:
        if isinstance(exc, ipfs_errors.ConnectionError):
            return StoreUnavailable(f"lost the IPFS daemon at {self.url} while {action}: {exc}")
        if isinstance(exc, ipfs_errors.ProtocolError):
            return self._broken_off(
                f"the daemon at {self.url} broke off its answer while {action}", exc
            )
        return StoreError(f"the daemon at {self.url} failed while {action}: {exc}")

    def _broken_off(self, message: str, exc: Exception) -> StoreError:
        """A cut answer: the daemon went away (retryable) or cut it itself (not retried)."""
        if self._reachable():
            return StoreError(message)
        return StoreUnavailable(f"{message}, and no longer answers ({exc})")

    def _reachable(self) -> bool:
        """Whether the daemon answers `version` right now (within `probe_timeout`)."""
        try:
            self._client.version(timeout=(self._probe_timeout, self._probe_timeout))
        except ipfs_errors.Error:
            return False
        return True

    # -- retries --------------------------------------------------------------

    def _retrying(self, action: str, operation: Callable[[], T]) -> T:
        return call_with_retry(
            action,
            operation,
            self.retry,
            store=f"the IPFS daemon at {self.url}",
            on_retry=self._on_retry,
            sleep=self._sleep,
        )

    def get_bytes(self, cid: str | Cid, *, max_size: int | None = None) -> bytes:
        """The whole verified content; refetched from the start after the daemon comes back."""
        return self._retrying(
            f"fetching {cid}", lambda: super(DaemonStore, self).get_bytes(cid, max_size=max_size)
        )

    def get_file(
        self,
        cid: str | Cid,
        dest: PathLike,
        *,
        max_size: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Verified content to `dest`; a retried fetch starts over (`progress` counts again)."""
        return self._retrying(
            f"fetching {cid} to {dest}",
            lambda: super(DaemonStore, self).get_file(
                cid, dest, max_size=max_size, progress=progress
            ),
        )

    def get_block(self, cid: str | Cid) -> bytes:
        return self._retrying(
            f"fetching block {cid}", lambda: super(DaemonStore, self).get_block(cid)
        )

    def size(self, cid: str | Cid) -> int:
        return self._retrying(
            f"reading the size of {cid}", lambda: super(DaemonStore, self).size(cid)
        )

    # -- blocks ---------------------------------------------------------------

    def _read_block(self, cid: Cid, limit: int, *, probe: bool = False) -> bytes:
        wait = self._probe_timeout if probe else self._fetch_timeout
        received = bytearray()
        try:
            stream = self._client.block.get(
                str(cid), stream=True, offline=probe, timeout=(self._timeout, wait)
            )
            with stream:
                for piece in stream:
                    received += piece
                    if len(received) > limit:
                        break
        except ipfs_errors.TimeoutError:
            raise ContentNotFound(
                f"{cid} is not in {self.describe()}: not produced within {wait:g} s"
            ) from None
        except ipfs_errors.ErrorResponse as exc:
            if "not found" in str(exc).lower():
                raise ContentNotFound(f"{cid} is not in {self.describe()}: {exc}") from exc
            raise self._failure(f"reading block {cid}", exc) from exc
        except ipfs_errors.Error as exc:
            raise self._failure(f"reading block {cid} ({len(received)} bytes in)", exc) from exc
        except requests.RequestException as exc:
            # ipfshttpclient wraps errors raised while sending, not while a streamed body is read.
            raise self._broken_off(
                f"the daemon at {self.url} broke off its answer for block {cid}: {exc}", exc
            ) from exc
        return bytes(received)

    def _content_stream(self) -> ContentStream:
        return self._cat

    def _cat(self, cid: Cid) -> Iterator[bytes]:
        """The daemon's `cat` of a content, unverified: `VerifiedReader` cuts and checks it.

        One streamed request instead of one round trip per 256 KiB leaf: js-ipfs
        answers `cat` about five times faster than the same blocks fetched one by one.
        """
        try:
            stream = self._client.cat(
                str(cid), stream=True, timeout=(self._timeout, self._fetch_timeout)
            )
        except ipfs_errors.TimeoutError:
            raise ContentNotFound(
                f"{cid} is not in {self.describe()}: not produced within {self._fetch_timeout:g} s"
            ) from None
        except ipfs_errors.Error as exc:
            raise self._failure(f"streaming {cid}", exc) from exc
        with stream:
            try:
                yield from stream
            except ipfs_errors.Error as exc:
                raise self._failure(f"streaming {cid}", exc) from exc
            except requests.RequestException as exc:
                raise self._broken_off(
                    f"the daemon at {self.url} broke off its stream of {cid}: {exc}", exc
                ) from exc

    def _has_block(self, cid: Cid) -> bool:
        try:
            self._client.block.stat(
                str(cid), offline=True, timeout=(self._timeout, self._probe_timeout)
            )
        except (ipfs_errors.TimeoutError, ipfs_errors.ErrorResponse):
            return False
        except ipfs_errors.Error as exc:
            raise self._failure(f"checking block {cid}", exc) from exc
        return True

    def put_block(self, cid: str | Cid, data: bytes) -> None:
        parsed = Cid.parse(cid)
        check_block(parsed, data, parsed)
        self._retrying(f"storing block {parsed}", lambda: self._put_block(parsed, data))

    def _put_block(self, parsed: Cid, data: bytes) -> None:
        try:
            answer = self._client.block.put(io.BytesIO(data))
        except ipfs_errors.Error as exc:
            raise self._failure(f"storing block {parsed}", exc) from exc
        stored = Cid.parse(str(answer["Key"]))
        if stored.multihash != parsed.multihash:
            raise IntegrityError(
                f"the daemon at {self.url} stored block {parsed} under another hash ({stored})"
            )

    # -- adding content -------------------------------------------------------

    def put_bytes(self, data: bytes | bytearray | memoryview, *, pin: bool = True) -> str:
        content = bytes(data)
        return self._retrying(
            f"adding {len(content)} bytes",
            lambda: self._add(io.BytesIO(content), pin=pin, only_hash=False, progress=None),
        )

    def put_file(
        self, path: PathLike, *, pin: bool = True, progress: Callable[[int], None] | None = None
    ) -> str:
        """Add a file; a retried add reads it again from the start (`progress` counts again)."""
        return self._retrying(f"adding {path}", lambda: self._put_file(path, pin, progress))

    def _put_file(self, path: PathLike, pin: bool, progress: Callable[[int], None] | None) -> str:
        try:
            with open(path, "rb") as stream:
                return self._add(stream, pin=pin, only_hash=False, progress=progress)
        except OSError as exc:
            raise StoreError(f"cannot read {path}: {exc}") from exc

    def hash_only(self, source: bytes | PathLike) -> str:
        """The CID the daemon itself computes for these bytes or this file, storing nothing.

        For cross-checks and diagnosis (`ipfs add --only-hash`); it is still
        compared with the local computation and refused on disagreement.
        """
        if isinstance(source, bytes):
            return self._add(io.BytesIO(source), pin=False, only_hash=True, progress=None)
        with open(os.fspath(source), "rb") as stream:
            return self._add(stream, pin=False, only_hash=True, progress=None)

    def _add(
        self,
        stream: IO[bytes],
        *,
        pin: bool,
        only_hash: bool,
        progress: Callable[[int], None] | None,
    ) -> str:
        hasher = CidHasher(KUBO_V1)
        reader = _HashingReader(stream, hasher, progress)
        try:
            answer = self._client.add(reader, pin=pin, only_hash=only_hash, **ADD_OPTIONS)
        except ipfs_errors.Error as exc:
            raise self._failure("adding content", exc) from exc
        if isinstance(answer, list):
            if len(answer) != 1:
                raise StoreError(
                    f"the daemon at {self.url} answered {len(answer)} entries for one added file"
                )
            answer = answer[0]
        theirs = normalize_cid(str(answer["Hash"]))
        ours = str(hasher.finish())
        if theirs != ours:
            raise IntegrityError(
                f"the daemon at {self.url} added content as {theirs}, but `ipfs add "
                f"--cid-version 1 --raw-leaves` gives {ours} for these bytes: refused"
            )
        return ours

    # -- pins -----------------------------------------------------------------

    def pin(self, cid: str | Cid) -> None:
        parsed = Cid.parse(cid)
        self._retrying(f"pinning {parsed}", lambda: self._pin(parsed))

    def _pin(self, parsed: Cid) -> None:
        try:
            self._client.pin.add(str(parsed), timeout=(self._timeout, self._fetch_timeout))
        except ipfs_errors.TimeoutError:
            raise ContentNotFound(
                f"cannot pin {parsed}: {self.describe()} did not find all of its blocks "
                f"within {self._fetch_timeout:g} s"
            ) from None
        except ipfs_errors.Error as exc:
            raise self._failure(f"pinning {parsed}", exc) from exc

    def unpin(self, cid: str | Cid) -> None:
        parsed = Cid.parse(cid)
        self._retrying(f"unpinning {parsed}", lambda: self._unpin(parsed))

    def _unpin(self, parsed: Cid) -> None:
        try:
            self._client.pin.rm(str(parsed))
        except ipfs_errors.ErrorResponse as exc:
            raise StoreError(f"cannot unpin {parsed} in {self.describe()}: {exc}") from exc
        except ipfs_errors.Error as exc:
            raise self._failure(f"unpinning {parsed}", exc) from exc

    def has(self, cid: str | Cid) -> bool:
        """Whether the daemon holds all of the content now (pinned, or every block local)."""
        parsed = Cid.parse(cid)
        return self._retrying(f"checking whether it holds {parsed}", lambda: self._has(parsed))

    def _has(self, parsed: Cid) -> bool:
        try:
            pins = self._client.pin.ls(str(parsed), type="recursive")
        except ipfs_errors.ErrorResponse:
            pins = {"Keys": {}}
        except ipfs_errors.Error as exc:
            raise self._failure(f"listing pins of {parsed}", exc) from exc
        if any(normalize_cid(key) == str(parsed) for key in pins.get("Keys", {})):
            return True
        return super().has(parsed)
