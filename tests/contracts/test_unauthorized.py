"""Every mutating function of every contract, called by someone without the right to call it.

The list of functions comes from the compiled ABIs, not from this file: a new state-changing
function makes `test_every_mutating_function_is_classified` fail until it gets a row here,
either in `RESTRICTED` (who may not call it and the exact custom error they get) or in
`PERMISSIONLESS` (why anyone may call it, and what limits it).

Each restricted function is called, against the pending block, by every account of the
scenario that lacks the right (an outsider, a registered participant, the aggregator, the
admin where the right is not the admin's), in the stage where only the caller's rights can
refuse it; the revert must be the access error naming that caller.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from eth_utils.crypto import keccak
from web3.contract import Contract

from ledger.contracts import load_artifact
from ledger.contracts.deploy import DevNetwork
from ledger.errors import ContractRevert
from tests.contracts.scenario import TOKEN, Chain

DEFAULT_ADMIN_ROLE = b"\x00" * 32
ADDRESS = "0x00000000000000000000000000000000000000AA"

Args = Callable[[Chain, str], Sequence[Any]]
Error = Callable[[Chain, str], tuple[str, tuple[Any, ...]]]


def signature(entry: Mapping[str, Any]) -> str:
    """`name(type,...)` of an ABI function entry (tuples as `tuple`, as web3 prints them)."""
    return f"{entry['name']}({','.join(i['type'] for i in entry['inputs'])})"


def mutating(contract: str) -> set[str]:
    """Signatures of the state-changing functions in `contract`'s committed ABI."""
    return {signature(e) for e in load_artifact(contract).abi_list()
            if e["type"] == "function" and e["stateMutability"] in ("nonpayable", "payable")}


def default_value(param: Mapping[str, Any]) -> Any:
    """A well-formed, non-zero argument of the ABI type, so only access control can refuse."""
    kind = param["type"]
    if kind.endswith("[]"):
        return []
    if kind == "tuple":
        return tuple(default_value(c) for c in param["components"])
    if kind == "address":
        return ADDRESS
    if kind == "bool":
        return True
    if kind == "string":
        return "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"
    if kind == "bytes":
        return b"\x01"
    if kind.startswith("bytes"):
        return keccak(b"argument")[: int(kind[5:])]
    if kind.startswith(("uint", "int")):
        return 1
    raise AssertionError(f"no default for ABI type {kind}")


@dataclass(frozen=True)
class Restricted:
    """A function only some accounts may call: who is refused, and with which error."""

    stage: str
    callers: tuple[str, ...]
    error: Error
    args: Args | None = None


def missing_role(role: str) -> Error:
    """OpenZeppelin AccessControl's refusal for a caller lacking `role` (an attribute name)."""
    def error(chain: Chain, caller: str) -> tuple[str, tuple[Any, ...]]:
        value = DEFAULT_ADMIN_ROLE if role == "admin" else getattr(chain, role)
        return "AccessControlUnauthorizedAccount", (caller, value)
    return error


def fixed(name: str, *args: Any) -> Error:
    return lambda chain, caller: (name, (caller, *args))


NOT_ADMIN = ("outsider", "alice", "aggregator", "auditor")
NOT_AGGREGATOR = ("outsider", "alice", "admin", "auditor")

REGISTRY_ADMIN = Restricted("members", NOT_ADMIN, missing_role("admin"))

