"""TrainingRegistry stake and bond economics: slashing a commit never revealed (anyone, after the
reveal deadline, exact amounts), admission by governance, and the aggregator's bond (posting,
the bond required to run rounds, and when it may be withdrawn)."""

from __future__ import annotations

from tests.contracts.scenario import (
    AGGREGATOR_BOND,
    CHALLENGE_BOND,
    CHALLENGE_WINDOW,
    MIN_STAKE,
    MISSED_REVEAL_PENALTY,
    MODEL0_CID,
    MODEL0_HASH,
    REWARD_CAP,
    TOKEN,
    Chain,
)


def _stake(chain: Chain, account: str) -> int:
    return int(chain.registry.functions.participant(account).call()[2])


# -- commit without reveal -----------------------------------------------------------------------


def test_anyone_slashes_a_commit_left_unrevealed_after_the_deadline(committed: Chain) -> None:
    # Prepare: alice committed and never revealed; the outsider holds no role at all
    alice, outsider = committed.actors.alice, committed.actors.outsider
    registry, token = committed.registry, committed.token
    committed.travel_to_next(committed.reveal_deadline + 1)
    held_before = token.functions.balanceOf(registry.address).call()

    # Execute
    receipt = committed.send(registry.functions.slashUnrevealed(0, alice), outsider)

    # Assert: exactly the penalty moves from alice's stake to the treasury; no token moves
    assert committed.events(receipt, "UnrevealedCommitSlashed") == [
        {"round": 0, "account": alice, "amount": MISSED_REVEAL_PENALTY}]
    assert committed.events(receipt, "ParticipantSlashed") == [
        {"account": alice, "amount": MISSED_REVEAL_PENALTY,
         "remainingStake": MIN_STAKE - MISSED_REVEAL_PENALTY}]
    assert _stake(committed, alice) == MIN_STAKE - MISSED_REVEAL_PENALTY
    assert registry.functions.treasury().call() == MISSED_REVEAL_PENALTY
    assert token.functions.balanceOf(registry.address).call() == held_before
    assert committed.events(receipt, "Transfer", token) == []


def test_a_missed_reveal_is_slashed_once(committed: Chain) -> None:
    # Prepare
    alice = committed.actors.alice
    committed.travel_to_next(committed.reveal_deadline + 1)
    committed.send(committed.registry.functions.slashUnrevealed(0, alice), committed.actors.bob)

    # Execute
    error = committed.revert_of(committed.registry.functions.slashUnrevealed(0, alice),
                                committed.actors.bob)

    # Assert
    assert error == ("RegistryNothingToSlash", (0, alice))
    assert _stake(committed, alice) == MIN_STAKE - MISSED_REVEAL_PENALTY


def test_no_slash_before_the_reveal_deadline(committed: Chain) -> None:
    # Prepare
    committed.travel_to_next(committed.reveal_deadline)

    # Execute
    error = committed.revert_of(
        committed.registry.functions.slashUnrevealed(0, committed.actors.alice),
        committed.actors.bob)

    # Assert
    assert error == ("RegistryRevealNotOver", (0, committed.reveal_deadline))
    assert _stake(committed, committed.actors.alice) == MIN_STAKE


def test_revealed_or_absent_participants_cannot_be_slashed(revealed: Chain) -> None:
    # Prepare: alice revealed; carol never committed; round 1 was never opened
    alice, carol = revealed.actors.alice, revealed.actors.carol
    revealed.travel_to_next(revealed.reveal_deadline + 1)

    # Execute
    errors = [revealed.revert_of(revealed.registry.functions.slashUnrevealed(r, who),
                                 revealed.actors.outsider)
              for r, who in ((0, alice), (0, carol), (1, alice))]

    # Assert
    assert errors == [("RegistryNothingToSlash", (0, alice)),
                      ("RegistryNothingToSlash", (0, carol)),
                      ("RegistryNothingToSlash", (1, alice))]
    assert revealed.registry.functions.treasury().call() == 0


def test_the_penalty_is_capped_at_the_remaining_stake(committed: Chain) -> None:
    # Prepare: governance already took all but one base unit of alice's stake
    alice = committed.actors.alice
    committed.send(committed.registry.functions.slash(alice, MIN_STAKE - 1), committed.actors.admin)
    committed.travel_to_next(committed.reveal_deadline + 1)

    # Execute
    receipt = committed.send(committed.registry.functions.slashUnrevealed(0, alice),
                             committed.actors.bob)

    # Assert
    assert committed.events(receipt, "UnrevealedCommitSlashed")[0]["amount"] == 1
    assert _stake(committed, alice) == 0
    assert committed.registry.functions.treasury().call() == MIN_STAKE


def test_governance_slash_moves_exactly_the_amount(members: Chain) -> None:
    # Prepare
    bob, registry, token = members.actors.bob, members.registry, members.token
    held = token.functions.balanceOf(registry.address).call()
    amount = 3 * TOKEN + 7

    # Execute
    receipt = members.send(registry.functions.slash(bob, amount), members.actors.admin)
    paid = members.send(registry.functions.withdrawTreasury(members.actors.outsider, amount),
                        members.actors.admin)

    # Assert
    assert members.events(receipt, "ParticipantSlashed") == [
        {"account": bob, "amount": amount, "remainingStake": MIN_STAKE - amount}]
    assert _stake(members, bob) == MIN_STAKE - amount
    assert members.events(paid, "Transfer", token) == [
        {"from": registry.address, "to": members.actors.outsider, "value": amount}]
    assert token.functions.balanceOf(registry.address).call() == held - amount
    assert registry.functions.treasury().call() == 0


