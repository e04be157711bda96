"""What a participant node has done and is owed: its journal read against the chain.

The journal says which rounds this node joined and how far it got; the chain says what
is true now (membership, stake, balance, which rounds are finalized and when their
claims open, what was actually claimed). `fedledger node status` prints this record,
so an operator can tell "the node is waiting for the aggregator" from "the node missed
a deadline" without reading logs.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.contracts.deploy import Network
from ledger.contracts.registry import RoundStatus
from node.journal import Journal, Stage


@dataclass(frozen=True)
class RoundLine:
    """One journaled round: this node's stage and what the chain says about the round."""

    round: int
    stage: Stage
    chain_status: RoundStatus
    reward: int | None
    claimable_at: int | None
    note: str | None

    @property
    def pending_claim(self) -> bool:
        """Revealed and not yet claimed (the round may still await finalization)."""
        return self.stage is Stage.REVEALED


@dataclass(frozen=True)
class NodeStatus:
    """A node's standing on one network."""

    address: str
    registry: str
    registered: bool
    stake: int
    balance: int
    chain_time: int
    next_round: int
    claimed_on_chain: int
    rounds: tuple[RoundLine, ...]

    @property
    def rounds_joined(self) -> int:
        """Rounds the node trained and stored an update for."""
        return len(self.rounds)

    @property
    def rewards_earned(self) -> int:
        """Rewards the journal records as claimed (token base units)."""
        return sum(line.reward or 0 for line in self.rounds if line.stage is Stage.CLAIMED)

    @property
    def pending_claims(self) -> tuple[RoundLine, ...]:
        return tuple(line for line in self.rounds if line.pending_claim)


def collect_status(network: Network, journal: Journal, address: str) -> NodeStatus:
    """Read the journal and the chain into one `NodeStatus` (no transaction is sent)."""
    registry = network.registry
    member = registry.participant(address)
    lines = []
    for entry in journal.entries():
        info = registry.round_info(entry.round)
        finalized = info.status in (RoundStatus.FINALIZED, RoundStatus.CHALLENGED)
        lines.append(RoundLine(entry.round, entry.stage, info.status, entry.reward,
                               info.claimable_at if finalized else None, entry.note))
    claimed = sum(e.amount for e in registry.events_reward_claimed(account=address))
    return NodeStatus(
        address=address,
        registry=registry.address,
        registered=member.active,
        stake=member.stake,
        balance=network.token.balance_of(address),
        chain_time=network.backend.now(),
        next_round=registry.next_round(),
        claimed_on_chain=claimed,
        rounds=tuple(lines),
    )


__all__ = ["NodeStatus", "RoundLine", "collect_status"]
