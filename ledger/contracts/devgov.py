"""Running a proposal through the whole governance lifecycle on a dev chain, in one call.

On a real network a proposal takes days: a voting delay, a voting period, a timelock delay. On
the chains the project runs itself (embedded eth-tester, managed anvil) `enact` plays every
step and moves the chain clock past each wait with `TestChainBackend.mine(timestamp)`: propose,
mine past the snapshot, every voter votes For, mine past the deadline, queue, mine to the
timelock's ETA, execute. Tests, demos and simulations use it wherever an admin used to call the
registry directly. It needs a `TestChainBackend`: production code has no way to bend time and
never imports this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from web3.types import TxReceipt

from ledger.chain.base import TestChainBackend, TxSigner
from ledger.contracts.deploy import DevNetwork
from ledger.contracts.governance import Governance, ProposalState, VoteType
from ledger.contracts.proposals import Proposal, ProposalAction
from ledger.errors import ChainError, ConfigError

__all__ = ["EnactedProposal", "advance_to", "enact", "govern"]

#: Gas limits for the governance steps. Explicit limits skip one estimate per transaction (half
#: the cost of a transaction on the embedded chain); only gas used is charged, and a revert is
#: still decoded from the mined transaction.
PROPOSE_GAS = 2_000_000
VOTE_GAS = 300_000
QUEUE_GAS = 2_000_000
EXECUTE_GAS = 8_000_000


@dataclass(frozen=True)
class EnactedProposal:
    """A proposal that went all the way through, with the receipt of each step."""

    proposal: Proposal
    proposal_id: int
    propose: TxReceipt
    votes: tuple[TxReceipt, ...]
    queue: TxReceipt
    execute: TxReceipt


def advance_to(chain: TestChainBackend, timestamp: int) -> None:
    """Mine an empty block at `timestamp` unless the chain is already there or later."""
    if chain.now() < timestamp:
        chain.mine(timestamp)


def enact(
    chain: TestChainBackend,
    governance: Governance,
    actions: Sequence[ProposalAction],
    *,
    proposer: TxSigner,
    voters: Sequence[TxSigner],
    description: str | None = None,
) -> EnactedProposal:
    """Propose `actions`, vote For with every voter, queue and execute them; return the receipts.

    `description` defaults to the actions' summaries plus the current block number, so the same
    actions can be enacted again later under a fresh proposal id. Raises `ContractRevert` from
    the step that fails (a non-member proposing, an action reverting at execution) and
    `ChainError` if the votes do not carry the proposal.
    """
    if not actions:
        raise ChainError("enact needs at least one action")
    if description is None:
        summary = "; ".join(a.summary for a in actions)
        description = f"{summary} (dev proposal at block {chain.block_number() + 1})"
    proposal = Proposal(tuple(actions), description)
    governor = governance.governor
    # The Governor counts the proposer's votes one second before the proposal's block. A chain
    # may mine several blocks within one second (anvil) or return to a snapshot's clock, so a
    # proposal right after membership changed could see none: start from a block one second on.
    advance_to(chain, chain.now() + 1)
    proposal_id, proposed = governor.propose(proposal, sender=proposer, gas=PROPOSE_GAS)
    status = governor.status(proposal_id)
    advance_to(chain, status.snapshot + 1)
    votes = tuple(governor.cast_vote(proposal_id, VoteType.FOR, sender=v, gas=VOTE_GAS)
                  for v in voters)
    advance_to(chain, status.deadline + 1)
    state = governor.state(proposal_id)
    if state is not ProposalState.SUCCEEDED:
        raise ChainError(
            f"proposal {proposal_id} ended {state.name} after {len(voters)} For votes: the "
            "voters are not enough members for the quorum"
        )
    queued = governor.queue(proposal, sender=proposer, gas=QUEUE_GAS)
    advance_to(chain, governor.status(proposal_id).eta)
    executed = governor.execute(proposal, sender=proposer, gas=EXECUTE_GAS)
    return EnactedProposal(proposal, proposal_id, proposed, votes, queued, executed)


def govern(
    dev: DevNetwork, *actions: ProposalAction, description: str | None = None
) -> EnactedProposal:
    """`enact` on a `DevNetwork`: its admin proposes, its whole consortium votes For."""
    backend = dev.backend
    if not isinstance(backend, TestChainBackend):
        raise ConfigError(
            "govern fast-forwards the chain clock: it needs a chain the project runs "
            "(embedded or managed anvil), not a plain RPC node"
        )
    return enact(backend, dev.governance, actions, proposer=dev.admin, voters=dev.consortium,
                 description=description)
