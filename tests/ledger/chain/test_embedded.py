"""The embedded eth-tester chain passes the backend conformance suite, plus its own specifics."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_account import Account

from ledger.chain.embedded import EmbeddedChain
from ledger.errors import ChainError
from tests.ledger.chain.conformance import ChainPowersConformance

ETH_TESTER_CHAIN_ID = 131277322940537


class TestEmbeddedChain(ChainPowersConformance):
    expected_chain_id = ETH_TESTER_CHAIN_ID

    @pytest.fixture
    def backend(self, embedded_chain: EmbeddedChain) -> Iterator[EmbeddedChain]:
        snapshot = embedded_chain.snapshot()
        yield embedded_chain
        embedded_chain.revert(snapshot)


def test_dev_accounts_are_eth_testers_well_known_keys() -> None:
    # Prepare
    chain = EmbeddedChain(accounts=3)

    # Execute
    accounts = chain.dev_accounts()

    # Assert
    assert [a.key for a in accounts] == [bytes(31) + bytes([i]) for i in (1, 2, 3)]
    assert accounts[0].address == Account.from_key(bytes(31) + b"\x01").address


def test_zero_accounts_is_refused() -> None:
    # Execute / Assert
    with pytest.raises(ChainError, match="at least one account"):
        EmbeddedChain(accounts=0)


def test_closed_chain_refuses_transactions() -> None:
    # Prepare
    chain = EmbeddedChain(accounts=2)
    sender, receiver = chain.dev_accounts()
    chain.close()

    # Execute / Assert
    with pytest.raises(ChainError, match="is closed"):
        chain.send_value(sender, receiver.address, 1)