RESTRICTED: dict[str, dict[str, Restricted]] = {
    "TrainingRegistry": {
        "setTask(bytes32,string)": REGISTRY_ADMIN,
        "admitParticipant(address)": REGISTRY_ADMIN,
        "registerReaderKey(bytes)": Restricted(
            "members", ("outsider", "alice", "admin"), fixed("RegistryNotReader")),
        "setParameters(tuple)": REGISTRY_ADMIN,
        "appointAggregator(address)": REGISTRY_ADMIN,
        "removeParticipant(address)": REGISTRY_ADMIN,
        "slash(address,uint256)": REGISTRY_ADMIN,
        "resolveChallenge(uint64,bool)": REGISTRY_ADMIN,
        "withdrawTreasury(address,uint256)": REGISTRY_ADMIN,
        "grantRole(bytes32,address)": REGISTRY_ADMIN,
        "revokeRole(bytes32,address)": REGISTRY_ADMIN,
        "renounceRole(bytes32,address)": Restricted(
            "members", NOT_ADMIN, lambda chain, caller: ("AccessControlBadConfirmation", ()),
            args=lambda chain, caller: (DEFAULT_ADMIN_ROLE, chain.actors.admin)),
        "openRound(uint64,string,bytes32,uint64,uint64)": Restricted(
            "members", NOT_AGGREGATOR, missing_role("aggregator_role"),
            args=lambda chain, caller: (0, "bafkreimodel", keccak(b"m"), chain.commit_deadline,
                                        chain.reveal_deadline)),
        "finalizeRound(uint64,string,bytes32,string,bytes32,bytes32,uint256)": Restricted(
            "revealed", NOT_AGGREGATOR, missing_role("aggregator_role")),
        "commit(uint64,bytes32)": Restricted(
            "open", ("outsider", "admin", "aggregator", "auditor", "dave"),
            fixed("RegistryNotParticipant"), args=lambda chain, caller: (0, keccak(b"c"))),
        "reveal(uint64,string,bytes32,string,bytes32,uint64,bytes32)": Restricted(
            "committed", ("outsider", "admin", "aggregator", "dave"),
            fixed("RegistryNotParticipant")),
        "challenge(uint64,string)": Restricted(
            "finalized", ("outsider", "admin", "aggregator", "dave"),
            fixed("RegistryUnauthorizedChallenger"), args=lambda chain, caller: (0, "bafkreiev")),
    },
    "RewardToken": {
        "mint(address,uint256)": Restricted(
            "base", ("outsider", "alice", "aggregator"), missing_role("minter_role")),
        "grantRole(bytes32,address)": Restricted(
            "base", ("outsider", "alice", "aggregator"), missing_role("admin")),
        "revokeRole(bytes32,address)": Restricted(
            "base", ("outsider", "alice", "aggregator"), missing_role("admin")),
        "renounceRole(bytes32,address)": Restricted(
            "base", ("outsider", "alice"),
            lambda chain, caller: ("AccessControlBadConfirmation", ()),
            args=lambda chain, caller: (DEFAULT_ADMIN_ROLE, chain.actors.admin)),
        "transferFrom(address,address,uint256)": Restricted(
            "members", ("outsider", "bob", "aggregator"),
            lambda chain, caller: ("ERC20InsufficientAllowance", (caller, 0, TOKEN)),
            args=lambda chain, caller: (chain.actors.dave, caller, TOKEN)),
        "permit(address,address,uint256,uint256,uint8,bytes32,bytes32)": Restricted(
            "members", ("outsider", "alice"),
            lambda chain, caller: ("ECDSAInvalidSignature", ()),
            args=lambda chain, caller: (chain.actors.dave, caller, TOKEN, 2**64, 27, bytes(32),
                                        bytes(32))),
    },
}

#: Functions anyone may call, and why that is safe (the limits are tested elsewhere).
PERMISSIONLESS: dict[str, dict[str, str]] = {
    "TrainingRegistry": {
        "register(uint256)": "joining costs the minimum stake, moved in by transferFrom; "
                             "governance removes and slashes (test_registry_membership.py)",
        "claim(uint64,address,uint256,bytes32[])": "pays only the leaf's own account, once, "
                                                   "against the round's Merkle root "
                                                   "(test_registry_claims.py)",
        "postAggregatorBond(uint256)": "moves the caller's own tokens into the caller's own "
                                       "bond (test_registry_slashing.py)",
        "withdrawAggregatorBond(uint256)": "returns only the caller's own bond, never the "
                                           "appointed aggregator's, nor a locked one",
        "slashUnrevealed(uint64,address)": "slashes only a commit never revealed, after the "
                                           "reveal deadline, once, capped by the task's penalty",
    },
    "RewardToken": {
        "transfer(address,uint256)": "moves only the caller's own balance (ERC-20)",
        "approve(address,uint256)": "sets only the caller's own allowance (ERC-20)",
    },
}

CONTRACT_OF: dict[str, Callable[[Chain], Contract]] = {
    "TrainingRegistry": lambda chain: chain.registry,
    "RewardToken": lambda chain: chain.token,
}

ROWS = [(contract, fn, caller) for contract, table in RESTRICTED.items()
        for fn, row in table.items() for caller in row.callers]


