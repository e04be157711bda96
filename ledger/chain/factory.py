"""Picks a chain backend from one string, so every CLI and service takes `--chain SPEC`.

`embedded` (in-process eth-tester, the default for demos and unit tests), `anvil` (a managed
anvil this process starts and stops), or an `http://` / `https://` JSON-RPC URL (any node).
"""

from __future__ import annotations

from ledger.chain.base import ChainBackend
from ledger.errors import ConfigError

EMBEDDED = "embedded"
ANVIL = "anvil"


def open_chain(spec: str, *, accounts: int | None = None) -> ChainBackend:
    """Open the chain named by `spec`; the caller closes it (it is a context manager).

    `accounts` sets how many funded dev accounts a chain the project starts (embedded, anvil)
    creates; a URL names someone else's chain, where it cannot apply.
    """
    cleaned = spec.strip()
    if cleaned == EMBEDDED:
        from ledger.chain.embedded import DEFAULT_ACCOUNTS, EmbeddedChain

        return EmbeddedChain(accounts=accounts or DEFAULT_ACCOUNTS)
    if cleaned == ANVIL:
        from ledger.chain.anvil import DEFAULT_ACCOUNTS as ANVIL_ACCOUNTS
        from ledger.chain.anvil import AnvilChain

        return AnvilChain(accounts=accounts or ANVIL_ACCOUNTS)
    if cleaned.startswith(("http://", "https://")):
        if accounts is not None:
            raise ConfigError(
                f"cannot create dev accounts on {cleaned}: only 'embedded' and 'anvil' chains "
                "are started by fedledger"
            )
        from ledger.chain.rpc import RpcChain

        return RpcChain(cleaned)
    raise ConfigError(
        f"unknown chain {spec!r}: use 'embedded', 'anvil', or an http(s):// JSON-RPC URL"
    )
