"""Typed bindings of the consortium's governance: membership token, governor and timelock.

A fedledger network is governed by OpenZeppelin's Governor over a one-member-one-vote token,
executing through a TimelockController that holds every admin role (see docs/governance.md for
why). `Governance` groups the three deployed contracts; `ConsortiumGovernor` turns the
proposal lifecycle (propose, cast_vote, queue, execute) into typed calls on `Proposal` records
(ledger.contracts.proposals) and reads state back as `ProposalStatus`. Deployment and the
hand-over of admin power live in ledger.contracts.deploy; fast-forwarding a proposal on a dev
chain in ledger.contracts.devgov.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from eth_typing import ChecksumAddress
from eth_utils.crypto import keccak
from web3.types import TxReceipt

from ledger.chain.base import ChainBackend, TxSigner
from ledger.contracts.artifacts import ContractArtifact, load_artifact
from ledger.contracts.binding import (
    UINT64_MAX,
    AccessControlBinding,
    ChainEvent,
    ContractBinding,
    InvalidArgument,
    RoleAdminChanged,
    RoleGranted,
    RoleRevoked,
    as_address,
    as_text,
    as_uint,
)
from ledger.contracts.proposals import Proposal, ProposalAction
from ledger.errors import ChainError

GOVERNOR_ARTIFACT = "ConsortiumGovernor"
TIMELOCK_ARTIFACT = "ConsortiumTimelock"
MEMBERSHIP_ARTIFACT = "ConsortiumMembership"

PROPOSER_ROLE = keccak(b"PROPOSER_ROLE")
EXECUTOR_ROLE = keccak(b"EXECUTOR_ROLE")
CANCELLER_ROLE = keccak(b"CANCELLER_ROLE")
TIMELOCK_ADMIN_ROLE = bytes(32)
UINT32_MAX = 2**32 - 1
UINT48_MAX = 2**48 - 1


class ProposalState(IntEnum):
    """OpenZeppelin `IGovernor.ProposalState`."""

    PENDING = 0
    ACTIVE = 1
    CANCELED = 2
    DEFEATED = 3
    SUCCEEDED = 4
    QUEUED = 5
    EXPIRED = 6
    EXECUTED = 7


class VoteType(IntEnum):
    """GovernorCountingSimple's `support` values."""

    AGAINST = 0
    FOR = 1
    ABSTAIN = 2


@dataclass(frozen=True)
class GovernanceParams:
    """How the consortium decides; all durations in seconds (the membership clock is timestamps).

    `consortium()` is the production default argued in docs/governance.md; `dev()` keeps the same
    rules with short waits for demos and tests, which fast-forward a dev chain anyway.
    """

    voting_delay: int
    voting_period: int
    quorum_percent: int
    timelock_delay: int

    def __post_init__(self) -> None:
        as_uint(self.voting_delay, "voting_delay", UINT48_MAX)
        as_uint(self.voting_period, "voting_period", UINT32_MAX)
        if self.voting_period < 1:
            raise InvalidArgument("voting_period must be at least 1 second")
        as_uint(self.quorum_percent, "quorum_percent", 100)
        as_uint(self.timelock_delay, "timelock_delay", UINT64_MAX)

    @classmethod
    def consortium(cls) -> GovernanceParams:
        """1 day delay, 5 days voting, half the members (rounded up), 2 days timelock."""
        return cls(voting_delay=86_400, voting_period=5 * 86_400, quorum_percent=50,
                   timelock_delay=2 * 86_400)

    @classmethod
    def dev(cls) -> GovernanceParams:
        """Same quorum rule, waits of seconds: 1 s delay, 300 s voting, 60 s timelock."""
        return cls(voting_delay=1, voting_period=300, quorum_percent=50, timelock_delay=60)


@dataclass(frozen=True)
class ProposalVotes:
    """Votes cast on a proposal (each member's weight is one)."""

    against: int
    for_: int
    abstain: int


@dataclass(frozen=True)
class ProposalStatus:
    """Where a proposal stands: state, its timepoints (timestamps) and its tally."""

    proposal_id: int
    state: ProposalState
    proposer: ChecksumAddress
    snapshot: int
    deadline: int
    eta: int
    votes: ProposalVotes
    quorum: int | None

    @property
    def quorum_reached(self) -> bool:
        """Whether For plus Abstain votes reach the quorum (as GovernorCountingSimple counts).

        False while the proposal is Pending: its quorum is fixed only at the snapshot.
        """
        return self.quorum is not None and self.votes.for_ + self.votes.abstain >= self.quorum