# -- admission -----------------------------------------------------------------------------------


def _require_admission(chain: Chain) -> None:
    chain.send(chain.registry.functions.setParameters(
        (MIN_STAKE, REWARD_CAP, CHALLENGE_WINDOW, CHALLENGE_BOND, AGGREGATOR_BOND,
         MISSED_REVEAL_PENALTY, True)), chain.actors.admin)


def test_admission_gates_registration_when_required(members: Chain) -> None:
    # Prepare
    dave, registry = members.actors.dave, members.registry
    _require_admission(members)
    members.send(members.token.functions.approve(registry.address, MIN_STAKE), dave)
    refused = members.revert_of(registry.functions.register(MIN_STAKE), dave)

    # Execute
    admitted = members.send(registry.functions.admitParticipant(dave), members.actors.admin)
    members.send(registry.functions.register(MIN_STAKE), dave)

    # Assert
    assert refused == ("RegistryNotAdmitted", (dave,))
    assert members.events(admitted, "ParticipantAdmitted") == [{"account": dave}]
    assert registry.functions.isAdmitted(dave).call() is True
    assert registry.functions.participant(dave).call() == [True, False, MIN_STAKE]


def test_admission_lifts_a_removal_and_cannot_repeat(members: Chain) -> None:
    # Prepare
    bob, registry, admin = members.actors.bob, members.registry, members.actors.admin
    members.send(registry.functions.removeParticipant(bob), admin)

    # Execute
    members.send(registry.functions.admitParticipant(bob), admin)
    again = members.revert_of(registry.functions.admitParticipant(bob), admin)
    zero = members.revert_of(registry.functions.admitParticipant(
        "0x0000000000000000000000000000000000000000"), admin)

    # Assert
    assert registry.functions.participant(bob).call() == [True, False, MIN_STAKE]
    assert again == ("RegistryAlreadyAdmitted", (bob,))
    assert zero == ("RegistryZeroAddress", ())


# -- aggregator bond -----------------------------------------------------------------------------


def test_an_unbonded_aggregator_cannot_open_a_round(members: Chain) -> None:
    # Prepare: governance appoints carol, who posted no bond
    carol = members.actors.carol
    members.send(members.registry.functions.appointAggregator(carol), members.actors.admin)

    # Execute
    error = members.revert_of(members.registry.functions.openRound(
        0, MODEL0_CID, MODEL0_HASH, members.commit_deadline, members.reveal_deadline), carol)

    # Assert
    assert error == ("RegistryBondInsufficient", (carol, AGGREGATOR_BOND, 0))


def test_the_appointed_aggregator_cannot_withdraw_its_bond(finalized: Chain) -> None:
    # Execute
    error = finalized.revert_of(finalized.registry.functions.withdrawAggregatorBond(1),
                                finalized.actors.aggregator)

    # Assert
    assert error == ("RegistryBondInUse", (finalized.actors.aggregator,))


def test_a_replaced_aggregator_withdraws_once_its_round_settles(finalized: Chain) -> None:
    # Prepare: governance replaces the aggregator while round 0 is inside its challenge window
    aggregator, registry, token = finalized.actors.aggregator, finalized.registry, finalized.token
    finalized.send(registry.functions.appointAggregator(finalized.actors.carol),
                   finalized.actors.admin)
    locked = finalized.revert_of(registry.functions.withdrawAggregatorBond(1), aggregator)
    finalized.travel_to_next(finalized.claimable_at())

    # Execute
    too_much = finalized.revert_of(
        registry.functions.withdrawAggregatorBond(AGGREGATOR_BOND + 1), aggregator)
    receipt = finalized.send(registry.functions.withdrawAggregatorBond(AGGREGATOR_BOND), aggregator)

    # Assert
    assert locked == ("RegistryBondLocked", (aggregator, 0))
    assert too_much == ("RegistryBondInsufficient", (aggregator, AGGREGATOR_BOND + 1,
                                                     AGGREGATOR_BOND))
    assert finalized.events(receipt, "AggregatorBondWithdrawn") == [
        {"account": aggregator, "amount": AGGREGATOR_BOND, "total": 0}]
    assert token.functions.balanceOf(aggregator).call() == AGGREGATOR_BOND
    assert registry.functions.aggregatorBondOf(aggregator).call() == 0


def test_posting_a_bond_pulls_the_tokens_and_logs_the_total(base: Chain) -> None:
    # Prepare
    carol, registry = base.actors.carol, base.registry
    base.send(base.token.functions.mint(carol, 3 * TOKEN), base.actors.admin)
    base.send(base.token.functions.approve(registry.address, 3 * TOKEN), carol)

    # Execute
    first = base.send(registry.functions.postAggregatorBond(TOKEN), carol)
    second = base.send(registry.functions.postAggregatorBond(2 * TOKEN), carol)

    # Assert
    assert base.events(first, "AggregatorBondPosted") == [
        {"account": carol, "amount": TOKEN, "total": TOKEN}]
    assert base.events(second, "AggregatorBondPosted") == [
        {"account": carol, "amount": 2 * TOKEN, "total": 3 * TOKEN}]
    assert registry.functions.aggregatorBondOf(carol).call() == 3 * TOKEN
    assert base.token.functions.balanceOf(carol).call() == 0
