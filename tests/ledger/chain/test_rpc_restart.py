"""The chain node restarted under a running client: clear errors while down, no state lost.

An operator restarts the chain node (upgrade, crash, host reboot). Every fedledger process
holds an `RpcChain` to it and must neither hang nor misreport: while the node is down each call
is a `ChainError` that names the node and asks whether it is running; once the node is back
with its state (anvil `--state FILE`: loaded at start, dumped at exit) the same `RpcChain`
object carries on, nonces included, without being rebuilt.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.chain.anvil import AnvilProcess, derive_dev_accounts
from ledger.chain.base import TxRequest
from ledger.chain.rpc import RpcChain
from ledger.contracts.artifacts import ContractArtifact
from ledger.errors import ChainError, ContractRevert

pytestmark = pytest.mark.anvil

FIXED_GAS = 200_000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def node_with_state(anvil_binary: Path, tmp_path: Path) -> Iterator[tuple[AnvilProcess, Path]]:
    """An anvil on a fixed port that keeps its chain in a state file across restarts."""
    state = tmp_path / "anvil-state.json"
    process = AnvilProcess(binary=anvil_binary, port=_free_port(), timestamp=1_700_000_000,
                           extra_args=["--state", str(state)])
    process.start()
    yield process, state
    process.stop()


def test_client_reports_a_down_node_and_recovers_when_it_restarts_with_its_state(
    node_with_state: tuple[AnvilProcess, Path],
    anvil_binary: Path,
    fixture_artifacts: dict[str, ContractArtifact],
) -> None:
    # Prepare: a contract with some history, read through one long-lived client
    process, state = node_with_state
    url = process.url
    admin, sender = derive_dev_accounts(2)
    chain = RpcChain(url, accounts=[admin, sender], request_timeout=2.0)
    fixture = chain.deploy(fixture_artifacts["ChainFixture"], 5, sender=admin)
    chain.transact(fixture.functions.set(41, "before the restart"), sender, gas=FIXED_GAS)
    block_before = chain.block_number()
    nonce_before = chain.w3.eth.get_transaction_count(sender.address)

    # Execute: the node stops (dumping its state)
    process.stop()

    # Assert: every kind of call is a clear ChainError while it is down
    assert state.is_file() and state.stat().st_size > 0
    with pytest.raises(ChainError) as read_error:
        chain.call(fixture.functions.current())
    assert str(read_error.value).startswith(f"could not call current: cannot reach {url} (")
    assert str(read_error.value).endswith("is the node running?")
    with pytest.raises(ChainError, match=r"cannot reach .*is the node running\?"):
        chain.transact(fixture.functions.set(42, "while down"), sender, gas=FIXED_GAS)
    with pytest.raises(ChainError, match=r"cannot reach .*is the node running\?"):
        chain.block_number()

    # Execute: the node comes back on the same port from its state file
    restarted = AnvilProcess(binary=anvil_binary, port=int(url.rsplit(":", 1)[1]),
                             extra_args=["--state", str(state)])
    restarted.start()
    try:
        # Assert: same client, same chain: state, history and nonces carried over
        assert restarted.url == url
        assert chain.call(fixture.functions.current()) == 41
        assert chain.block_number() >= block_before
        assert chain.w3.eth.get_transaction_count(sender.address) == nonce_before
        receipt = chain.transact(fixture.functions.set(43, "after the restart"), sender,
                                 gas=FIXED_GAS)
        assert receipt["status"] == 1
        assert chain.call(fixture.functions.current()) == 43
        outcomes = chain.transact_many(
            [TxRequest(fixture.functions.set(44 + i, "bulk after"), sender, gas=FIXED_GAS)
             for i in range(3)]
        )
        assert [o.ok for o in outcomes] == [True, True, True]
        assert chain.w3.eth.get_transaction_count(sender.address) == nonce_before + 4
        with pytest.raises(ContractRevert) as revert:  # revert decoding still works
            chain.transact(fixture.functions.set(5000, "too large"), sender, gas=FIXED_GAS)
        assert revert.value.error_name == "FixtureValueTooLarge"
    finally:
        restarted.stop()
        chain.close()


def test_bulk_send_to_a_down_node_fails_each_request_and_loses_no_nonce(
    node_with_state: tuple[AnvilProcess, Path],
    anvil_binary: Path,
    fixture_artifacts: dict[str, ContractArtifact],
) -> None:
    # Prepare
    process, state = node_with_state
    url = process.url
    admin, sender = derive_dev_accounts(2)
    chain = RpcChain(url, accounts=[admin, sender], request_timeout=2.0)
    fixture = chain.deploy(fixture_artifacts["ChainFixture"], 5, sender=admin)
    nonce_before = chain.w3.eth.get_transaction_count(sender.address)
    requests = [TxRequest(fixture.functions.set(60 + i, "bulk"), sender, gas=FIXED_GAS)
                for i in range(3)]
    process.stop()

    # Execute
    outcomes = chain.transact_many(requests)

    # Assert: nothing sent; each outcome names the node and asks whether it runs
    assert [(o.ok, o.tx_hash, o.receipt) for o in outcomes] == [(False, None, None)] * 3
    for outcome in outcomes:
        assert isinstance(outcome.error, ChainError)
        assert url in str(outcome.error) and "is the node running?" in str(outcome.error)

    # Execute: after the restart, the same requests go through with the right nonces
    restarted = AnvilProcess(binary=anvil_binary, port=int(url.rsplit(":", 1)[1]),
                             extra_args=["--state", str(state)])
    restarted.start()
    try:
        outcomes = chain.transact_many(requests)

        # Assert
        assert [o.ok for o in outcomes] == [True, True, True]
        assert chain.call(fixture.functions.current()) == 62
        assert chain.w3.eth.get_transaction_count(sender.address) == nonce_before + 3
    finally:
        restarted.stop()
        chain.close()
