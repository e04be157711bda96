"""Picks a chain backend from one string, so every CLI and service takes `--chain SPEC`.

`embedded` (in-process eth-tester, the default for demos and unit tests), `anvil` (a managed
anvil this process starts and stops), or an `http://` / `https://` JSON-RPC URL (any node).
"""

from __future__ import annotations

from ledger.chain.base import ChainBackend
from ledger.errors import ConfigError

EMBEDDED = "embedded"
ANVIL = "anvil"


def open_chain(spec: str) -> ChainBackend:
    """Open the chain named by `spec`; the caller closes it (it is a context manager)."""
    cleaned = spec.strip()
    if cleaned == EMBEDDED:
        from ledger.chain.embedded import EmbeddedChain

        return EmbeddedChain()
    if cleaned == ANVIL:
        from ledger.chain.anvil import AnvilChain

        return AnvilChain()
    if cleaned.startswith(("http://", "https://")):
        from ledger.chain.rpc import RpcChain

        return RpcChain(cleaned)
    raise ConfigError(
        f"unknown chain {spec!r}: use 'embedded', 'anvil', or an http(s):// JSON-RPC URL"
    )
