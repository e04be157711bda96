"""TrainingRegistry challenges: who may challenge, when, the bond, and governance's resolution
(rejected: bond to treasury, claims resume; upheld: bond back, the aggregator's bond slashed half
to the challenger and half to the treasury, the round reopened and finalized again)."""

from __future__ import annotations

import pytest

from tests.contracts.scenario import (
    AGGREGATOR_BOND,
    CHALLENGE_BOND,
    CHALLENGE_WINDOW,
    EVIDENCE_CID,
    MODEL0_CID,
    MODEL0_HASH,
    MODEL1_CID,
    MODEL1_HASH,
    REPORT_CID,
    REPORT_HASH,
    ROUND_STATUS,
    TOKEN,
    Chain,
)

ZERO = "0x0000000000000000000000000000000000000000"
OPEN, FINALIZED, CHALLENGED = (ROUND_STATUS["Open"], ROUND_STATUS["Finalized"],
                               ROUND_STATUS["Challenged"])
ZERO_HASH = bytes(32)


def _fund_bond(chain: Chain, account: str) -> None:
    chain.send(chain.token.functions.mint(account, CHALLENGE_BOND), chain.actors.admin)
    chain.send(chain.token.functions.approve(chain.registry.address, CHALLENGE_BOND), account)


def _challenged(chain: Chain, challenger: str) -> None:
    _fund_bond(chain, challenger)
    chain.send(chain.registry.functions.challenge(0, EVIDENCE_CID), challenger)


@pytest.mark.parametrize("who", ["carol", "auditor"])
def test_challenge_takes_the_bond_and_freezes_the_round(finalized: Chain, who: str) -> None:
    # Prepare: carol is a participant, the auditor is not
    challenger = getattr(finalized.actors, who)
    _fund_bond(finalized, challenger)
    held = finalized.token.functions.balanceOf(finalized.registry.address).call()

    # Execute
    receipt = finalized.send(finalized.registry.functions.challenge(0, EVIDENCE_CID), challenger)

    # Assert
    assert finalized.events(receipt, "RoundChallenged") == [
        {"round": 0, "challenger": challenger, "evidenceCID": EVIDENCE_CID, "bond": CHALLENGE_BOND}]
    assert finalized.events(receipt, "Transfer", finalized.token) == [
        {"from": challenger, "to": finalized.registry.address, "value": CHALLENGE_BOND}]
    info = finalized.round_info(0)
    assert (info["status"], info["challenger"], info["challengeBond"]) == (
        CHALLENGED, challenger, CHALLENGE_BOND)
    assert finalized.token.functions.balanceOf(finalized.registry.address).call() == (
        held + CHALLENGE_BOND)
    assert finalized.token.functions.balanceOf(challenger).call() == 0


@pytest.mark.parametrize("who", ["outsider", "dave", "removed"])
def test_challenge_refuses_non_members_without_auditor_role(finalized: Chain, who: str) -> None:
    # Prepare
    account = finalized.actors.carol if who == "removed" else getattr(finalized.actors, who)
    if who == "removed":
        finalized.send(finalized.registry.functions.removeParticipant(account),
                       finalized.actors.admin)
    _fund_bond(finalized, account)

    # Execute
    error = finalized.revert_of(finalized.registry.functions.challenge(0, EVIDENCE_CID), account)

    # Assert
    assert error == ("RegistryUnauthorizedChallenger", (account,))
    assert finalized.round_info(0)["status"] == FINALIZED


def test_challenge_needs_evidence(finalized: Chain) -> None:
    # Prepare
    carol = finalized.actors.carol
    _fund_bond(finalized, carol)

    # Execute
    error = finalized.revert_of(finalized.registry.functions.challenge(0, ""), carol)

    # Assert
    assert error == ("RegistryEmptyCID", ())


def test_challenge_window_closes_at_claimable_time(finalized: Chain) -> None:
    # Prepare
    carol = finalized.actors.carol
    _fund_bond(finalized, carol)
    claimable_at = finalized.claimable_at()
    finalized.travel_to_next(claimable_at)

    # Execute
    error = finalized.revert_of(finalized.registry.functions.challenge(0, EVIDENCE_CID), carol)

    # Assert
    assert error == ("RegistryChallengeWindowClosed", (0, claimable_at))


def test_challenge_is_accepted_in_the_last_second_of_the_window(finalized: Chain) -> None:
    # Prepare
    carol = finalized.actors.carol
    _fund_bond(finalized, carol)
    finalized.travel_to_next(finalized.claimable_at() - 1)

    # Execute
    finalized.send(finalized.registry.functions.challenge(0, EVIDENCE_CID), carol)

    # Assert
    assert finalized.round_info(0)["status"] == CHALLENGED


