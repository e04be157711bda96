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
- `network` (function, on `chain`): a `DevNetwork` (ledger.contracts.deploy): RewardToken and
  TrainingRegistry deployed by `admin`, `aggregator` appointed and bonded, `auditor` holding AUDITOR_ROLE,
  `NETWORK_PARTICIPANTS` participants registered with `NETWORK_PARAMS.min_stake` staked and
  `NETWORK_SPARE_TOKENS` more each (the auditor too) for challenge bonds, and an `outsider`
  with gas money only. Every admin role belongs to the consortium's timelock: `admin` plus
  `NETWORK_EXTRA_MEMBERS` more accounts are its members (`network.consortium`), and admin
  operations run as proposals (`ledger.contracts.devgov.govern`). No task is set and no round
  is open. Deployed once per backend per
  session; each test starts from that exact state (snapshot revert).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.chain.base import TestChainBackend
from ledger.contracts.deploy import DevNetwork, bootstrap_dev_network
from ledger.contracts.registry import RegistryParams
from ledger.contracts.token import ONE_TOKEN
from ledger.errors import ChainError

EMBEDDED_ACCOUNTS = 12
ANVIL_ACCOUNTS = 12

NETWORK_PARTICIPANTS = 4
NETWORK_PARAMS = RegistryParams(
    min_stake=10 * ONE_TOKEN,
    reward_per_round=1_000 * ONE_TOKEN,
    challenge_window=3_600,
    challenge_bond=5 * ONE_TOKEN,
    aggregator_bond=50 * ONE_TOKEN,
    missed_reveal_penalty=2 * ONE_TOKEN,
)
NETWORK_SPARE_TOKENS = 20 * ONE_TOKEN
#: Consortium members besides `admin` (the accounts right after the participants).
NETWORK_EXTRA_MEMBERS = 2

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
    """The session chain of `chain_kind`, reverted to its prior state after the test.

    With `network` in the same test, `network` does the isolating (it reverts to its own
    baseline, which would invalidate a snapshot taken here first).
    """
    backend: TestChainBackend = request.getfixturevalue(f"{chain_kind}_chain")
    if "network" in request.fixturenames:
        yield backend
        return
    snapshot = backend.snapshot()
    yield backend
    backend.revert(snapshot)


@pytest.fixture(scope="session")
def _network_baselines() -> dict[str, tuple[DevNetwork, list[int]]]:
    """Per backend kind: the deployed DevNetwork and the snapshot id of its fresh state."""
    return {}


@pytest.fixture
def network(
    chain: TestChainBackend,
    chain_kind: str,
    _network_baselines: dict[str, tuple[DevNetwork, list[int]]],
) -> DevNetwork:
    """A freshly deployed fedledger network on `chain` (see the module docstring)."""
    entry = _network_baselines.get(chain_kind)
    if entry is None:
        accounts = chain.dev_accounts()
        first_extra = 4 + NETWORK_PARTICIPANTS
        dev = bootstrap_dev_network(
            chain,
            accounts,
            NETWORK_PARAMS,
            participants=NETWORK_PARTICIPANTS,
            spare_tokens=NETWORK_SPARE_TOKENS,
            consortium=accounts[first_extra : first_extra + NETWORK_EXTRA_MEMBERS],
        )
        _network_baselines[chain_kind] = (dev, [chain.snapshot()])
        return dev
    dev, holder = entry
    chain.revert(holder[0])  # anvil consumes a snapshot when reverting to it: take a new one
    holder[0] = chain.snapshot()
    return dev
