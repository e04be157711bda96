"""TrainingRegistry's reentrancy guard: a token that calls back into the registry from inside
`transferFrom` / `mint` is stopped with `ReentrancyGuardReentrantCall`, and nothing changes.

The hostile token is `solidity/ReentrantToken.sol`, compiled once and cached on disk by the hash of
its source and the compiler settings (solc-js takes seconds).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import pytest
from eth_utils.crypto import keccak
from web3.contract import Contract

from ledger.contracts import load_artifact
from ledger.contracts.artifacts import ContractArtifact, artifact_from_json, artifact_to_json
from ledger.contracts.compiler import COMPILER_SETTINGS, REPO_ROOT, compile_contracts
from tests.contracts.scenario import (
    EVIDENCE_CID,
    MODEL0_CID,
    MODEL0_HASH,
    MODEL1_CID,
    MODEL1_HASH,
    REPORT_CID,
    REPORT_HASH,
    ROUND_STATUS,
    TASK_CID,
    TASK_HASH,
    Chain,
    reward_leaf,
)

SOLIDITY_DIR = Path(__file__).parent / "solidity"
CACHE_DIR = Path(tempfile.gettempdir()) / "fedledger-contract-test-cache"

pytestmark = pytest.mark.skipif(
    not (REPO_ROOT / "node_modules" / "solc" / "package.json").is_file(),
    reason="npm package solc is not installed: run `npm install` to compile the hostile token",
)


def _reentrant_token_artifact() -> ContractArtifact:
    source = (SOLIDITY_DIR / "ReentrantToken.sol").read_bytes()
    key = hashlib.sha256(source + repr(sorted(COMPILER_SETTINGS.items())).encode()).hexdigest()
    cached = CACHE_DIR / f"ReentrantToken-{key[:24]}.json"
    if cached.is_file():
        return artifact_from_json(cached.read_text(encoding="utf-8"), origin=str(cached))
    artifact = compile_contracts(SOLIDITY_DIR).artifacts["ReentrantToken"]
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(artifact_to_json(artifact), encoding="utf-8")
    os.replace(partial, cached)
    return artifact


@pytest.fixture(scope="module")
def hostile_artifact() -> ContractArtifact:
    return _reentrant_token_artifact()


@pytest.fixture
def hostile(base: Chain, hostile_artifact: ContractArtifact) -> tuple[Chain, Contract, Contract]:
    """A registry whose token is the hostile one; task set, aggregator appointed, bond 1."""
    token = base.deploy_code(hostile_artifact.abi_list(), hostile_artifact.bytecode)
    registry_artifact = load_artifact("TrainingRegistry")
    registry = base.deploy_code(registry_artifact.abi_list(), registry_artifact.bytecode,
                                base.actors.admin, token.address, (1, 100, 0, 1, 0, 0, False))
    base.send(registry.functions.setTask(TASK_HASH, TASK_CID), base.actors.admin)
    base.send(registry.functions.appointAggregator(base.actors.aggregator), base.actors.admin)
    return base, token, registry


def _calldata(registry: Contract, name: str, *args: object) -> bytes:
    return bytes.fromhex(registry.encode_abi(name, args=list(args))[2:])


def test_reentering_register_from_transfer_from_is_refused(
        hostile: tuple[Chain, Contract, Contract]) -> None:
    # Prepare
    chain, token, registry = hostile
    alice = chain.actors.alice
    chain.send(token.functions.arm(registry.address, _calldata(registry, "register", 1)), alice)

    # Execute
    error = chain.revert_of(registry.functions.register(1), alice)

    # Assert
    assert error == ("ReentrancyGuardReentrantCall", ())
    assert registry.functions.participant(alice).call() == [False, False, 0]
    assert registry.functions.participant(token.address).call() == [False, False, 0]


def test_unarmed_hostile_token_lets_register_through(
        hostile: tuple[Chain, Contract, Contract]) -> None:
    # Prepare
    chain, _, registry = hostile
    alice = chain.actors.alice

    # Execute
    chain.send(registry.functions.register(1), alice)

    # Assert
    assert registry.functions.participant(alice).call() == [True, False, 1]


def test_reentering_claim_from_mint_is_refused(hostile: tuple[Chain, Contract, Contract]) -> None:
    # Prepare: a one-leaf tree (root = leaf, empty proof), no challenge window
    chain, token, registry = hostile
    alice, aggregator = chain.actors.alice, chain.actors.aggregator
    now = chain.next_timestamp
    chain.send(registry.functions.openRound(0, MODEL0_CID, MODEL0_HASH, now + 10, now + 20),
               aggregator)
    chain.travel_to_next(now + 21)
    root = reward_leaf(alice, 0, 5)
    chain.send(registry.functions.finalizeRound(0, MODEL1_CID, MODEL1_HASH, REPORT_CID,
                                                REPORT_HASH, root, 5), aggregator)
    chain.send(token.functions.arm(registry.address,
                                   _calldata(registry, "claim", 0, alice, 5, [])), alice)

    # Execute
    error = chain.revert_of(registry.functions.claim(0, alice, 5, []), alice)

    # Assert
    assert error == ("ReentrancyGuardReentrantCall", ())
    assert registry.functions.isClaimed(0, alice).call() is False


def test_reentering_challenge_from_the_bond_pull_is_refused(
        hostile: tuple[Chain, Contract, Contract]) -> None:
    # Prepare: a finalized round with a long challenge window
    chain, token, registry = hostile
    auditor, aggregator, admin = chain.actors.auditor, chain.actors.aggregator, chain.actors.admin
    chain.send(registry.functions.setParameters((1, 100, 3600, 1, 0, 0, False)), admin)
    chain.send(registry.functions.grantRole(chain.auditor_role, auditor), admin)
    now = chain.next_timestamp
    chain.send(registry.functions.openRound(0, MODEL0_CID, MODEL0_HASH, now + 10, now + 20),
               aggregator)
    chain.travel_to_next(now + 21)
    chain.send(registry.functions.finalizeRound(0, MODEL1_CID, MODEL1_HASH, REPORT_CID,
                                                REPORT_HASH, keccak(b"root"), 0), aggregator)
    chain.send(token.functions.arm(registry.address,
                                   _calldata(registry, "challenge", 0, EVIDENCE_CID)), auditor)

    # Execute
    error = chain.revert_of(registry.functions.challenge(0, EVIDENCE_CID), auditor)

    # Assert
    assert error == ("ReentrancyGuardReentrantCall", ())
    assert registry.functions.round(0).call()[0] == ROUND_STATUS["Finalized"]
