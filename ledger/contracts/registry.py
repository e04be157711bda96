"""Typed binding of the TrainingRegistry contract: rounds, membership, rewards, challenges.

Admin methods (`set_task`, `admit_participant`, `slash`, `resolve_challenge`, ...) need the sender
to hold DEFAULT_ADMIN_ROLE, which on a deployed network only the consortium's timelock does: build
them as proposal actions with `ledger.contracts.governance.RegistryActions` instead.

One method per contract function (snake_case, checked arguments), one frozen record per event,
`events_<name>(...)` readers that filter on the event's indexed arguments, and `commitment(...)`,
the exact preimage hash the contract checks at reveal. Status and parameters come back as typed
records (`RoundInfo`, `RegistryParams`, `ParticipantInfo`, `TaskInfo`), never tuples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from eth_abi.abi import encode as abi_encode
from eth_typing import ChecksumAddress
from eth_utils.crypto import keccak
from web3.types import TxReceipt

from ledger.chain.base import ChainBackend, TxSigner
from ledger.contracts.artifacts import ContractArtifact, load_artifact
from ledger.contracts.binding import (
    UINT64_MAX,
    AccessControlBinding,
    ChainEvent,
    InvalidArgument,
    RoleAdminChanged,
    RoleGranted,
    RoleRevoked,
    as_address,
    as_bytes32,
    as_text,
    as_uint,
)

ARTIFACT_NAME = "TrainingRegistry"
DEFAULT_ADMIN_ROLE = bytes(32)
AGGREGATOR_ROLE = keccak(b"AGGREGATOR_ROLE")
AUDITOR_ROLE = keccak(b"AUDITOR_ROLE")
UINT96_MAX = 2**96 - 1
UINT128_MAX = 2**128 - 1


class RoundStatus(IntEnum):
    """Lifecycle of a round, as the contract's `RoundStatus` enum."""

    NONE = 0
    OPEN = 1
    FINALIZED = 2
    CHALLENGED = 3


@dataclass(frozen=True)
class RegistryParams:
    """Governance-set economics (`Params`): token base units and seconds.

    `aggregator_bond` is the least bond the aggregator must hold to open and finalize rounds (and
    what an upheld challenge slashes); `missed_reveal_penalty` is what anyone may have slashed
    from a participant that committed without revealing; `admission_required` limits
    `register` to accounts governance admitted.
    """

    min_stake: int
    reward_per_round: int
    challenge_window: int
    challenge_bond: int
    aggregator_bond: int = 0
    missed_reveal_penalty: int = 0
    admission_required: bool = False

    def __post_init__(self) -> None:
        as_uint(self.min_stake, "min_stake", UINT128_MAX)
        as_uint(self.reward_per_round, "reward_per_round", UINT96_MAX)
        as_uint(self.challenge_window, "challenge_window", UINT64_MAX)
        as_uint(self.challenge_bond, "challenge_bond", UINT96_MAX)
        as_uint(self.aggregator_bond, "aggregator_bond", UINT96_MAX)
        as_uint(self.missed_reveal_penalty, "missed_reveal_penalty", UINT96_MAX)
        if not isinstance(self.admission_required, bool):
            raise InvalidArgument(
                f"admission_required must be a bool, got {self.admission_required!r}"
            )

    def as_abi(self) -> tuple[int, int, int, int, int, int, bool]:
        """The struct as the ABI orders it."""
        return (
            self.min_stake,
            self.reward_per_round,
            self.challenge_window,
            self.challenge_bond,
            self.aggregator_bond,
            self.missed_reveal_penalty,
            self.admission_required,
        )


@dataclass(frozen=True)
class RoundInfo:
    """Everything the registry stores about one round (`round(uint64)`)."""

    round: int
    status: RoundStatus
    model_cid: str
    model_hash: bytes
    task_hash: bytes
    commit_deadline: int
    reveal_deadline: int
    commit_count: int
    reveal_count: int
    new_model_hash: bytes
    report_hash: bytes
    rewards_root: bytes
    total_reward: int
    claimed_reward: int
    claimable_at: int
    challenger: ChecksumAddress
    challenge_bond: int
    aggregator: ChecksumAddress


@dataclass(frozen=True)
class ReaderKey:
    """A reader (aggregator or auditor) and the 64-byte secp256k1 public key it registered."""

    account: ChecksumAddress
    public_key: bytes