def test_challenge_refuses_unfinished_and_already_challenged_rounds(revealed: Chain) -> None:
    # Prepare
    carol, auditor = revealed.actors.carol, revealed.actors.auditor
    _fund_bond(revealed, carol)
    _fund_bond(revealed, auditor)

    # Execute
    unfinished = revealed.revert_of(revealed.registry.functions.challenge(0, EVIDENCE_CID), carol)
    revealed.at("finalized")
    _challenged(revealed, carol)
    _fund_bond(revealed, auditor)
    second = revealed.revert_of(revealed.registry.functions.challenge(0, EVIDENCE_CID), auditor)

    # Assert
    assert unfinished == ("RegistryUnexpectedStatus", (0, ROUND_STATUS["Open"]))
    assert second == ("RegistryUnexpectedStatus", (0, CHALLENGED))


def test_challenge_without_allowance_bubbles_the_token_error(finalized: Chain) -> None:
    # Prepare
    auditor = finalized.actors.auditor

    # Execute
    error = finalized.revert_of(finalized.registry.functions.challenge(0, EVIDENCE_CID), auditor)

    # Assert
    assert error == ("ERC20InsufficientAllowance", (finalized.registry.address, 0, CHALLENGE_BOND))
    assert finalized.round_info(0)["status"] == FINALIZED


def test_challenge_without_bond_when_the_bond_is_zero(finalized: Chain) -> None:
    # Prepare
    auditor = finalized.actors.auditor
    finalized.send(finalized.registry.functions.setParameters(
        (0, 1000 * TOKEN, 600, 0, AGGREGATOR_BOND, 0, False)), finalized.actors.admin)

    # Execute
    receipt = finalized.send(finalized.registry.functions.challenge(0, EVIDENCE_CID), auditor)

    # Assert
    assert finalized.events(receipt, "RoundChallenged")[0]["bond"] == 0
    assert finalized.events(receipt, "Transfer", finalized.token) == []


def test_rejected_challenge_forfeits_the_bond_and_unfreezes_claims(finalized: Chain) -> None:
    # Prepare
    carol, alice = finalized.actors.carol, finalized.actors.alice
    _challenged(finalized, carol)

    # Execute
    receipt = finalized.send(finalized.registry.functions.resolveChallenge(0, False),
                             finalized.actors.admin)

    # Assert
    assert finalized.events(receipt, "ChallengeResolved") == [{"round": 0, "upheld": False}]
    assert finalized.events(receipt, "ChallengeBondForfeited") == [
        {"round": 0, "challenger": carol, "bond": CHALLENGE_BOND}]
    assert finalized.events(receipt, "AggregatorBondSlashed") == []
    assert finalized.events(receipt, "Transfer", finalized.token) == []
    info = finalized.round_info(0)
    assert (info["status"], info["challenger"], info["challengeBond"]) == (FINALIZED, ZERO, 0)
    assert finalized.registry.functions.treasury().call() == CHALLENGE_BOND
    assert finalized.token.functions.balanceOf(carol).call() == 0
    finalized.travel_to_next(finalized.claimable_at())
    finalized.send(finalized.registry.functions.claim(0, alice, 10 * TOKEN,
                                                      finalized.proof_for(alice)), alice)
    assert finalized.token.functions.balanceOf(alice).call() == 10 * TOKEN


def test_upheld_challenge_slashes_the_aggregator_bond_and_reopens_the_round(
        finalized: Chain) -> None:
    # Prepare
    carol, aggregator = finalized.actors.carol, finalized.actors.aggregator
    registry, token = finalized.registry, finalized.token
    _challenged(finalized, carol)
    held_before = token.functions.balanceOf(registry.address).call()
    half = AGGREGATOR_BOND // 2

    # Execute
    receipt = finalized.send(registry.functions.resolveChallenge(0, True), finalized.actors.admin)

    # Assert: carol gets her bond and half the slashed aggregator bond; the treasury the rest
    assert finalized.events(receipt, "ChallengeResolved") == [{"round": 0, "upheld": True}]
    assert finalized.events(receipt, "AggregatorBondSlashed") == [
        {"aggregator": aggregator, "round": 0, "amount": AGGREGATOR_BOND, "toChallenger": half,
         "remaining": 0}]
    assert finalized.events(receipt, "RoundReopened") == [{"round": 0}]
    assert finalized.events(receipt, "Transfer", token) == [
        {"from": registry.address, "to": carol, "value": CHALLENGE_BOND + half}]
    assert token.functions.balanceOf(carol).call() == CHALLENGE_BOND + half
    assert token.functions.balanceOf(registry.address).call() == (
        held_before - CHALLENGE_BOND - half)
    assert registry.functions.treasury().call() == AGGREGATOR_BOND - half
    assert registry.functions.aggregatorBondOf(aggregator).call() == 0
    info = finalized.round_info(0)
    assert (info["status"], info["newModelHash"], info["rewardsRoot"], info["totalReward"],
            info["claimableAt"], info["aggregator"], info["challenger"]) == (
        OPEN, ZERO_HASH, ZERO_HASH, 0, 0, aggregator, ZERO)
    assert (info["commitCount"], info["revealCount"]) == (2, 2)


