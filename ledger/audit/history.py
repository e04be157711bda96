"""Replaying a network's history from its contracts' events, once.

The auditor reads every registry event (and the token's mints) from the deployment block
to one head block, in one scan per event type, and groups them by round. Everything else
it checks is derived from this replay plus content fetched by CID, so an audit states the
block it covers (`head_block`) and reads nothing newer.

Two things are not in the events but in the transactions and blocks behind them: the salt
of each reveal (calldata of the `reveal` call, needed to recompute the commitment) and the
time of each reveal (its block's timestamp, checked against the round's window).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3.exceptions import TransactionNotFound

from ledger.chain.base import ChainBackend
from ledger.contracts.deploy import Network
from ledger.contracts.registry import (
    ChallengeResolved,
    RewardClaimed,
    RoundChallenged,
    RoundFinalized,
    RoundOpened,
    TaskSet,
    UpdateCommitted,
    UpdateRevealed,
)
from ledger.contracts.token import Transfer
from ledger.errors import ChainError

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


@dataclass(frozen=True)
class RevealCalldata:
    """What the `reveal` transaction itself says (None `salt`: not a direct registry call)."""

    salt: bytes | None
    sender: str
    timestamp: int
    why_unreadable: str = ""


@dataclass
class RoundEvents:
    """Every event of one round, in chain order."""

    round: int
    opened: list[RoundOpened] = field(default_factory=list)
    commits: list[UpdateCommitted] = field(default_factory=list)
    reveals: list[UpdateRevealed] = field(default_factory=list)
    finalized: list[RoundFinalized] = field(default_factory=list)
    claims: list[RewardClaimed] = field(default_factory=list)
    challenges: list[RoundChallenged] = field(default_factory=list)
    resolutions: list[ChallengeResolved] = field(default_factory=list)

    def commitment_of(self, participant: str) -> bytes | None:
        """The participant's commitment in this round (the contract allows one)."""
        found = [c.commitment for c in self.commits if c.participant == participant]
        return found[-1] if found else None


@dataclass(frozen=True)
class NetworkHistory:
    """The replayed events of one network up to `head_block`."""

    head_block: int
    tasks: dict[bytes, str]
    rounds: dict[int, RoundEvents]
    mints_by_tx: dict[bytes, list[Transfer]]

    def of(self, round_: int) -> RoundEvents:
        """The events of `round_` (empty lists when nothing happened in it)."""
        return self.rounds.get(round_, RoundEvents(round_))


def replay(network: Network, head_block: int | None = None) -> NetworkHistory:
    """Read the registry's round events and the token's mints up to `head_block`."""
    registry, token = network.registry, network.token
    head = network.backend.block_number() if head_block is None else head_block
    rounds: dict[int, RoundEvents] = {}

    def at(r: int) -> RoundEvents:
        return rounds.setdefault(r, RoundEvents(r))

    for opened in registry.events_round_opened(to_block=head):
        at(opened.round).opened.append(opened)
    for committed in registry.events_update_committed(to_block=head):
        at(committed.round).commits.append(committed)
    for revealed in registry.events_update_revealed(to_block=head):
        at(revealed.round).reveals.append(revealed)
    for finalized in registry.events_round_finalized(to_block=head):
        at(finalized.round).finalized.append(finalized)
    for claimed in registry.events_reward_claimed(to_block=head):
        at(claimed.round).claims.append(claimed)
    for challenged in registry.events_round_challenged(to_block=head):
        at(challenged.round).challenges.append(challenged)
    for resolved in registry.events_challenge_resolved(to_block=head):
        at(resolved.round).resolutions.append(resolved)
    tasks: dict[bytes, str] = {}
    for task in registry.events_task_set(to_block=head):
        assert isinstance(task, TaskSet)
        tasks[task.task_hash] = task.task_cid
    mints: dict[bytes, list[Transfer]] = defaultdict(list)
    for transfer in token.events_transfer(to_block=head, from_=ZERO_ADDRESS):
        mints[transfer.tx_hash].append(transfer)
    return NetworkHistory(head, tasks, rounds, dict(mints))


class CalldataReader:
    """Reads reveal calldata and block times, caching block timestamps."""

    def __init__(self, network: Network) -> None:
        self._registry = network.registry
        self._backend: ChainBackend = network.backend
        self._times: dict[int, int] = {}

    def block_time(self, number: int) -> int:
        """Timestamp of block `number`."""
        if number not in self._times:
            self._times[number] = int(self._backend.w3.eth.get_block(number)["timestamp"])
        return self._times[number]

    def reveal(self, event: UpdateRevealed) -> RevealCalldata:
        """The salt and sender of the transaction that logged `event`."""
        when = self.block_time(event.block_number)
        try:
            tx = self._backend.w3.eth.get_transaction(HexBytes(event.tx_hash))
        except TransactionNotFound as exc:
            raise ChainError(f"the node has no reveal transaction 0x{event.tx_hash.hex()} "
                             "although it logged its event: use an archive node") from exc
        sender = to_checksum_address(tx["from"])
        to = tx.get("to")
        if to is None or to_checksum_address(to) != self._registry.address:
            return RevealCalldata(None, sender, when, "the reveal was sent through another "
                                  "contract, so its salt is not in the transaction's calldata")
        try:
            fn, args = self._registry.contract.decode_function_input(tx["input"])
        except ValueError as exc:
            return RevealCalldata(None, sender, when, f"calldata does not decode: {exc}")
        if fn.fn_name != "reveal":
            return RevealCalldata(None, sender, when, f"the transaction called {fn.fn_name}")
        return RevealCalldata(bytes(args["salt"]), sender, when)