@dataclass(frozen=True)
class ParticipantInfo:
    """Membership of one account (`participant(address)`)."""

    account: ChecksumAddress
    registered: bool
    removed: bool
    stake: int

    @property
    def active(self) -> bool:
        """Registered and not removed: may commit, reveal and challenge."""
        return self.registered and not self.removed


@dataclass(frozen=True)
class TaskInfo:
    """The task spec in force for rounds opened from now on (`task()`)."""

    task_hash: bytes
    task_cid: str


# -- event records ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ParticipantRegistered(ChainEvent):
    EVENT_NAME = "ParticipantRegistered"
    account: ChecksumAddress
    stake: int


@dataclass(frozen=True)
class ParticipantRemoved(ChainEvent):
    EVENT_NAME = "ParticipantRemoved"
    account: ChecksumAddress


@dataclass(frozen=True)
class ParticipantAdmitted(ChainEvent):
    EVENT_NAME = "ParticipantAdmitted"
    account: ChecksumAddress


@dataclass(frozen=True)
class UnrevealedCommitSlashed(ChainEvent):
    EVENT_NAME = "UnrevealedCommitSlashed"
    round: int
    account: ChecksumAddress
    amount: int


@dataclass(frozen=True)
class ChallengeBondForfeited(ChainEvent):
    EVENT_NAME = "ChallengeBondForfeited"
    round: int
    challenger: ChecksumAddress
    bond: int


@dataclass(frozen=True)
class AggregatorBondSlashed(ChainEvent):
    EVENT_NAME = "AggregatorBondSlashed"
    aggregator: ChecksumAddress
    round: int
    amount: int
    to_challenger: int
    remaining: int


@dataclass(frozen=True)
class RoundReopened(ChainEvent):
    EVENT_NAME = "RoundReopened"
    round: int


@dataclass(frozen=True)
class AggregatorBondPosted(ChainEvent):
    EVENT_NAME = "AggregatorBondPosted"
    account: ChecksumAddress
    amount: int
    total: int


@dataclass(frozen=True)
class AggregatorBondWithdrawn(ChainEvent):
    EVENT_NAME = "AggregatorBondWithdrawn"
    account: ChecksumAddress
    amount: int
    total: int


@dataclass(frozen=True)
class ReaderKeyRegistered(ChainEvent):
    EVENT_NAME = "ReaderKeyRegistered"
    account: ChecksumAddress
    public_key: bytes


@dataclass(frozen=True)
class ReaderKeyRemoved(ChainEvent):
    EVENT_NAME = "ReaderKeyRemoved"
    account: ChecksumAddress


@dataclass(frozen=True)
class ParticipantSlashed(ChainEvent):
    EVENT_NAME = "ParticipantSlashed"
    account: ChecksumAddress
    amount: int
    remaining_stake: int


@dataclass(frozen=True)
class TaskSet(ChainEvent):
    EVENT_NAME = "TaskSet"
    task_hash: bytes
    task_cid: str


@dataclass(frozen=True)
class ParametersSet(ChainEvent):
    EVENT_NAME = "ParametersSet"
    min_stake: int
    reward_per_round: int
    challenge_window: int
    challenge_bond: int
    aggregator_bond: int
    missed_reveal_penalty: int
    admission_required: bool


@dataclass(frozen=True)
class AggregatorAppointed(ChainEvent):
    EVENT_NAME = "AggregatorAppointed"
    previous: ChecksumAddress
    current: ChecksumAddress


@dataclass(frozen=True)
class RoundOpened(ChainEvent):
    EVENT_NAME = "RoundOpened"
    round: int
    model_cid: str
    model_hash: bytes
    task_hash: bytes
    commit_deadline: int
    reveal_deadline: int


@dataclass(frozen=True)
class UpdateCommitted(ChainEvent):
    EVENT_NAME = "UpdateCommitted"
    round: int
    participant: ChecksumAddress
    commitment: bytes


@dataclass(frozen=True)
class UpdateRevealed(ChainEvent):
    EVENT_NAME = "UpdateRevealed"
    round: int
    participant: ChecksumAddress
    update_cid: str
    update_hash: bytes
    proof_cid: str
    proof_hash: bytes
    num_samples: int


@dataclass(frozen=True)
class RoundFinalized(ChainEvent):
    EVENT_NAME = "RoundFinalized"
    round: int
    new_model_cid: str
    new_model_hash: bytes
    report_cid: str
    report_hash: bytes
    rewards_root: bytes
    total_reward: int
    claimable_at: int


