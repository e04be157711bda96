"""Consortium governance end to end: who may propose and vote, quorum and delays, what an executed
proposal changes, and that the deployer kept no power. On the embedded chain and on anvil.

The `network` fixture's consortium is `admin` plus two members (quorum: 2 of 3, rounded up).
"""

from __future__ import annotations

import pytest
from eth_utils.crypto import keccak

from ledger.chain.base import TestChainBackend
from ledger.contracts.binding import RoleGranted, RoleRevoked
from ledger.contracts.deploy import DevNetwork
from ledger.contracts.devgov import advance_to, enact, govern
from ledger.contracts.governance import (
    PROPOSER_ROLE,
    TIMELOCK_ADMIN_ROLE,
    ProposalState,
    VoteType,
)
from ledger.contracts.proposals import MembershipActions, Proposal, RegistryActions
from ledger.contracts.registry import (
    AUDITOR_ROLE,
    DEFAULT_ADMIN_ROLE,
    AggregatorAppointed,
    ParametersSet,
    ParticipantAdmitted,
    RegistryParams,
)
from ledger.contracts.token import MINTER_ROLE
from ledger.errors import ChainError, ContractRevert

TASK_HASH = keccak(b"task spec")


def _proposal(network: DevNetwork, description: str) -> Proposal:
    action = RegistryActions(network.registry).set_task(TASK_HASH, "bafytask")
    return Proposal((action,), description)


def _propose_and_open(network: DevNetwork, chain: TestChainBackend, description: str
                      ) -> tuple[Proposal, int]:
    proposal = _proposal(network, description)
    governor = network.governance.governor
    advance_to(chain, chain.now() + 1)  # votes are counted one second before the proposal
    proposal_id, _ = governor.propose(proposal, sender=network.admin)
    advance_to(chain, governor.status(proposal_id).snapshot + 1)
    return proposal, proposal_id


def test_admin_power_belongs_to_the_timelock_alone(network: DevNetwork) -> None:
    # Prepare
    governance, registry, token = network.governance, network.registry, network.token
    timelock = governance.timelock.address

    # Execute
    with pytest.raises(ContractRevert) as direct:
        registry.set_task(TASK_HASH, "bafytask", sender=network.admin)

    # Assert
    assert (direct.value.error_name, direct.value.error_args) == (
        "AccessControlUnauthorizedAccount", (network.admin.address, DEFAULT_ADMIN_ROLE))
    assert registry.has_role(DEFAULT_ADMIN_ROLE, timelock)
    assert token.has_role(DEFAULT_ADMIN_ROLE, timelock)
    assert not registry.has_role(DEFAULT_ADMIN_ROLE, network.admin.address)
    assert not token.has_role(DEFAULT_ADMIN_ROLE, network.admin.address)
    assert not token.has_role(MINTER_ROLE, network.admin.address)
    assert not governance.timelock.has_role(TIMELOCK_ADMIN_ROLE, network.admin.address)
    assert governance.timelock.has_role(TIMELOCK_ADMIN_ROLE, timelock)
    assert governance.timelock.has_role(PROPOSER_ROLE, governance.governor.address)
    assert governance.membership.owner() == timelock
    assert governance.membership.members() == [m.address for m in network.consortium]
    assert network.network.info.governor == governance.governor.address


def test_executed_proposal_changes_the_registry_exactly_as_proposed(network: DevNetwork) -> None:
    # Prepare
    registry = network.registry
    actions = RegistryActions(registry)
    new_params = RegistryParams(min_stake=1, reward_per_round=2, challenge_window=3,
                                challenge_bond=4, aggregator_bond=0, missed_reveal_penalty=6,
                                admission_required=True)
    newcomer, new_aggregator = network.outsider.address, network.auditor.address
    before_task = registry.task()

    # Execute
    enacted = govern(
        network,
        actions.admit_participant(newcomer),
        actions.set_parameters(new_params),
        actions.appoint_aggregator(new_aggregator),
        actions.grant_role(AUDITOR_ROLE, newcomer, "AUDITOR_ROLE"),
    )

    # Assert: exactly the four changes, in order, and nothing else in the registry
    timelock = network.governance.timelock.address
    events = registry.decode_receipt_events(enacted.execute)
    assert [type(e) for e in events] == [
        ParticipantAdmitted, ParametersSet, RoleRevoked, RoleGranted, AggregatorAppointed,
        RoleGranted]
    admitted, params_set, revoked, granted, appointed, auditor = events
    assert isinstance(admitted, ParticipantAdmitted) and admitted.account == newcomer
    assert isinstance(params_set, ParametersSet)
    assert params_set.admission_required is True and params_set.missed_reveal_penalty == 6
    assert isinstance(revoked, RoleRevoked) and isinstance(granted, RoleGranted)
    assert (revoked.account, granted.account) == (network.aggregator.address, new_aggregator)
    assert isinstance(appointed, AggregatorAppointed)
    assert (appointed.previous, appointed.current) == (network.aggregator.address, new_aggregator)
    assert isinstance(auditor, RoleGranted)
    assert (auditor.role, auditor.account, auditor.sender) == (AUDITOR_ROLE, newcomer, timelock)
    assert registry.has_role(AUDITOR_ROLE, newcomer)
    assert registry.parameters() == new_params
    assert registry.is_admitted(newcomer)
    assert registry.aggregator() == new_aggregator
    assert registry.task() == before_task
    assert network.governance.governor.state(enacted.proposal_id) is ProposalState.EXECUTED


