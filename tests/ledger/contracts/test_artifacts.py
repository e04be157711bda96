"""ledger.contracts.artifacts: loading the committed artifacts, their canonical JSON, refusals of
malformed files, and the exact ABI other parts of fedledger are written against."""

from __future__ import annotations

import json
from typing import Any

import pytest
from web3 import Web3

from ledger.contracts import ArtifactNotFound, ContractArtifact, artifact_names, load_artifact
from ledger.contracts.artifacts import artifact_from_json, artifact_to_json
from ledger.errors import ConfigError, FormatError

REGISTRY_FUNCTIONS = {
    "AGGREGATOR_ROLE()", "AUDITOR_ROLE()", "DEFAULT_ADMIN_ROLE()", "aggregator()",
    "admitParticipant(address)", "aggregatorBondOf(address)", "isAdmitted(address)",
    "postAggregatorBond(uint256)", "readerKeyOf(address)", "readerKeys()",
    "registerReaderKey(bytes)", "slashUnrevealed(uint64,address)",
    "withdrawAggregatorBond(uint256)",
    "appointAggregator(address)", "challenge(uint64,string)",
    "claim(uint64,address,uint256,bytes32[])", "commit(uint64,bytes32)",
    "commitmentOf(uint64,address)",
    "finalizeRound(uint64,string,bytes32,string,bytes32,bytes32,uint256)",
    "getRoleAdmin(bytes32)", "grantRole(bytes32,address)", "hasRevealed(uint64,address)",
    "hasRole(bytes32,address)", "isClaimed(uint64,address)", "nextRound()",
    "openRound(uint64,string,bytes32,uint64,uint64)", "parameters()", "participant(address)",
    "register(uint256)", "removeParticipant(address)", "renounceRole(bytes32,address)",
    "resolveChallenge(uint64,bool)",
    "reveal(uint64,string,bytes32,string,bytes32,uint64,bytes32)",
    "revokeRole(bytes32,address)", "round(uint64)",
    "setParameters((uint128,uint96,uint64,uint96,uint96,uint96,bool))", "setTask(bytes32,string)",
    "slash(address,uint256)", "supportsInterface(bytes4)", "task()", "token()", "treasury()",
    "withdrawTreasury(address,uint256)",
}

REGISTRY_EVENTS = {
    "AggregatorAppointed(address indexed,address indexed)",
    "AggregatorBondPosted(address indexed,uint256,uint256)",
    "AggregatorBondSlashed(address indexed,uint64 indexed,uint256,uint256,uint256)",
    "AggregatorBondWithdrawn(address indexed,uint256,uint256)",
    "ChallengeBondForfeited(uint64 indexed,address indexed,uint256)",
    "ChallengeResolved(uint64 indexed,bool)",
    "ParametersSet(uint128,uint96,uint64,uint96,uint96,uint96,bool)",
    "ParticipantAdmitted(address indexed)",
    "ReaderKeyRegistered(address indexed,bytes)",
    "ReaderKeyRemoved(address indexed)",
    "RoundReopened(uint64 indexed)",
    "UnrevealedCommitSlashed(uint64 indexed,address indexed,uint256)",
    "ParticipantRegistered(address indexed,uint256)",
    "ParticipantRemoved(address indexed)",
    "ParticipantSlashed(address indexed,uint256,uint256)",
    "RewardClaimed(uint64 indexed,address indexed,uint256)",
    "RoleAdminChanged(bytes32 indexed,bytes32 indexed,bytes32 indexed)",
    "RoleGranted(bytes32 indexed,address indexed,address indexed)",
    "RoleRevoked(bytes32 indexed,address indexed,address indexed)",
    "RoundChallenged(uint64 indexed,address indexed,string,uint256)",
    "RoundFinalized(uint64 indexed,string,bytes32,string,bytes32,bytes32,uint256,uint64)",
    "RoundOpened(uint64 indexed,string,bytes32,bytes32,uint64,uint64)",
    "TaskSet(bytes32 indexed,string)",
    "TreasuryWithdrawn(address indexed,uint256)",
    "UpdateCommitted(uint64 indexed,address indexed,bytes32)",
    "UpdateRevealed(uint64 indexed,address indexed,string,bytes32,string,bytes32,uint64)",
}