@dataclass(frozen=True)
class RewardClaimed(ChainEvent):
    EVENT_NAME = "RewardClaimed"
    round: int
    account: ChecksumAddress
    amount: int


@dataclass(frozen=True)
class RoundChallenged(ChainEvent):
    EVENT_NAME = "RoundChallenged"
    round: int
    challenger: ChecksumAddress
    evidence_cid: str
    bond: int


@dataclass(frozen=True)
class ChallengeResolved(ChainEvent):
    EVENT_NAME = "ChallengeResolved"
    round: int
    upheld: bool


@dataclass(frozen=True)
class TreasuryWithdrawn(ChainEvent):
    EVENT_NAME = "TreasuryWithdrawn"
    to: ChecksumAddress
    amount: int


REGISTRY_EVENTS: tuple[type[ChainEvent], ...] = (
    ParticipantRegistered,
    ParticipantRemoved,
    ParticipantSlashed,
    TaskSet,
    ParametersSet,
    AggregatorAppointed,
    RoundOpened,
    UpdateCommitted,
    UpdateRevealed,
    RoundFinalized,
    RewardClaimed,
    RoundChallenged,
    ChallengeResolved,
    TreasuryWithdrawn,
    ParticipantAdmitted,
    UnrevealedCommitSlashed,
    ChallengeBondForfeited,
    AggregatorBondSlashed,
    RoundReopened,
    AggregatorBondPosted,
    AggregatorBondWithdrawn,
    ReaderKeyRegistered,
    ReaderKeyRemoved,
    RoleGranted,
    RoleRevoked,
    RoleAdminChanged,
)


def commitment(
    round: int, participant: str, update_hash: bytes, proof_hash: bytes, salt: bytes
) -> bytes:
    """keccak256(abi.encode(round, participant, updateHash, proofHash, salt)), as `reveal` checks."""
    return keccak(
        abi_encode(
            ["uint64", "address", "bytes32", "bytes32", "bytes32"],
            [
                as_uint(round, "round", UINT64_MAX),
                as_address(participant, "participant"),
                as_bytes32(update_hash, "update_hash"),
                as_bytes32(proof_hash, "proof_hash"),
                as_bytes32(salt, "salt"),
            ],
        )
    )


def _round(value: int) -> int:
    return as_uint(value, "round", UINT64_MAX)


def reader_public_key(public_key: bytes) -> bytes:
    """The 64-byte (x || y) form the registry stores, from 64 bytes or 65 with the 0x04 prefix."""
    if not isinstance(public_key, (bytes, bytearray)):
        raise InvalidArgument(f"public_key must be bytes, got {type(public_key).__name__}")
    raw = bytes(public_key)
    if len(raw) == 65 and raw[0] == 4:
        raw = raw[1:]
    if len(raw) != 64:
        raise InvalidArgument(
            f"public_key must be an uncompressed secp256k1 point (64 bytes, or 65 starting "
            f"with 0x04), got {len(public_key)} bytes"
        )
    return raw


def reader_address(public_key: bytes) -> ChecksumAddress:
    """The Ethereum address a reader key belongs to (what the registry checks against the caller)."""
    return as_address("0x" + keccak(reader_public_key(public_key))[-20:].hex(), "derived address")