# -- event records ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ProposalCreated(ChainEvent):
    EVENT_NAME = "ProposalCreated"
    proposal_id: int
    proposer: ChecksumAddress
    targets: tuple[ChecksumAddress, ...]
    values: tuple[int, ...]
    signatures: tuple[str, ...]
    calldatas: tuple[bytes, ...]
    vote_start: int
    vote_end: int
    description: str

    def proposal(self) -> Proposal:
        """The proposal as `queue` and `execute` need it (summaries name the raw calls)."""
        actions = tuple(
            ProposalAction(target, data, f"call 0x{data[:4].hex()} on {target}", value)
            for target, value, data in zip(self.targets, self.values, self.calldatas, strict=True)
        )
        return Proposal(actions, self.description)


@dataclass(frozen=True)
class VoteCast(ChainEvent):
    EVENT_NAME = "VoteCast"
    voter: ChecksumAddress
    proposal_id: int
    support: int
    weight: int
    reason: str


@dataclass(frozen=True)
class ProposalQueued(ChainEvent):
    EVENT_NAME = "ProposalQueued"
    proposal_id: int
    eta_seconds: int


@dataclass(frozen=True)
class ProposalExecuted(ChainEvent):
    EVENT_NAME = "ProposalExecuted"
    proposal_id: int


@dataclass(frozen=True)
class ProposalCanceled(ChainEvent):
    EVENT_NAME = "ProposalCanceled"
    proposal_id: int


@dataclass(frozen=True)
class MemberAdded(ChainEvent):
    EVENT_NAME = "MemberAdded"
    account: ChecksumAddress


@dataclass(frozen=True)
class MemberRemoved(ChainEvent):
    EVENT_NAME = "MemberRemoved"
    account: ChecksumAddress


@dataclass(frozen=True)
class CallScheduled(ChainEvent):
    EVENT_NAME = "CallScheduled"
    id: bytes
    index: int
    target: ChecksumAddress
    value: int
    data: bytes
    predecessor: bytes
    delay: int


@dataclass(frozen=True)
class CallExecuted(ChainEvent):
    EVENT_NAME = "CallExecuted"
    id: bytes
    index: int
    target: ChecksumAddress
    value: int
    data: bytes


def _artifact(name: str, artifact: ContractArtifact | None) -> ContractArtifact:
    return artifact if artifact is not None else load_artifact(name)


class ConsortiumMembership(ContractBinding):
    """The one-member-one-vote token; `add_member`/`remove_member` need its owner (the timelock)."""

    ARTIFACT = MEMBERSHIP_ARTIFACT
    EVENTS = (MemberAdded, MemberRemoved)

    def __init__(
        self,
        backend: ChainBackend,
        address: str,
        *,
        deployment_block: int = 0,
        artifact: ContractArtifact | None = None,
    ) -> None:
        super().__init__(backend, address, artifact=_artifact(MEMBERSHIP_ARTIFACT, artifact),
                         deployment_block=deployment_block)

    def add_member(self, account: str, *, sender: TxSigner, gas: int | None = None) -> TxReceipt:
        """Mint `account` a membership (owner only: at deployment, then by proposal)."""
        return self._transact("addMember", as_address(account, "account"), sender=sender, gas=gas)

    def remove_member(
        self, account: str, *, sender: TxSigner, gas: int | None = None
    ) -> TxReceipt:
        """Burn `account`'s membership (owner only)."""
        return self._transact("removeMember", as_address(account, "account"), sender=sender,
                              gas=gas)

    def transfer_ownership(
        self, new_owner: str, *, sender: TxSigner, gas: int | None = None
    ) -> TxReceipt:
        """Hand the power to change membership to `new_owner` (the timelock)."""
        return self._transact("transferOwnership", as_address(new_owner, "new_owner"),
                              sender=sender, gas=gas)

    def owner(self) -> ChecksumAddress:
        """Who may add and remove members."""
        return as_address(self._call("owner"), "owner")

    def is_member(self, account: str) -> bool:
        """Whether `account` holds a membership now."""
        return bool(self._call("isMember", as_address(account, "account")))

    def member_count(self) -> int:
        """Current members (= total votes)."""
        return int(self._call("memberCount"))

    def votes(self, account: str) -> int:
        """`account`'s voting weight now (0 or 1)."""
        return int(self._call("getVotes", as_address(account, "account")))

    def past_votes(self, account: str, timepoint: int) -> int:
        """`account`'s voting weight at a past timestamp (what a proposal snapshot counts)."""
        return int(self._call("getPastVotes", as_address(account, "account"),
                              as_uint(timepoint, "timepoint")))

    def members(self) -> list[ChecksumAddress]:
        """Current members, from the MemberAdded/MemberRemoved history (in chain order)."""
        current: dict[ChecksumAddress, None] = {}
        history: list[ChainEvent] = [*self.events_member_added(), *self.events_member_removed()]
        for event in sorted(history, key=lambda e: (e.block_number, e.log_index)):
            if isinstance(event, MemberAdded):
                current[event.account] = None
            elif isinstance(event, MemberRemoved):
                current.pop(event.account, None)
        return list(current)

    def events_member_added(
        self, from_block: int | None = None, to_block: int | None = None
    ) -> list[MemberAdded]:
        return self._events(MemberAdded, from_block, to_block, {})

    def events_member_removed(
        self, from_block: int | None = None, to_block: int | None = None
    ) -> list[MemberRemoved]:
        return self._events(MemberRemoved, from_block, to_block, {})