ROUND_INFO_FIELDS = [
    ("status", "uint8"), ("modelCID", "string"), ("modelHash", "bytes32"),
    ("taskHash", "bytes32"), ("commitDeadline", "uint64"), ("revealDeadline", "uint64"),
    ("commitCount", "uint32"), ("revealCount", "uint32"), ("newModelHash", "bytes32"),
    ("reportHash", "bytes32"), ("rewardsRoot", "bytes32"), ("totalReward", "uint256"),
    ("claimedReward", "uint256"), ("claimableAt", "uint64"), ("challenger", "address"),
    ("challengeBond", "uint256"), ("aggregator", "address"),
]


def _type(entry: dict[str, Any]) -> str:
    if entry["type"].startswith("tuple"):
        return "(" + ",".join(_type(c) for c in entry["components"]) + ")" + str(entry["type"][5:])
    return str(entry["type"])


def _signatures(artifact: ContractArtifact, kind: str) -> set[str]:
    result = set()
    for entry in artifact.abi_list():
        if entry["type"] == kind:
            inputs = ",".join(_type(i) + (" indexed" if i.get("indexed") else "")
                              for i in entry["inputs"])
            result.add(f"{entry['name']}({inputs})")
    return result


def test_both_contracts_ship_as_artifacts() -> None:
    # Execute
    names = artifact_names()

    # Assert
    assert names == (
        "ConsortiumGovernor",
        "ConsortiumMembership",
        "ConsortiumTimelock",
        "RewardToken",
        "TrainingRegistry",
    )


@pytest.mark.parametrize("name", ["RewardToken", "TrainingRegistry", "ConsortiumGovernor",
                                  "ConsortiumMembership", "ConsortiumTimelock"])
def test_loaded_artifact_carries_code_compiler_and_settings(name: str) -> None:
    # Execute
    artifact = load_artifact(name)

    # Assert
    assert artifact.name == name
    assert artifact.source_name == f"contracts/{name}.sol"
    assert artifact.bytecode.startswith("0x") and len(artifact.bytecode) > 1000
    assert artifact.deployed_bytecode.startswith("0x")
    assert artifact.deployed_bytecode[2:] in artifact.bytecode
    assert artifact.compiler.startswith("0.8.30+commit.")
    assert artifact.settings["evmVersion"] == "prague"
    assert dict(artifact.settings["optimizer"]) == {"enabled": True, "runs": 200}
    assert dict(artifact.settings["metadata"]) == {"bytecodeHash": "none"}
    assert f"contracts/{name}.sol" in artifact.sources
    assert all(v.startswith("0x") and len(v) == 66 for v in artifact.sources.values())


def test_registry_abi_is_the_agreed_interface() -> None:
    # Prepare
    artifact = load_artifact("TrainingRegistry")

    # Execute
    functions = _signatures(artifact, "function")
    events = _signatures(artifact, "event")
    round_info = artifact.abi_entry("function", "round")["outputs"][0]["components"]

    # Assert
    assert functions == REGISTRY_FUNCTIONS
    assert events == REGISTRY_EVENTS
    assert [(c["name"], c["type"]) for c in round_info] == ROUND_INFO_FIELDS
    assert {e["name"] for e in artifact.abi if e["type"] == "error"} >= {
        "RegistryNotParticipant", "RegistryCommitmentMismatch", "RegistryInvalidProof",
        "AccessControlUnauthorizedAccount", "ReentrancyGuardReentrantCall",
        "SafeERC20FailedOperation"}
    assert not any(e["type"] == "error" and e["name"].startswith("Registry") and
                   not e["name"][8:9].isupper() for e in artifact.abi)