def test_a_non_member_can_neither_propose_nor_vote(network: DevNetwork, chain: TestChainBackend
                                                   ) -> None:
    # Prepare
    governor = network.governance.governor
    outsider = network.outsider
    _, proposal_id = _propose_and_open(network, chain, "non-member test")

    # Execute
    with pytest.raises(ContractRevert) as propose:
        governor.propose(_proposal(network, "by an outsider"), sender=outsider)
    with pytest.raises(ContractRevert) as vote:
        governor.cast_vote(proposal_id, VoteType.FOR, sender=outsider)

    # Assert
    assert propose.value.error_name == "GovernorInsufficientProposerVotes"
    assert propose.value.error_args[0] == outsider.address
    snapshot = governor.status(proposal_id).snapshot
    assert (vote.value.error_name, vote.value.error_args) == (
        "ConsortiumNotMember", (outsider.address, proposal_id, snapshot))
    assert not governor.has_voted(proposal_id, outsider.address)
    assert governor.status(proposal_id).votes.for_ == 0


def test_a_member_votes_once(network: DevNetwork, chain: TestChainBackend) -> None:
    # Prepare
    governor = network.governance.governor
    member = network.consortium[1]
    _, proposal_id = _propose_and_open(network, chain, "double vote test")
    governor.cast_vote(proposal_id, VoteType.AGAINST, sender=member)

    # Execute
    with pytest.raises(ContractRevert) as again:
        governor.cast_vote(proposal_id, VoteType.FOR, sender=member)

    # Assert
    assert (again.value.error_name, again.value.error_args) == (
        "GovernorAlreadyCastVote", (member.address,))
    votes = governor.status(proposal_id).votes
    assert (votes.against, votes.for_, votes.abstain) == (1, 0, 0)


def test_no_execution_without_quorum(network: DevNetwork, chain: TestChainBackend) -> None:
    # Prepare: one For vote of three members; the quorum is two
    governor = network.governance.governor
    proposal, proposal_id = _propose_and_open(network, chain, "quorum test")
    governor.cast_vote(proposal_id, VoteType.FOR, sender=network.admin)
    advance_to(chain, governor.status(proposal_id).deadline + 1)

    # Execute
    with pytest.raises(ContractRevert) as queue:
        governor.queue(proposal, sender=network.admin)
    with pytest.raises(ContractRevert) as execute:
        governor.execute(proposal, sender=network.admin)

    # Assert
    status = governor.status(proposal_id)
    assert status.state is ProposalState.DEFEATED
    assert (status.quorum, status.quorum_reached) == (2, False)
    assert queue.value.error_name == "GovernorUnexpectedProposalState"
    assert execute.value.error_name == "GovernorUnexpectedProposalState"
    assert network.registry.task().task_cid == ""


def test_no_execution_before_the_vote_ends_or_the_timelock_delay(
        network: DevNetwork, chain: TestChainBackend) -> None:
    # Prepare: every member votes For
    governor = network.governance.governor
    proposal, proposal_id = _propose_and_open(network, chain, "delay test")
    for member in network.consortium:
        governor.cast_vote(proposal_id, VoteType.FOR, sender=member)

    # Execute: too early to queue while voting is open; too early to execute before the ETA
    with pytest.raises(ContractRevert) as while_active:
        governor.queue(proposal, sender=network.admin)
    advance_to(chain, governor.status(proposal_id).deadline + 1)
    governor.queue(proposal, sender=network.admin)
    eta = governor.status(proposal_id).eta
    with pytest.raises(ContractRevert) as before_eta:
        governor.execute(proposal, sender=network.admin)
    task_before_eta = network.registry.task().task_cid
    advance_to(chain, eta)
    governor.execute(proposal, sender=network.outsider)

    # Assert
    assert while_active.value.error_name == "GovernorUnexpectedProposalState"
    assert before_eta.value.error_name == "TimelockUnexpectedOperationState"
    assert eta >= governor.status(proposal_id).deadline + network.governance_params.timelock_delay
    assert task_before_eta == ""
    assert network.registry.task().task_cid == "bafytask"
    assert governor.state(proposal_id) is ProposalState.EXECUTED


def test_membership_is_soulbound_and_changes_only_by_proposal(network: DevNetwork) -> None:
    # Prepare
    governance = network.governance
    membership = governance.membership
    member, outsider = network.consortium[2], network.outsider
    token_id = int(membership.contract.functions.tokenIdOf(member.address).call())

    # Execute
    with pytest.raises(ContractRevert) as transfer:
        membership.backend.transact(
            membership.function("transferFrom", member.address, outsider.address, token_id),
            member)
    with pytest.raises(ContractRevert) as delegate:
        membership.backend.transact(membership.function("delegate", outsider.address), member)
    with pytest.raises(ContractRevert) as direct:
        membership.add_member(outsider.address, sender=network.admin)
    govern(network, MembershipActions(membership).remove_member(member.address),
           MembershipActions(membership).add_member(outsider.address))

    # Assert
    assert (transfer.value.error_name, transfer.value.error_args) == (
        "MembershipNonTransferable", (token_id,))
    assert (delegate.value.error_name, delegate.value.error_args) == (
        "MembershipDelegationDisabled", (member.address, outsider.address))
    assert (direct.value.error_name, direct.value.error_args) == (
        "OwnableUnauthorizedAccount", (network.admin.address,))
    assert not membership.is_member(member.address)
    assert membership.is_member(outsider.address)
    assert (membership.votes(member.address), membership.votes(outsider.address)) == (0, 1)
    assert membership.member_count() == 3


def test_enact_names_a_proposal_the_voters_cannot_carry(network: DevNetwork,
                                                        chain: TestChainBackend) -> None:
    # Execute: one voter of three is below the quorum
    with pytest.raises(ChainError, match="ended DEFEATED after 1 For votes"):
        enact(chain, network.governance, [_proposal(network, "x").actions[0]],
              proposer=network.admin, voters=[network.admin])

    # Assert
    assert network.registry.task().task_cid == ""
