"""Shared pytest fixtures: chains (embedded and anvil) and a deployed fedledger network.

Chains are started once per session (per xdist worker) and shared; every function-scoped
fixture below gives its test an isolated view by taking a chain snapshot before the test and
reverting to it afterwards, so tests may move time, send transactions and deploy freely.

- `embedded_chain` (session): `EmbeddedChain` with `EMBEDDED_ACCOUNTS` funded dev accounts.
- `anvil_binary` (session): path of the anvil executable, or a skip saying how to install it.
- `anvil_chain` (session): `AnvilChain` (managed anvil, prague, chain id 31337) with
  `ANVIL_ACCOUNTS` accounts; skips with the reason when the anvil binary is absent.
- `chain` (function, parametrized `embedded` / `anvil`): one of the above, isolated by snapshot.
  Tests using it run twice; the anvil run carries the `anvil` marker.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.chain.base import TestChainBackend
from ledger.errors import ChainError

EMBEDDED_ACCOUNTS = 12
ANVIL_ACCOUNTS = 12

CHAIN_KINDS = ["embedded", pytest.param("anvil", marks=pytest.mark.anvil)]


@pytest.fixture(scope="session")
def embedded_chain() -> Iterator[TestChainBackend]:
    """A session-wide in-process eth-tester chain."""
    from ledger.chain.embedded import EmbeddedChain

    backend = EmbeddedChain(accounts=EMBEDDED_ACCOUNTS)
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def anvil_binary() -> Path:
    """Path of the anvil executable; skips the test (with the reason) when it is missing."""
    from ledger.chain.anvil import find_anvil

    try:
        return find_anvil()
    except ChainError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def anvil_chain(anvil_binary: Path) -> Iterator[TestChainBackend]:
    """A session-wide managed anvil; skipped (with the reason) when the binary is missing."""
    from ledger.chain.anvil import AnvilChain

    backend = AnvilChain(accounts=ANVIL_ACCOUNTS, binary=anvil_binary)
    yield backend
    backend.close()


@pytest.fixture(params=CHAIN_KINDS)
def chain_kind(request: pytest.FixtureRequest) -> str:
    """Which backend a parametrized test runs on: 'embedded' or 'anvil'."""
    return str(request.param)


@pytest.fixture
def chain(request: pytest.FixtureRequest, chain_kind: str) -> Iterator[TestChainBackend]:
    """The session chain of `chain_kind`, reverted to its prior state after the test."""
    backend: TestChainBackend = request.getfixturevalue(f"{chain_kind}_chain")
    snapshot = backend.snapshot()
    yield backend
    backend.revert(snapshot)