def test_token_abi_has_mint_permit_and_roles() -> None:
    # Prepare
    artifact = load_artifact("RewardToken")

    # Execute
    functions = _signatures(artifact, "function")

    # Assert
    assert {"mint(address,uint256)", "MINTER_ROLE()",
            "permit(address,address,uint256,uint256,uint8,bytes32,bytes32)",
            "transferFrom(address,address,uint256)", "nonces(address)"} <= functions
    assert "Transfer(address indexed,address indexed,uint256)" in _signatures(artifact, "event")


def test_abi_list_is_a_plain_copy_web3_accepts() -> None:
    # Prepare
    artifact = load_artifact("TrainingRegistry")

    # Execute
    abi = artifact.abi_list()
    abi[0]["type"] = "changed"
    contract = Web3().eth.contract(abi=artifact.abi_list())

    # Assert
    assert isinstance(abi, list) and isinstance(abi[0], dict)
    assert artifact.abi_list()[0]["type"] == "constructor"
    assert contract.get_function_by_name("commit").abi["inputs"][1]["type"] == "bytes32"


def test_artifact_is_read_only() -> None:
    # Prepare
    artifact = load_artifact("RewardToken")

    # Execute / Assert
    with pytest.raises(TypeError):
        artifact.settings["evmVersion"] = "osaka"  # type: ignore[index]
    with pytest.raises(AttributeError):
        artifact.name = "Other"  # type: ignore[misc]


def test_canonical_json_round_trips_exactly() -> None:
    # Prepare
    artifact = load_artifact("TrainingRegistry")

    # Execute
    text = artifact_to_json(artifact)
    again = artifact_from_json(text)

    # Assert
    assert again == artifact
    assert artifact_to_json(again) == text
    assert text.endswith("}\n")
    assert json.loads(text)["compiler"] == {"name": "solc", "version": artifact.compiler}


def test_abi_entry_names_a_missing_entry() -> None:
    # Prepare
    artifact = load_artifact("RewardToken")

    # Execute / Assert
    with pytest.raises(KeyError, match="RewardToken has no event named 'Nope'"):
        artifact.abi_entry("event", "Nope")


@pytest.mark.parametrize("name", ["Missing", "../RewardToken", "", "Reward Token"])
def test_unknown_artifact_is_a_config_error_listing_known_ones(name: str) -> None:
    # Execute
    with pytest.raises(ArtifactNotFound) as caught:
        load_artifact(name)

    # Assert
    assert isinstance(caught.value, ConfigError)
    assert "ConsortiumTimelock, RewardToken, TrainingRegistry" in str(caught.value)


def _valid_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(artifact_to_json(load_artifact("RewardToken")))
    return document


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: "not json", "artifact t.json is not valid JSON"),
        (lambda d: "[1, 2]", "artifact t.json must be a JSON object, got list"),
        (lambda d: {k: v for k, v in d.items() if k not in ("abi", "bytecode")},
         "artifact t.json lacks abi, bytecode: regenerate it"),
        (lambda d: {**d, "contractName": ""}, "contractName must be a non-empty string"),
        (lambda d: {**d, "abi": {"type": "function"}}, "abi must be a list of objects"),
        (lambda d: {**d, "abi": [{"name": "x"}]}, "abi must be a list of objects"),
        (lambda d: {**d, "bytecode": "6080"}, "bytecode must be a non-empty 0x-prefixed hex"),
        (lambda d: {**d, "bytecode": "0x"}, "bytecode must be a non-empty 0x-prefixed hex"),
        (lambda d: {**d, "deployedBytecode": "0xzz"}, "deployedBytecode is not valid hex"),
        (lambda d: {**d, "compiler": {"name": "solc"}}, "compiler.version must be a string"),
        (lambda d: {**d, "settings": []}, "settings must be an object"),
        (lambda d: {**d, "sources": {"a.sol": "0x12"}}, "sources must map paths"),
    ],
)
def test_malformed_artifact_is_a_format_error_naming_the_field(mutate: Any, message: str) -> None:
    # Prepare
    mutated = mutate(_valid_document())
    text = mutated if isinstance(mutated, str) else json.dumps(mutated)

    # Execute
    with pytest.raises(FormatError) as caught:
        artifact_from_json(text, origin="t.json")

    # Assert
    assert message in str(caught.value)
