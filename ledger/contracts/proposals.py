"""What a governance proposal carries: contract calls, encoded, with a line a voter can read.

The consortium changes the network only through proposals the ConsortiumGovernor passes and the
ConsortiumTimelock executes, so every admin operation (admit a participant, appoint the
aggregator, resolve a challenge, slash, ...) is built here as a `ProposalAction` instead of being
sent directly. A `Proposal` is the exact (targets, values, calldatas, description) tuple the
Governor hashes into a proposal id; `proposal_id` computes that id locally, so a CLI can show it
before anything is sent and find it again later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_typing import ChecksumAddress
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3.exceptions import MismatchedABI, Web3ValidationError

from ledger.contracts.binding import (
    UINT64_MAX,
    ContractBinding,
    InvalidArgument,
    as_address,
    as_bytes32,
    as_text,
    as_uint,
)
from ledger.contracts.registry import RegistryParams, TrainingRegistry

__all__ = [
    "MembershipActions",
    "Proposal",
    "ProposalAction",
    "RegistryActions",
    "TokenActions",
    "encode_call",
    "proposal_id",
]


@dataclass(frozen=True)
class ProposalAction:
    """One call the timelock will make: `target.call{value}(calldata)`, and what it means."""

    target: ChecksumAddress
    calldata: bytes
    summary: str
    value: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "target", as_address(self.target, "action target"))
        if not isinstance(self.calldata, bytes) or len(self.calldata) < 4:
            raise InvalidArgument("an action's calldata must be bytes holding at least a selector")
        as_uint(self.value, "action value")
        as_text(self.summary, "action summary")


@dataclass(frozen=True)
class Proposal:
    """Actions run atomically, in order, if the proposal passes; `description` names it.

    The Governor identifies a proposal by the hash of all four parts, so the same actions
    proposed twice need different descriptions.
    """

    actions: tuple[ProposalAction, ...]
    description: str

    def __post_init__(self) -> None:
        if not self.actions:
            raise InvalidArgument("a proposal needs at least one action")
        if not isinstance(self.description, str) or not self.description.strip():
            raise InvalidArgument("a proposal needs a non-empty description")
        object.__setattr__(self, "actions", tuple(self.actions))

    @property
    def targets(self) -> list[ChecksumAddress]:
        return [a.target for a in self.actions]

    @property
    def values(self) -> list[int]:
        return [a.value for a in self.actions]

    @property
    def calldatas(self) -> list[bytes]:
        return [a.calldata for a in self.actions]

    @property
    def description_hash(self) -> bytes:
        """keccak256 of the description's UTF-8 bytes, as `queue`/`execute` take it."""
        return keccak(self.description.encode("utf-8"))

    @property
    def proposal_id(self) -> int:
        """The Governor's id of this proposal (`hashProposal`)."""
        return proposal_id(self.targets, self.values, self.calldatas, self.description_hash)


def proposal_id(
    targets: Sequence[str], values: Sequence[int], calldatas: Sequence[bytes], description_hash: bytes
) -> int:
    """uint256(keccak256(abi.encode(targets, values, calldatas, descriptionHash))), as OZ Governor."""
    encoded = abi_encode(
        ["address[]", "uint256[]", "bytes[]", "bytes32"],
        [list(targets), list(values), list(calldatas), as_bytes32(description_hash, "description_hash")],
    )
    return int.from_bytes(keccak(encoded), "big")


def encode_call(binding: ContractBinding, name: str, *args: Any) -> bytes:
    """ABI-encoded calldata of `binding.name(*args)`; a mismatch is an `InvalidArgument`."""
    try:
        data = binding.contract.encode_abi(name, args=list(args))
    except (MismatchedABI, Web3ValidationError, TypeError, ValueError) as exc:
        raise InvalidArgument(f"{binding.ARTIFACT}.{name}{args!r} does not fit the ABI: {exc}") from exc
    return bytes(HexBytes(data))