class TrainingRegistry(AccessControlBinding):
    """The TrainingRegistry at `address`; every mutating method takes the signing `sender`."""

    ARTIFACT = ARTIFACT_NAME
    EVENTS = REGISTRY_EVENTS

    def __init__(
        self,
        backend: ChainBackend,
        address: str,
        *,
        deployment_block: int = 0,
        artifact: ContractArtifact | None = None,
    ) -> None:
        super().__init__(
            backend,
            address,
            artifact=artifact if artifact is not None else load_artifact(ARTIFACT_NAME),
            deployment_block=deployment_block,
        )

    # -- governance (DEFAULT_ADMIN_ROLE) -----------------------------------------------------

    def set_task(
        self, task_hash: bytes, task_cid: str, *, sender: TxSigner, gas: int | None = None
    ) -> TxReceipt:
        """Publish the task spec for rounds opened from now on."""
        return self._transact(
            "setTask",
            as_bytes32(task_hash, "task_hash"),
            as_text(task_cid, "task_cid"),
            sender=sender,
            gas=gas,
        )

    def set_parameters(
        self, params: RegistryParams, *, sender: TxSigner, gas: int | None = None
    ) -> TxReceipt:
        """Replace the network's economics."""
        return self._transact("setParameters", params.as_abi(), sender=sender, gas=gas)

    def appoint_aggregator(
        self, account: str, *, sender: TxSigner, gas: int | None = None
    ) -> TxReceipt:
        """Make `account` the one aggregator, revoking the previous one."""
        return self._transact(
            "appointAggregator", as_address(account, "account"), sender=sender, gas=gas
        )

    def remove_participant(
        self, account: str, *, sender: TxSigner, gas: int | None = None
    ) -> TxReceipt:
        """Bar `account` from committing, revealing and challenging."""
        return self._transact(
            "removeParticipant", as_address(account, "account"), sender=sender, gas=gas
        )

    def admit_participant(
        self, account: str, *, sender: TxSigner, gas: int | None = None
    ) -> TxReceipt:
        """Admit `account` (needed to register when admission is required; lifts a removal)."""
        return self._transact(
            "admitParticipant", as_address(account, "account"), sender=sender, gas=gas
        )

    def slash(
        self, account: str, amount: int, *, sender: TxSigner, gas: int | None = None
    ) -> TxReceipt:
        """Move `amount` of `account`'s stake to the treasury."""
        return self._transact(
            "slash",
            as_address(account, "account"),
            as_uint(amount, "amount"),
            sender=sender,
            gas=gas,
        )

    def resolve_challenge(
        self, round: int, upheld: bool, *, sender: TxSigner, gas: int | None = None
    ) -> TxReceipt:
        """Decide the pending challenge of `round` (upheld slashes the aggregator, reopens it)."""
        return self._transact(
            "resolveChallenge", _round(round), bool(upheld), sender=sender, gas=gas
        )

    def withdraw_treasury(
        self, to: str, amount: int, *, sender: TxSigner, gas: int | None = None
    ) -> TxReceipt:
        """Pay `amount` of forfeited bonds and slashed stakes to `to`."""
        return self._transact(
            "withdrawTreasury",
            as_address(to, "to"),
            as_uint(amount, "amount"),
            sender=sender,
            gas=gas,
        )

    # -- participants -----------------------------------------------------------------------

    def register(self, stake: int, *, sender: TxSigner, gas: int | None = None) -> TxReceipt:
        """Join with `stake` tokens (approve them to the registry first)."""
        return self._transact("register", as_uint(stake, "stake"), sender=sender, gas=gas)

    def commit(
        self, round: int, commitment: bytes, *, sender: TxSigner, gas: int | None = None
    ) -> TxReceipt:
        """Bind the sender to an update for `round` (see `commitment(...)`)."""
        return self._transact(
            "commit", _round(round), as_bytes32(commitment, "commitment"), sender=sender, gas=gas
        )

    def reveal(
        self,
        round: int,
        update_cid: str,
        update_hash: bytes,
        proof_cid: str,
        proof_hash: bytes,
        num_samples: int,
        salt: bytes,
        *,
        sender: TxSigner,
        gas: int | None = None,
    ) -> TxReceipt:
        """Open the sender's commitment for `round`, publishing the update and proof CIDs."""
        return self._transact(
            "reveal",
            _round(round),
            as_text(update_cid, "update_cid"),
            as_bytes32(update_hash, "update_hash"),
            as_text(proof_cid, "proof_cid"),
            as_bytes32(proof_hash, "proof_hash"),
            as_uint(num_samples, "num_samples", UINT64_MAX),
            as_bytes32(salt, "salt"),
            sender=sender,
            gas=gas,
        )

    def claim(
        self,
        round: int,
        account: str,
        amount: int,
        proof: Sequence[bytes],
        *,
        sender: TxSigner,
        gas: int | None = None,
    ) -> TxReceipt:
        """Mint `account`'s reward for `round` against the round's rewards root."""
        return self._transact(
            "claim",
            _round(round),
            as_address(account, "account"),
            as_uint(amount, "amount"),
            [as_bytes32(node, "proof node") for node in proof],
            sender=sender,
            gas=gas,
        )

    def slash_unrevealed(
        self, round: int, account: str, *, sender: TxSigner, gas: int | None = None
    ) -> TxReceipt:
        """Slash `account`'s missed-reveal penalty for `round` (anyone, after the reveal deadline)."""
        return self._transact(
            "slashUnrevealed",
            _round(round),
            as_address(account, "account"),
            sender=sender,
            gas=gas,
        )

    def register_reader_key(
        self, public_key: bytes, *, sender: TxSigner, gas: int | None = None
    ) -> TxReceipt:
        """Publish the sender's secp256k1 public key as a reader (aggregator or auditor only).

        Accepts the 64-byte uncompressed point or its 65-byte form with the 0x04 prefix.
        """
        return self._transact(
            "registerReaderKey", reader_public_key(public_key), sender=sender, gas=gas
        )

    def post_aggregator_bond(
        self, amount: int, *, sender: TxSigner, gas: int | None = None
    ) -> TxReceipt:
        """Deposit `amount` as the sender's aggregator bond (approve it to the registry first)."""
        return self._transact(
            "postAggregatorBond", as_uint(amount, "amount"), sender=sender, gas=gas
        )

    def withdraw_aggregator_bond(
        self, amount: int, *, sender: TxSigner, gas: int | None = None
    ) -> TxReceipt:
        """Withdraw `amount` of the sender's bond (not while appointed, nor before its lock ends)."""
        return self._transact(
            "withdrawAggregatorBond", as_uint(amount, "amount"), sender=sender, gas=gas
        )

    def challenge(
        self, round: int, evidence_cid: str, *, sender: TxSigner, gas: int | None = None
    ) -> TxReceipt:
        """Dispute the result of `round`, depositing the challenge bond (approve it first)."""
        return self._transact(
            "challenge",
            _round(round),
            as_text(evidence_cid, "evidence_cid"),
            sender=sender,
            gas=gas,
        )

    # -- aggregator (AGGREGATOR_ROLE) ---------------------------------------------------------

    def open_round(
        self,
        round: int,
        model_cid: str,
        model_hash: bytes,
        commit_deadline: int,
        reveal_deadline: int,
        *,
        sender: TxSigner,
        gas: int | None = None,
    ) -> TxReceipt:
        """Open `round` from the model at `model_cid` under the current task."""
        return self._transact(
            "openRound",
            _round(round),
            as_text(model_cid, "model_cid"),
            as_bytes32(model_hash, "model_hash"),
            as_uint(commit_deadline, "commit_deadline", UINT64_MAX),
            as_uint(reveal_deadline, "reveal_deadline", UINT64_MAX),
            sender=sender,
            gas=gas,
        )

    def finalize_round(
        self,
        round: int,
        new_model_cid: str,
        new_model_hash: bytes,
        report_cid: str,
        report_hash: bytes,
        rewards_root: bytes,
        total_reward: int,
        *,
        sender: TxSigner,
        gas: int | None = None,
    ) -> TxReceipt:
        """Publish the result of `round`: new model, report and rewards root."""
        return self._transact(
            "finalizeRound",
            _round(round),
            as_text(new_model_cid, "new_model_cid"),
            as_bytes32(new_model_hash, "new_model_hash"),
            as_text(report_cid, "report_cid"),
            as_bytes32(report_hash, "report_hash"),
            as_bytes32(rewards_root, "rewards_root"),
            as_uint(total_reward, "total_reward"),
            sender=sender,
            gas=gas,
        )

    # -- views --------------------------------------------------------------------------------

    def round_info(self, round: int) -> RoundInfo:
        """The stored record of `round` (status NONE if never opened)."""
        raw = self._call("round", _round(round))
        return RoundInfo(
            round=round,
            status=RoundStatus(raw[0]),
            model_cid=raw[1],
            model_hash=bytes(raw[2]),
            task_hash=bytes(raw[3]),
            commit_deadline=raw[4],
            reveal_deadline=raw[5],
            commit_count=raw[6],
            reveal_count=raw[7],
            new_model_hash=bytes(raw[8]),
            report_hash=bytes(raw[9]),
            rewards_root=bytes(raw[10]),
            total_reward=raw[11],
            claimed_reward=raw[12],
            claimable_at=raw[13],
            challenger=raw[14],
            challenge_bond=raw[15],
            aggregator=raw[16],
        )

    def next_round(self) -> int:
        """The number the next `open_round` must use."""
        return int(self._call("nextRound"))

    def commitment_of(self, round: int, account: str) -> bytes:
        """`account`'s commitment in `round` (zero bytes if none, or for older rounds)."""
        return bytes(self._call("commitmentOf", _round(round), as_address(account, "account")))

    def has_revealed(self, round: int, account: str) -> bool:
        """Whether `account` revealed in `round` (its latest committed round only)."""
        return bool(self._call("hasRevealed", _round(round), as_address(account, "account")))

    def is_claimed(self, round: int, account: str) -> bool:
        """Whether `account`'s reward for `round` was claimed."""
        return bool(self._call("isClaimed", _round(round), as_address(account, "account")))

    def participant(self, account: str) -> ParticipantInfo:
        """Membership of `account`."""
        checked = as_address(account, "account")
        registered, removed, stake = self._call("participant", checked)
        return ParticipantInfo(checked, bool(registered), bool(removed), int(stake))

    def task(self) -> TaskInfo:
        """The task spec in force (zero hash and empty CID before `set_task`)."""
        task_hash, task_cid = self._call("task")
        return TaskInfo(bytes(task_hash), str(task_cid))

    def parameters(self) -> RegistryParams:
        """The current economics."""
        return RegistryParams(*self._call("parameters"))

    def token_address(self) -> ChecksumAddress:
        """The reward and staking token."""
        return as_address(self._call("token"), "token")

    def aggregator(self) -> ChecksumAddress:
        """The current aggregator (the zero address if none)."""
        return as_address(self._call("aggregator"), "aggregator")

    def treasury(self) -> int:
        """Forfeited bonds and slashed stakes held and not yet withdrawn."""
        return int(self._call("treasury"))

    def is_admitted(self, account: str) -> bool:
        """Whether governance admitted `account` (and did not remove it since)."""
        return bool(self._call("isAdmitted", as_address(account, "account")))

    def aggregator_bond_of(self, account: str) -> int:
        """The aggregator bond `account` holds (base units)."""
        return int(self._call("aggregatorBondOf", as_address(account, "account")))

    def reader_key_of(self, account: str) -> bytes:
        """The 64-byte reader key `account` registered (empty bytes if none)."""
        return bytes(self._call("readerKeyOf", as_address(account, "account")))

    def reader_keys(self) -> list[ReaderKey]:
        """Every current reader with a registered key: whom participants encrypt updates to."""
        accounts, keys = self._call("readerKeys")
        return [
            ReaderKey(as_address(a, "reader"), bytes(k)) for a, k in zip(accounts, keys, strict=True)
        ]

    # -- events -------------------------------------------------------------------------------

    def events_participant_registered(
        self,
        from_block: int | None = None,
        to_block: int | None = None,
        *,
        account: str | None = None,
    ) -> list[ParticipantRegistered]:
        return self._events(ParticipantRegistered, from_block, to_block, {"account": account})

    def events_participant_removed(
        self,
        from_block: int | None = None,
        to_block: int | None = None,
        *,
        account: str | None = None,
    ) -> list[ParticipantRemoved]:
        return self._events(ParticipantRemoved, from_block, to_block, {"account": account})

    def events_participant_slashed(
        self,
        from_block: int | None = None,
        to_block: int | None = None,
        *,
        account: str | None = None,
    ) -> list[ParticipantSlashed]:
        return self._events(ParticipantSlashed, from_block, to_block, {"account": account})

    def events_task_set(
        self,
        from_block: int | None = None,
        to_block: int | None = None,
        *,
        task_hash: bytes | None = None,
    ) -> list[TaskSet]:
        return self._events(TaskSet, from_block, to_block, {"taskHash": task_hash})

    def events_parameters_set(
        self, from_block: int | None = None, to_block: int | None = None
    ) -> list[ParametersSet]:
        return self._events(ParametersSet, from_block, to_block, {})

    def events_aggregator_appointed(
        self,
        from_block: int | None = None,
        to_block: int | None = None,
        *,
        previous: str | None = None,
        current: str | None = None,
    ) -> list[AggregatorAppointed]:
        return self._events(
            AggregatorAppointed, from_block, to_block, {"previous": previous, "current": current}
        )

    def events_round_opened(
        self,
        from_block: int | None = None,
        to_block: int | None = None,
        *,
        round: int | None = None,
    ) -> list[RoundOpened]:
        return self._events(RoundOpened, from_block, to_block, {"round": round})

    def events_update_committed(
        self,
        from_block: int | None = None,
        to_block: int | None = None,
        *,
        round: int | None = None,
        participant: str | None = None,
    ) -> list[UpdateCommitted]:
        return self._events(
            UpdateCommitted, from_block, to_block, {"round": round, "participant": participant}
        )

    def events_update_revealed(
        self,
        from_block: int | None = None,
        to_block: int | None = None,
        *,
        round: int | None = None,
        participant: str | None = None,
    ) -> list[UpdateRevealed]:
        return self._events(
            UpdateRevealed, from_block, to_block, {"round": round, "participant": participant}
        )

    def events_round_finalized(
        self,
        from_block: int | None = None,
        to_block: int | None = None,
        *,
        round: int | None = None,
    ) -> list[RoundFinalized]:
        return self._events(RoundFinalized, from_block, to_block, {"round": round})

    def events_reward_claimed(
        self,
        from_block: int | None = None,
        to_block: int | None = None,
        *,
        round: int | None = None,
        account: str | None = None,
    ) -> list[RewardClaimed]:
        return self._events(
            RewardClaimed, from_block, to_block, {"round": round, "account": account}
        )

    def events_round_challenged(
        self,
        from_block: int | None = None,
        to_block: int | None = None,
        *,
        round: int | None = None,
        challenger: str | None = None,
    ) -> list[RoundChallenged]:
        return self._events(
            RoundChallenged, from_block, to_block, {"round": round, "challenger": challenger}
        )

    def events_challenge_resolved(
        self,
        from_block: int | None = None,
        to_block: int | None = None,
        *,
        round: int | None = None,
    ) -> list[ChallengeResolved]:
        return self._events(ChallengeResolved, from_block, to_block, {"round": round})

    def events_treasury_withdrawn(
        self, from_block: int | None = None, to_block: int | None = None, *, to: str | None = None
    ) -> list[TreasuryWithdrawn]:
        return self._events(TreasuryWithdrawn, from_block, to_block, {"to": to})

    def events_participant_admitted(
        self,
        from_block: int | None = None,
        to_block: int | None = None,
        *,
        account: str | None = None,
    ) -> list[ParticipantAdmitted]:
        return self._events(ParticipantAdmitted, from_block, to_block, {"account": account})

    def events_unrevealed_commit_slashed(
        self,
        from_block: int | None = None,
        to_block: int | None = None,
        *,
        round: int | None = None,
        account: str | None = None,
    ) -> list[UnrevealedCommitSlashed]:
        return self._events(
            UnrevealedCommitSlashed, from_block, to_block, {"round": round, "account": account}
        )

    def events_challenge_bond_forfeited(
        self,
        from_block: int | None = None,
        to_block: int | None = None,
        *,
        round: int | None = None,
    ) -> list[ChallengeBondForfeited]:
        return self._events(ChallengeBondForfeited, from_block, to_block, {"round": round})

    def events_aggregator_bond_slashed(
        self,
        from_block: int | None = None,
        to_block: int | None = None,
        *,
        round: int | None = None,
        aggregator: str | None = None,
    ) -> list[AggregatorBondSlashed]:
        return self._events(
            AggregatorBondSlashed, from_block, to_block, {"round": round, "aggregator": aggregator}
        )

    def events_round_reopened(
        self,
        from_block: int | None = None,
        to_block: int | None = None,
        *,
        round: int | None = None,
    ) -> list[RoundReopened]:
        return self._events(RoundReopened, from_block, to_block, {"round": round})

    def events_aggregator_bond_posted(
        self,
        from_block: int | None = None,
        to_block: int | None = None,
        *,
        account: str | None = None,
    ) -> list[AggregatorBondPosted]:
        return self._events(AggregatorBondPosted, from_block, to_block, {"account": account})

    def events_aggregator_bond_withdrawn(
        self,
        from_block: int | None = None,
        to_block: int | None = None,
        *,
        account: str | None = None,
    ) -> list[AggregatorBondWithdrawn]:
        return self._events(AggregatorBondWithdrawn, from_block, to_block, {"account": account})

    def events_reader_key_registered(
        self,
        from_block: int | None = None,
        to_block: int | None = None,
        *,
        account: str | None = None,
    ) -> list[ReaderKeyRegistered]:
        return self._events(ReaderKeyRegistered, from_block, to_block, {"account": account})

    def events_reader_key_removed(
        self,
        from_block: int | None = None,
        to_block: int | None = None,
        *,
        account: str | None = None,
    ) -> list[ReaderKeyRemoved]:
        return self._events(ReaderKeyRemoved, from_block, to_block, {"account": account})