@pytest.mark.parametrize("contract", sorted(CONTRACT_OF))
def test_every_mutating_function_is_classified(contract: str) -> None:
    # Prepare
    functions = mutating(contract)

    # Execute
    restricted, open_ = set(RESTRICTED[contract]), set(PERMISSIONLESS[contract])

    # Assert: every function has exactly one row, and no row names a function that is gone
    assert restricted & open_ == set()
    assert sorted(functions - restricted - open_) == [], "unclassified mutating functions"
    assert sorted((restricted | open_) - functions) == [], "rows for functions not in the ABI"


@pytest.mark.parametrize(("contract", "fn", "caller"), ROWS,
                         ids=[f"{c}.{f.split('(')[0]}-by-{who}" for c, f, who in ROWS])
def test_unauthorized_call_reverts_with_the_access_error(deployed: Chain, contract: str,
                                                         fn: str, caller: str) -> None:
    # Prepare
    row = RESTRICTED[contract][fn]
    chain = deployed.at(row.stage)
    target = CONTRACT_OF[contract](chain)
    account = getattr(chain.actors, caller)
    entry = next(e for e in target.abi if e["type"] == "function" and signature(e) == fn)
    args = (row.args(chain, account) if row.args is not None
            else [default_value(p) for p in entry["inputs"]])
    call = target.get_function_by_signature(fn.replace("tuple", _tuple_type(entry)))(*args)

    # Execute
    refused = chain.revert_of(call, account)

    # Assert
    assert refused == row.error(chain, account)


def _tuple_type(entry: Mapping[str, Any]) -> str:
    """web3 names a struct argument by its component types: `(uint128,uint96,...)`."""
    tuples = [i for i in entry["inputs"] if i["type"] == "tuple"]
    if not tuples:
        return "tuple"
    return "(" + ",".join(c["type"] for c in tuples[0]["components"]) + ")"


# -- the consortium's governance contracts (deployed by `network`, tests/conftest.py) ----------

#: Who may call each mutating governance function: "executor" = only through a passed proposal
#: (the timelock executing it), "owner" = the timelock as Ownable owner, a role name = that
#: AccessControl role of the timelock. Every other account is refused with `GOVERNANCE_ERRORS`.
GOVERNANCE_RESTRICTED: dict[str, dict[str, str]] = {
    "ConsortiumGovernor": {
        "relay(address,uint256,bytes)": "executor",
        "setProposalThreshold(uint256)": "executor",
        "setVotingDelay(uint48)": "executor",
        "setVotingPeriod(uint32)": "executor",
        "updateQuorumNumerator(uint256)": "executor",
        "updateTimelock(address)": "executor",
    },
    "ConsortiumMembership": {
        "addMember(address)": "owner",
        "removeMember(address)": "owner",
        "transferOwnership(address)": "owner",
        "renounceOwnership()": "owner",
    },
    "ConsortiumTimelock": {
        "schedule(address,uint256,bytes,bytes32,bytes32,uint256)": "PROPOSER_ROLE",
        "scheduleBatch(address[],uint256[],bytes[],bytes32,bytes32,uint256)": "PROPOSER_ROLE",
        "cancel(bytes32)": "CANCELLER_ROLE",
        "grantRole(bytes32,address)": "DEFAULT_ADMIN_ROLE",
        "revokeRole(bytes32,address)": "DEFAULT_ADMIN_ROLE",
        "updateDelay(uint256)": "self",
    },
}