def _action(binding: ContractBinding, summary: str, name: str, *args: Any) -> ProposalAction:
    return ProposalAction(binding.address, encode_call(binding, name, *args), summary)


class RegistryActions:
    """Proposal actions on a TrainingRegistry (every DEFAULT_ADMIN_ROLE function)."""

    def __init__(self, registry: TrainingRegistry) -> None:
        self._registry = registry

    def set_task(self, task_hash: bytes, task_cid: str) -> ProposalAction:
        digest = as_bytes32(task_hash, "task_hash")
        return _action(self._registry, f"set the task to {task_cid} (0x{digest.hex()})", "setTask",
                       digest, as_text(task_cid, "task_cid"))

    def set_parameters(self, params: RegistryParams) -> ProposalAction:
        return _action(self._registry, f"set registry parameters {params}", "setParameters",
                       params.as_abi())

    def appoint_aggregator(self, account: str) -> ProposalAction:
        checked = as_address(account, "account")
        return _action(self._registry, f"appoint {checked} as aggregator", "appointAggregator",
                       checked)

    def admit_participant(self, account: str) -> ProposalAction:
        checked = as_address(account, "account")
        return _action(self._registry, f"admit participant {checked}", "admitParticipant", checked)

    def remove_participant(self, account: str) -> ProposalAction:
        checked = as_address(account, "account")
        return _action(self._registry, f"remove participant {checked}", "removeParticipant",
                       checked)

    def slash(self, account: str, amount: int) -> ProposalAction:
        checked = as_address(account, "account")
        return _action(self._registry, f"slash {amount} base units of {checked}'s stake", "slash",
                       checked, as_uint(amount, "amount"))

    def resolve_challenge(self, round: int, upheld: bool) -> ProposalAction:
        verdict = "uphold" if upheld else "reject"
        return _action(self._registry, f"{verdict} the challenge of round {round}",
                       "resolveChallenge", as_uint(round, "round", UINT64_MAX), bool(upheld))

    def withdraw_treasury(self, to: str, amount: int) -> ProposalAction:
        checked = as_address(to, "to")
        return _action(self._registry, f"pay {amount} base units of treasury to {checked}",
                       "withdrawTreasury", checked, as_uint(amount, "amount"))

    def grant_role(self, role: bytes, account: str, role_name: str = "role") -> ProposalAction:
        checked = as_address(account, "account")
        return _action(self._registry, f"grant {role_name} to {checked}", "grantRole",
                       as_bytes32(role, "role"), checked)

    def revoke_role(self, role: bytes, account: str, role_name: str = "role") -> ProposalAction:
        checked = as_address(account, "account")
        return _action(self._registry, f"revoke {role_name} from {checked}", "revokeRole",
                       as_bytes32(role, "role"), checked)


class TokenActions:
    """Proposal actions on the RewardToken (its AccessControl roles)."""

    def __init__(self, token: ContractBinding) -> None:
        self._token = token

    def grant_role(self, role: bytes, account: str, role_name: str = "role") -> ProposalAction:
        checked = as_address(account, "account")
        return _action(self._token, f"grant token {role_name} to {checked}", "grantRole",
                       as_bytes32(role, "role"), checked)

    def revoke_role(self, role: bytes, account: str, role_name: str = "role") -> ProposalAction:
        checked = as_address(account, "account")
        return _action(self._token, f"revoke token {role_name} from {checked}", "revokeRole",
                       as_bytes32(role, "role"), checked)


class MembershipActions:
    """Proposal actions on the ConsortiumMembership token (who votes)."""

    def __init__(self, membership: ContractBinding) -> None:
        self._membership = membership

    def add_member(self, account: str) -> ProposalAction:
        checked = as_address(account, "account")
        return _action(self._membership, f"add consortium member {checked}", "addMember", checked)

    def remove_member(self, account: str) -> ProposalAction:
        checked = as_address(account, "account")
        return _action(self._membership, f"remove consortium member {checked}", "removeMember",
                       checked)