class ConsortiumTimelock(AccessControlBinding):
    """The timelock that holds the network's admin roles and runs passed proposals."""

    ARTIFACT = TIMELOCK_ARTIFACT
    EVENTS = (CallScheduled, CallExecuted, RoleGranted, RoleRevoked, RoleAdminChanged)

    def __init__(
        self,
        backend: ChainBackend,
        address: str,
        *,
        deployment_block: int = 0,
        artifact: ContractArtifact | None = None,
    ) -> None:
        super().__init__(backend, address, artifact=_artifact(TIMELOCK_ARTIFACT, artifact),
                         deployment_block=deployment_block)

    def min_delay(self) -> int:
        """Seconds between queueing and executing."""
        return int(self._call("getMinDelay"))


class ConsortiumGovernor(ContractBinding):
    """The Governor: members propose, vote, queue and execute `Proposal`s."""

    ARTIFACT = GOVERNOR_ARTIFACT
    EVENTS = (ProposalCreated, VoteCast, ProposalQueued, ProposalExecuted, ProposalCanceled)

    def __init__(
        self,
        backend: ChainBackend,
        address: str,
        *,
        deployment_block: int = 0,
        artifact: ContractArtifact | None = None,
    ) -> None:
        super().__init__(backend, address, artifact=_artifact(GOVERNOR_ARTIFACT, artifact),
                         deployment_block=deployment_block)

    # -- lifecycle ----------------------------------------------------------------------------

    def propose(
        self, proposal: Proposal, *, sender: TxSigner, gas: int | None = None
    ) -> tuple[int, TxReceipt]:
        """Submit `proposal` (the sender must be a member); return its id and the receipt."""
        receipt = self._transact("propose", proposal.targets, proposal.values, proposal.calldatas,
                                 proposal.description, sender=sender, gas=gas)
        return proposal.proposal_id, receipt

    def cast_vote(
        self,
        proposal_id: int,
        support: VoteType,
        *,
        sender: TxSigner,
        reason: str = "",
        gas: int | None = None,
    ) -> TxReceipt:
        """Vote on an Active proposal; a non-empty `reason` is logged with the vote."""
        checked = as_uint(proposal_id, "proposal_id")
        choice = VoteType(support)
        if reason:
            return self._transact("castVoteWithReason", checked, int(choice),
                                  as_text(reason, "reason"), sender=sender, gas=gas)
        return self._transact("castVote", checked, int(choice), sender=sender, gas=gas)

    def queue(self, proposal: Proposal, *, sender: TxSigner, gas: int | None = None) -> TxReceipt:
        """Queue a Succeeded proposal in the timelock (anyone may)."""
        return self._transact("queue", proposal.targets, proposal.values, proposal.calldatas,
                              proposal.description_hash, sender=sender, gas=gas)

    def execute(
        self, proposal: Proposal, *, sender: TxSigner, gas: int | None = None
    ) -> TxReceipt:
        """Execute a Queued proposal once the timelock delay has passed (anyone may)."""
        return self._transact("execute", proposal.targets, proposal.values, proposal.calldatas,
                              proposal.description_hash, sender=sender, gas=gas)

    def cancel(self, proposal: Proposal, *, sender: TxSigner, gas: int | None = None) -> TxReceipt:
        """Withdraw a Pending proposal (its proposer only, before voting starts)."""
        return self._transact("cancel", proposal.targets, proposal.values, proposal.calldatas,
                              proposal.description_hash, sender=sender, gas=gas)

    # -- views --------------------------------------------------------------------------------

    def state(self, proposal_id: int) -> ProposalState:
        """The proposal's state (`GovernorNonexistentProposal` revert if unknown)."""
        return ProposalState(self._call("state", as_uint(proposal_id, "proposal_id")))

    def status(self, proposal_id: int) -> ProposalStatus:
        """State, timepoints and tally of one proposal."""
        checked = as_uint(proposal_id, "proposal_id")
        state = self.state(checked)
        snapshot = int(self._call("proposalSnapshot", checked))
        against, for_, abstain = self._call("proposalVotes", checked)
        return ProposalStatus(
            proposal_id=checked,
            state=state,
            proposer=as_address(self._call("proposalProposer", checked), "proposer"),
            snapshot=snapshot,
            deadline=int(self._call("proposalDeadline", checked)),
            eta=int(self._call("proposalEta", checked)),
            votes=ProposalVotes(int(against), int(for_), int(abstain)),
            quorum=int(self._call("quorum", snapshot)) if snapshot < self.clock() else None,
        )

    def has_voted(self, proposal_id: int, account: str) -> bool:
        """Whether `account` voted on the proposal."""
        return bool(self._call("hasVoted", as_uint(proposal_id, "proposal_id"),
                               as_address(account, "account")))

    def voting_delay(self) -> int:
        return int(self._call("votingDelay"))

    def voting_period(self) -> int:
        return int(self._call("votingPeriod"))

    def quorum_numerator(self) -> int:
        """The quorum percentage (of members, rounded up)."""
        # quorumNumerator is overloaded (a past timepoint variant): pick the current one.
        function = self._contract.get_function_by_signature("quorumNumerator()")()
        return int(self._backend.call(function))

    def clock(self) -> int:
        """The governance clock (the latest block's timestamp)."""
        return int(self._call("clock"))

    def timelock_address(self) -> ChecksumAddress:
        return as_address(self._call("timelock"), "timelock")

    def membership_address(self) -> ChecksumAddress:
        return as_address(self._call("token"), "token")

    def proposal_of(self, proposal_id: int) -> ProposalCreated:
        """The ProposalCreated record of `proposal_id` (its actions and description)."""
        found = self._events(ProposalCreated, None, None,
                             {"proposalId": as_uint(proposal_id, "proposal_id")})
        if not found:
            raise ChainError(
                f"no proposal {proposal_id} on governor {self.address}: check the id "
                "(`fedledger gov status` lists proposals)"
            )
        return found[0]

    # -- events -------------------------------------------------------------------------------

    def events_proposal_created(
        self, from_block: int | None = None, to_block: int | None = None
    ) -> list[ProposalCreated]:
        return self._events(ProposalCreated, from_block, to_block, {})

    def events_vote_cast(
        self,
        from_block: int | None = None,
        to_block: int | None = None,
        *,
        voter: str | None = None,
    ) -> list[VoteCast]:
        return self._events(VoteCast, from_block, to_block, {"voter": voter})

    def events_proposal_queued(
        self, from_block: int | None = None, to_block: int | None = None
    ) -> list[ProposalQueued]:
        return self._events(ProposalQueued, from_block, to_block, {})

    def events_proposal_executed(
        self, from_block: int | None = None, to_block: int | None = None
    ) -> list[ProposalExecuted]:
        return self._events(ProposalExecuted, from_block, to_block, {})


