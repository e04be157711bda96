"""RpcChain's bulk path: call data encoded without web3's per-call ABI lookup, pipelined batches.

A 1,000-participant round sends thousands of transactions through `transact_many`; these tests
pin down what the fast path must keep identical to web3's `build_transaction` (the exact call
data) and what pipelining must not break (one sender's transactions spread over several
batches arrive in nonce order and all succeed).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import ledger.chain.reverts as reverts_module
import ledger.chain.rpc as rpc_module
from ledger.chain.anvil import AnvilChain
from ledger.chain.base import TxRequest
from ledger.chain.reverts import RevertDecoder
from ledger.chain.rpc import RpcChain
from ledger.contracts.artifacts import ContractArtifact

pytestmark = pytest.mark.anvil

FIXED_GAS = 200_000


@pytest.fixture
def rpc(anvil_chain: AnvilChain) -> Iterator[RpcChain]:
    """A plain RpcChain on the session anvil, reverted afterwards."""
    snapshot = anvil_chain.snapshot()
    chain = RpcChain(anvil_chain.process.url, accounts=anvil_chain.dev_accounts())
    yield chain
    chain.close()
    anvil_chain.revert(snapshot)


def test_fast_call_data_is_byte_identical_to_web3s(
    rpc: RpcChain, fixture_artifacts: dict[str, ContractArtifact]
) -> None:
    # Prepare
    admin = rpc.dev_accounts()[0]
    fixture = rpc.deploy(fixture_artifacts["ChainFixture"], 5, sender=admin)
    fn = fixture.functions.set(123, "a string long enough to need a second ABI word ...")
    params = {"from": admin.address, "gas": FIXED_GAS, "nonce": 0, "chainId": rpc.chain_id,
              "maxFeePerGas": 10**9, "maxPriorityFeePerGas": 1}

    # Execute
    ours = rpc._calldata(fn)
    theirs = fn.build_transaction(params)["data"]

    # Assert
    assert ours == theirs


def test_one_senders_transactions_over_many_batches_land_in_nonce_order(
    rpc: RpcChain,
    fixture_artifacts: dict[str, ContractArtifact],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Prepare: 12 transactions from one account in batches of 5 (3 pipelined batches)
    monkeypatch.setattr(rpc_module, "BATCH_SIZE", 5)
    admin, sender = rpc.dev_accounts()[0], rpc.dev_accounts()[1]
    fixture = rpc.deploy(fixture_artifacts["ChainFixture"], 5, sender=admin)
    first_nonce = rpc.w3.eth.get_transaction_count(sender.address)
    requests = [
        TxRequest(fixture.functions.set(100 + i, f"n{i}"), sender, gas=FIXED_GAS)
        for i in range(12)
    ]

    # Execute
    outcomes = rpc.transact_many(requests)

    # Assert
    assert [o.ok for o in outcomes] == [True] * 12
    nonces = [rpc.w3.eth.get_transaction(o.tx_hash)["nonce"] for o in outcomes]  # type: ignore[arg-type]
    assert nonces == list(range(first_nonce, first_nonce + 12))
    assert rpc.call(fixture.functions.current()) == 111
    assert rpc.w3.eth.get_transaction_count(sender.address) == first_nonce + 12


def test_a_batch_the_node_refuses_fails_each_request_with_the_nodes_answer(
    rpc: RpcChain,
    fixture_artifacts: dict[str, ContractArtifact],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Prepare: the node answers a batch with one error object instead of a list
    admin, sender = rpc.dev_accounts()[0], rpc.dev_accounts()[1]
    fixture = rpc.deploy(fixture_artifacts["ChainFixture"], 5, sender=admin)
    nonce = rpc.w3.eth.get_transaction_count(sender.address)
    with monkeypatch.context() as patched:
        patched.setattr(
            rpc._provider,
            "make_batch_request",
            lambda calls: {"jsonrpc": "2.0", "error": {"code": -32600, "message": "too big"}},
        )

        # Execute
        outcomes = rpc.transact_many(
            [TxRequest(fixture.functions.set(7 + i, "x"), sender, gas=FIXED_GAS) for i in range(2)]
        )

    # Assert: nothing was sent, each outcome says why, the nonces are not lost
    expected = (
        f"could not send transactions on {rpc.url}: batch request refused "
        "({'code': -32600, 'message': 'too big'})"
    )
    assert [(o.ok, o.tx_hash, str(o.error)) for o in outcomes] == [(False, None, expected)] * 2
    retried = rpc.transact_many([TxRequest(fixture.functions.set(9, "y"), sender, gas=FIXED_GAS)])
    assert retried[0].ok
    assert rpc.w3.eth.get_transaction(retried[0].tx_hash)["nonce"] == nonce  # type: ignore[arg-type]


def test_revert_decoder_reads_an_abi_list_once_and_again_when_it_grew(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Prepare
    hashed: list[str] = []
    original = reverts_module.function_abi_to_4byte_selector

    def counting(entry: dict[str, object]) -> bytes:
        hashed.append(str(entry["name"]))
        return original(entry)  # type: ignore[arg-type]

    monkeypatch.setattr(reverts_module, "function_abi_to_4byte_selector", counting)
    abi: list[dict[str, object]] = [
        {"type": "error", "name": "First", "inputs": [{"name": "x", "type": "uint256"}]},
        {"type": "function", "name": "f", "inputs": [], "outputs": []},
    ]
    decoder = RevertDecoder()

    # Execute
    decoder.register_abi(abi)
    decoder.register_abi(abi)
    abi.append({"type": "error", "name": "Second", "inputs": []})
    decoder.register_abi(abi)

    # Assert
    assert hashed == ["First", "First", "Second"]
    assert decoder.known("First") and decoder.known("Second")