def test_a_reopened_round_is_finalized_again_once_the_aggregator_rebonds(finalized: Chain) -> None:
    # Prepare: challenge upheld, the aggregator's bond is gone
    registry, aggregator = finalized.registry, finalized.actors.aggregator
    _challenged(finalized, finalized.actors.carol)
    finalized.send(registry.functions.resolveChallenge(0, True), finalized.actors.admin)
    unbonded = finalized.revert_of(finalized.finalize_fn(), aggregator)
    finalized.send(finalized.token.functions.mint(aggregator, AGGREGATOR_BOND), finalized.actors.admin)
    finalized.send(finalized.token.functions.approve(registry.address, AGGREGATOR_BOND), aggregator)
    finalized.send(registry.functions.postAggregatorBond(AGGREGATOR_BOND), aggregator)
    corrected_hash = MODEL0_HASH

    # Execute: a corrected result for the same reveals
    receipt = finalized.send(registry.functions.finalizeRound(
        0, MODEL0_CID, corrected_hash, REPORT_CID, REPORT_HASH, finalized.rewards_root, 30 * TOKEN),
        aggregator)

    # Assert
    assert unbonded == ("RegistryBondInsufficient", (aggregator, AGGREGATOR_BOND, 0))
    (event,) = finalized.events(receipt, "RoundFinalized")
    assert event["newModelHash"] == corrected_hash
    info = finalized.round_info(0)
    assert (info["status"], info["newModelHash"], info["aggregator"]) == (
        FINALIZED, corrected_hash, aggregator)
    assert info["claimableAt"] == finalized.now + CHALLENGE_WINDOW
    assert registry.functions.aggregatorBondOf(aggregator).call() == AGGREGATOR_BOND


def test_claims_wait_for_the_re_finalization_of_a_reopened_round(finalized: Chain) -> None:
    # Prepare
    alice = finalized.actors.alice
    _challenged(finalized, finalized.actors.carol)
    finalized.send(finalized.registry.functions.resolveChallenge(0, True), finalized.actors.admin)
    finalized.travel_to_next(finalized.reveal_deadline + 10 * CHALLENGE_WINDOW)

    # Execute
    error = finalized.revert_of(finalized.registry.functions.claim(
        0, alice, 10 * TOKEN, finalized.proof_for(alice)), alice)

    # Assert
    assert error == ("RegistryUnexpectedStatus", (0, OPEN))


def test_next_round_waits_for_the_challenge_window_of_the_previous(finalized: Chain) -> None:
    # Prepare
    now = finalized.next_timestamp
    settles = finalized.claimable_at()
    aggregator = finalized.actors.aggregator

    # Execute
    early = finalized.revert_of(finalized.registry.functions.openRound(
        1, MODEL1_CID, MODEL1_HASH, now + 10, now + 20), aggregator)
    finalized.travel_to_next(settles)
    finalized.send(finalized.registry.functions.openRound(
        1, MODEL1_CID, MODEL1_HASH, settles + 10, settles + 20), aggregator)

    # Assert
    assert early == ("RegistryPreviousRoundUnsettled", (0, settles))
    assert finalized.round_info(1)["modelHash"] == MODEL1_HASH


def test_next_round_cannot_open_while_a_challenge_is_pending(finalized: Chain) -> None:
    # Prepare
    _challenged(finalized, finalized.actors.carol)
    now = finalized.next_timestamp

    # Execute
    error = finalized.revert_of(finalized.registry.functions.openRound(
        1, MODEL1_CID, MODEL1_HASH, now + 10, now + 20), finalized.actors.aggregator)

    # Assert
    assert error == ("RegistryUnexpectedStatus", (0, CHALLENGED))


def test_resolve_needs_a_pending_challenge(finalized: Chain) -> None:
    # Execute
    error = finalized.revert_of(finalized.registry.functions.resolveChallenge(0, True),
                                finalized.actors.admin)

    # Assert
    assert error == ("RegistryUnexpectedStatus", (0, FINALIZED))