@dataclass(frozen=True)
class Governance:
    """The three governance contracts of one network."""

    governor: ConsortiumGovernor
    timelock: ConsortiumTimelock
    membership: ConsortiumMembership

    @property
    def backend(self) -> ChainBackend:
        return self.governor.backend

    @classmethod
    def attach(
        cls, backend: ChainBackend, governor: str, *, deployment_block: int = 0
    ) -> Governance:
        """Bindings for the governor at `governor` and the timelock and membership it names."""
        bound = ConsortiumGovernor(backend, governor, deployment_block=deployment_block)
        timelock = ConsortiumTimelock(backend, bound.timelock_address(),
                                      deployment_block=deployment_block)
        membership = ConsortiumMembership(backend, bound.membership_address(),
                                          deployment_block=deployment_block)
        return cls(bound, timelock, membership)


__all__ = [
    "CANCELLER_ROLE",
    "EXECUTOR_ROLE",
    "PROPOSER_ROLE",
    "TIMELOCK_ADMIN_ROLE",
    "CallExecuted",
    "CallScheduled",
    "ConsortiumGovernor",
    "ConsortiumMembership",
    "ConsortiumTimelock",
    "Governance",
    "GovernanceParams",
    "MemberAdded",
    "MemberRemoved",
    "ProposalCanceled",
    "ProposalCreated",
    "ProposalExecuted",
    "ProposalQueued",
    "ProposalState",
    "ProposalStatus",
    "ProposalVotes",
    "VoteCast",
    "VoteType",
]