GOVERNANCE_PERMISSIONLESS: dict[str, dict[str, str]] = {
    "ConsortiumGovernor": {
        "propose(address[],uint256[],bytes[],string)": "needs the proposal threshold of votes: "
        "a non-member gets GovernorInsufficientProposerVotes (tests/ledger/contracts/"
        "test_governance.py::test_a_non_member_can_neither_propose_nor_vote)",
        "castVote(uint256,uint8)": "counts only members at the proposal's snapshot; others get "
        "ConsortiumNotMember (same test)",
        "castVoteWithReason(uint256,uint8,string)": "as castVote",
        "castVoteWithReasonAndParams(uint256,uint8,string,bytes)": "as castVote",
        "castVoteBySig(uint256,uint8,address,bytes)": "as castVote, for the signer",
        "castVoteWithReasonAndParamsBySig(uint256,uint8,address,string,bytes,bytes)":
            "as castVote, for the signer",
        "queue(address[],uint256[],bytes[],bytes32)": "only a proposal that succeeded",
        "execute(address[],uint256[],bytes[],bytes32)": "only a queued proposal past its delay",
        "cancel(address[],uint256[],bytes[],bytes32)": "only the proposer, while pending",
        "onERC721Received(address,address,uint256,bytes)": "token receipt hook, no state",
        "onERC1155Received(address,address,uint256,uint256,bytes)": "token receipt hook",
        "onERC1155BatchReceived(address,address,uint256[],uint256[],bytes)": "token receipt "
                                                                               "hook",
    },
    "ConsortiumMembership": {
        "approve(address,uint256)": "membership tokens cannot move (MembershipNonTransferable)",
        "setApprovalForAll(address,bool)": "approvals are useless: tokens cannot move",
        "transferFrom(address,address,uint256)": "reverts MembershipNonTransferable",
        "safeTransferFrom(address,address,uint256)": "reverts MembershipNonTransferable",
        "safeTransferFrom(address,address,uint256,bytes)": "reverts MembershipNonTransferable",
        "delegate(address)": "self-delegation only (MembershipDelegationDisabled otherwise)",
        "delegateBySig(address,uint256,uint256,uint8,bytes32,bytes32)": "as delegate",
    },
    "ConsortiumTimelock": {
        "execute(address,uint256,bytes,bytes32,bytes32)": "EXECUTOR_ROLE is open (granted to "
        "the zero address): anyone may run an operation the governor scheduled, once it is "
        "ready; anything else is TimelockUnexpectedOperationState",
        "executeBatch(address[],uint256[],bytes[],bytes32,bytes32)": "as execute",
        "renounceRole(bytes32,address)": "only for the caller itself "
                                         "(AccessControlBadConfirmation otherwise)",
        "onERC721Received(address,address,uint256,bytes)": "token receipt hook, no state",
        "onERC1155Received(address,address,uint256,uint256,bytes)": "token receipt hook",
        "onERC1155BatchReceived(address,address,uint256[],uint256[],bytes)": "token receipt "
                                                                               "hook",
    },
}

GOVERNANCE_ROWS = [(contract, fn) for contract, table in GOVERNANCE_RESTRICTED.items()
                   for fn in table]


@pytest.mark.parametrize("contract", sorted(GOVERNANCE_RESTRICTED))
def test_every_mutating_governance_function_is_classified(contract: str) -> None:
    # Prepare
    functions = mutating(contract)

    # Execute
    restricted = set(GOVERNANCE_RESTRICTED[contract])
    open_ = set(GOVERNANCE_PERMISSIONLESS[contract])

    # Assert
    assert restricted & open_ == set()
    assert sorted(functions - restricted - open_) == [], "unclassified mutating functions"
    assert sorted((restricted | open_) - functions) == [], "rows for functions not in the ABI"


@pytest.mark.parametrize("chain_kind", ["embedded"], indirect=True)
@pytest.mark.parametrize(("contract", "fn"), GOVERNANCE_ROWS,
                         ids=[f"{c}.{f.split('(')[0]}" for c, f in GOVERNANCE_ROWS])
def test_unauthorized_governance_call_reverts_with_the_access_error(
    network: DevNetwork, chain_kind: str, contract: str, fn: str
) -> None:
    # Prepare: the deployer (a member, but not the timelock) and an outsider try
    governance = network.governance
    target = {"ConsortiumGovernor": governance.governor, "ConsortiumTimelock":
              governance.timelock, "ConsortiumMembership": governance.membership}[contract]
    entry = next(e for e in target.contract.abi
                 if e["type"] == "function" and signature(e) == fn)
    call = target.contract.get_function_by_signature(fn)(
        *[default_value(p) for p in entry["inputs"]])
    who = GOVERNANCE_RESTRICTED[contract][fn]

    for caller in (network.admin, network.outsider, network.participants[0]):
        # Execute
        with pytest.raises(ContractRevert) as refused:
            network.network.backend.call(call, caller)

        # Assert
        expected: tuple[str, tuple[Any, ...]] = {
            "executor": ("GovernorOnlyExecutor", (caller.address,)),
            "owner": ("OwnableUnauthorizedAccount", (caller.address,)),
            "self": ("TimelockUnauthorizedCaller", (caller.address,)),
        }.get(who, ("AccessControlUnauthorizedAccount",
                    (caller.address, DEFAULT_ADMIN_ROLE if who == "DEFAULT_ADMIN_ROLE"
                     else keccak(who.encode()))))
        assert (refused.value.error_name, refused.value.error_args) == expected
