"""`open_store(spec)`: the one place a store spec string becomes a `ContentStore`.

Every command and service takes a `--store` spec so the same code runs on the
embedded store (tests, demo) and on a real IPFS daemon (multi-process,
production):

* `http://127.0.0.1:5001`, `https://...`, or a multiaddr `/ip4/.../tcp/5001/http`:
  an IPFS daemon's RPC API (`DaemonStore`);
* `embedded:<dir>` or a plain directory path: the on-disk store (`DiskStore`).

The daemon backend (and its HTTP client) is imported only when asked for.
"""

from __future__ import annotations

import os
from typing import Final

from ledger.store.base import ContentStore
from ledger.store.disk import DiskStore
from ledger.store.errors import StoreUnavailable

EMBEDDED_PREFIX: Final = "embedded:"
DEFAULT_SPEC: Final = ".fedledger/store"
"""The embedded store in the working directory's `.fedledger/` (ignored by git)."""
ENV_SPEC: Final = "FEDLEDGER_STORE"
"""Environment variable that supplies the spec when no flag does."""


def default_spec() -> str:
    """`$FEDLEDGER_STORE` if set, else the embedded store under `.fedledger/store`."""
    return os.environ.get(ENV_SPEC) or DEFAULT_SPEC


def is_daemon_spec(spec: str) -> bool:
    """Whether the spec names a daemon (URL or multiaddr) rather than a directory."""
    return spec.startswith(("http://", "https://", "/ip4/", "/ip6/", "/dns/", "/dns4/", "/dns6/"))


def open_store(
    spec: str | os.PathLike[str] | None = None, *, fetch_timeout: float = 30.0
) -> ContentStore:
    """Open the content store a spec names (see the module docstring).

    Parameters
    ----------
    spec
        Store spec; `default_spec()` when None.
    fetch_timeout
        For a daemon: seconds it may spend producing one block.

    Raises
    ------
    StoreUnavailable
        The spec is empty, the daemon does not answer, or the directory cannot
        hold a store.
    """
    text = default_spec() if spec is None else os.fspath(spec)
    if not text.strip():
        raise StoreUnavailable(
            "empty store spec: give a directory, embedded:<dir> or http://host:port"
        )
    if is_daemon_spec(text):
        from ledger.store.daemon import DaemonStore

        return DaemonStore(text, fetch_timeout=fetch_timeout)
    if text.startswith(EMBEDDED_PREFIX):
        directory = text[len(EMBEDDED_PREFIX) :]
        if not directory:
            raise StoreUnavailable("embedded: needs a directory, e.g. embedded:.fedledger/store")
        return DiskStore(directory)
    if "://" in text:
        raise StoreUnavailable(
            f"store spec {text!r}: only http(s) daemon URLs are supported, "
            "or a directory / embedded:<dir>"
        )
    return DiskStore(text)
