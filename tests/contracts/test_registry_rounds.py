"""TrainingRegistry round lifecycle: openRound, commit, reveal, finalizeRound, their deadlines,
the commit-reveal binding, and every refusal with its exact error."""

from __future__ import annotations

from typing import Any

import pytest
from eth_utils.crypto import keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.contracts.scenario import (
    AGGREGATOR_BOND,
    CHALLENGE_WINDOW,
    MODEL0_CID,
    MODEL0_HASH,
    MODEL1_CID,
    MODEL1_HASH,
    PARAMS,
    REPORT_CID,
    REPORT_HASH,
    REWARD_CAP,
    ROUND_STATUS,
    TASK_HASH,
    TOKEN,
    Chain,
    commitment,
    submission_of,
)

ZERO32 = b"\x00" * 32
OPEN, FINALIZED, NONE = ROUND_STATUS["Open"], ROUND_STATUS["Finalized"], ROUND_STATUS["None"]


# -- openRound -----------------------------------------------------------------------------------


def test_open_round_records_the_round_and_logs_it(members: Chain) -> None:
    # Prepare
    commit_at, reveal_at = members.commit_deadline, members.reveal_deadline

    # Execute
    receipt = members.send(members.registry.functions.openRound(
        0, MODEL0_CID, MODEL0_HASH, commit_at, reveal_at), members.actors.aggregator)

    # Assert
    assert members.events(receipt, "RoundOpened") == [{
        "round": 0, "modelCID": MODEL0_CID, "modelHash": MODEL0_HASH, "taskHash": TASK_HASH,
        "commitDeadline": commit_at, "revealDeadline": reveal_at}]
    info = members.round_info(0)
    assert info["status"] == OPEN
    assert (info["modelCID"], info["modelHash"], info["taskHash"]) == (MODEL0_CID, MODEL0_HASH,
                                                                       TASK_HASH)
    assert (info["commitDeadline"], info["revealDeadline"]) == (commit_at, reveal_at)
    assert (info["commitCount"], info["revealCount"], info["rewardsRoot"]) == (0, 0, ZERO32)
    assert members.registry.functions.nextRound().call() == 1


def test_open_round_refuses_non_aggregators(members: Chain) -> None:
    # Prepare
    admin = members.actors.admin
    fn = members.registry.functions.openRound(0, MODEL0_CID, MODEL0_HASH, members.commit_deadline,
                                              members.reveal_deadline)

    # Execute
    error = members.revert_of(fn, admin)

    # Assert
    assert error == ("AccessControlUnauthorizedAccount", (admin, members.aggregator_role))
    assert members.registry.functions.nextRound().call() == 0


@pytest.mark.parametrize("round_id", [1, 2**64 - 1])
def test_open_round_refuses_skipping_ahead(members: Chain, round_id: int) -> None:
    # Execute
    error = members.revert_of(members.registry.functions.openRound(
        round_id, MODEL0_CID, MODEL0_HASH, members.commit_deadline, members.reveal_deadline),
        members.actors.aggregator)

    # Assert
    assert error == ("RegistryUnexpectedRound", (round_id, 0))


def test_open_round_refuses_reopening(open_round: Chain) -> None:
    # Execute
    error = open_round.revert_of(open_round.registry.functions.openRound(
        0, MODEL0_CID, MODEL0_HASH, open_round.commit_deadline, open_round.reveal_deadline),
        open_round.actors.aggregator)

    # Assert
    assert error == ("RegistryUnexpectedRound", (0, 1))


def test_open_round_needs_a_task(deployed: Chain) -> None:
    # Prepare
    registry, _ = deployed.deploy("TrainingRegistry", deployed.actors.admin, deployed.token.address,
                                  PARAMS)
    deployed.send(registry.functions.appointAggregator(deployed.actors.aggregator),
                  deployed.actors.admin)
    now = deployed.next_timestamp

    # Execute
    error = deployed.revert_of(registry.functions.openRound(
        0, MODEL0_CID, MODEL0_HASH, now + 10, now + 20), deployed.actors.aggregator)

    # Assert
    assert error == ("RegistryTaskNotSet", ())


@pytest.mark.parametrize(
    ("cid", "model_hash", "error"),
    [(MODEL0_CID, ZERO32, "RegistryZeroHash"), ("", MODEL0_HASH, "RegistryEmptyCID")],
)
def test_open_round_refuses_missing_model(members: Chain, cid: str, model_hash: bytes,
                                          error: str) -> None:
    # Execute
    outcome = members.revert_of(members.registry.functions.openRound(
        0, cid, model_hash, members.commit_deadline, members.reveal_deadline),
        members.actors.aggregator)

    # Assert
    assert outcome == (error, ())


@pytest.mark.parametrize(
    ("commit_offset", "reveal_offset"),
    [(0, 10), (-5, 10), (10, 10), (10, 9)],
    ids=["commit-now", "commit-past", "reveal-equal", "reveal-before"],
)
def test_open_round_refuses_bad_deadlines(members: Chain, commit_offset: int,
                                          reveal_offset: int) -> None:
    # Prepare
    now = members.next_timestamp
    commit_at, reveal_at = now + commit_offset, now + reveal_offset

    # Execute
    error = members.revert_of(members.registry.functions.openRound(
        0, MODEL0_CID, MODEL0_HASH, commit_at, reveal_at), members.actors.aggregator)

    # Assert
    assert error == ("RegistryInvalidDeadlines", (commit_at, reveal_at, now))


def test_next_round_waits_for_the_previous_to_finish(revealed: Chain) -> None:
    # Prepare
    now = revealed.next_timestamp

    # Execute
    error = revealed.revert_of(revealed.registry.functions.openRound(
        1, MODEL1_CID, MODEL1_HASH, now + 10, now + 20), revealed.actors.aggregator)

    # Assert
    assert error == ("RegistryUnexpectedStatus", (0, OPEN))


def test_next_round_must_start_from_the_new_model(claimable: Chain) -> None:
    # Prepare
    finalized = claimable
    now = finalized.next_timestamp

    # Execute
    error = finalized.revert_of(finalized.registry.functions.openRound(
        1, MODEL0_CID, MODEL0_HASH, now + 10, now + 20), finalized.actors.aggregator)
    receipt = finalized.send(finalized.registry.functions.openRound(
        1, MODEL1_CID, MODEL1_HASH, now + 10, now + 20), finalized.actors.aggregator)

    # Assert
    assert error == ("RegistryModelMismatch", (1, MODEL1_HASH, MODEL0_HASH))
    assert finalized.events(receipt, "RoundOpened")[0]["modelHash"] == MODEL1_HASH
    assert finalized.registry.functions.nextRound().call() == 2


def test_round_records_the_task_in_force_when_it_opened(claimable: Chain) -> None:
    # Prepare
    finalized = claimable
    new_task = keccak(b"task v2")
    finalized.send(finalized.registry.functions.setTask(new_task, "bafkreitaskv2"),
                   finalized.actors.admin)
    now = finalized.next_timestamp

    # Execute
    finalized.send(finalized.registry.functions.openRound(
        1, MODEL1_CID, MODEL1_HASH, now + 10, now + 20), finalized.actors.aggregator)

    # Assert
    assert finalized.round_info(0)["taskHash"] == TASK_HASH
    assert finalized.round_info(1)["taskHash"] == new_task


# -- commit --------------------------------------------------------------------------------------


def test_commit_records_the_commitment_and_logs_it(open_round: Chain) -> None:
    # Prepare
    alice = open_round.actors.alice
    s = submission_of(alice)
    expected = commitment(0, alice, s.update_hash, s.proof_hash, s.salt)

    # Execute
    receipt = open_round.send(open_round.commit_fn(alice), alice)

    # Assert
    assert open_round.events(receipt, "UpdateCommitted") == [
        {"round": 0, "participant": alice, "commitment": expected}]
    assert open_round.registry.functions.commitmentOf(0, alice).call() == expected
    assert open_round.registry.functions.hasRevealed(0, alice).call() is False
    assert open_round.round_info(0)["commitCount"] == 1


def test_commit_is_accepted_at_the_deadline_and_refused_after(open_round: Chain) -> None:
    # Prepare
    alice, bob = open_round.actors.alice, open_round.actors.bob
    deadline = open_round.commit_deadline
    open_round.travel_to_next(deadline)

    # Execute
    open_round.send(open_round.commit_fn(alice), alice)
    late = open_round.revert_of(open_round.commit_fn(bob), bob)

    # Assert
    assert open_round.next_timestamp == deadline + 1
    assert late == ("RegistryCommitClosed", (0, deadline))
    assert open_round.registry.functions.commitmentOf(0, bob).call() == ZERO32


def test_commit_twice_is_refused(committed: Chain) -> None:
    # Prepare
    alice = committed.actors.alice
    before = committed.registry.functions.commitmentOf(0, alice).call()

    # Execute
    error = committed.revert_of(committed.registry.functions.commit(0, keccak(b"other")), alice)

    # Assert
    assert error == ("RegistryAlreadyCommitted", (0, alice))
    assert committed.registry.functions.commitmentOf(0, alice).call() == before
    assert committed.round_info(0)["commitCount"] == 2


@pytest.mark.parametrize("who", ["dave", "outsider", "removed"])
def test_commit_refuses_non_members(open_round: Chain, who: str) -> None:
    # Prepare
    account = getattr(open_round.actors, who) if who != "removed" else open_round.actors.carol
    if who == "removed":
        open_round.send(open_round.registry.functions.removeParticipant(account),
                        open_round.actors.admin)

    # Execute
    error = open_round.revert_of(open_round.commit_fn(account), account)

    # Assert
    assert error == ("RegistryNotParticipant", (account,))


def test_commit_refuses_a_round_that_is_not_open(open_round: Chain) -> None:
    # Prepare
    alice = open_round.actors.alice

    # Execute
    error = open_round.revert_of(open_round.commit_fn(alice, round_id=1), alice)

    # Assert
    assert error == ("RegistryUnexpectedStatus", (1, NONE))


# -- reveal --------------------------------------------------------------------------------------


def test_reveal_checks_the_commitment_and_logs_the_update(committed: Chain) -> None:
    # Prepare
    alice = committed.actors.alice
    s = submission_of(alice)
    committed.travel_to_next(committed.commit_deadline + 1)

    # Execute
    receipt = committed.send(committed.reveal_fn(alice), alice)

    # Assert
    assert committed.events(receipt, "UpdateRevealed") == [{
        "round": 0, "participant": alice, "updateCID": s.update_cid, "updateHash": s.update_hash,
        "proofCID": s.proof_cid, "proofHash": s.proof_hash, "numSamples": s.num_samples}]
    assert committed.registry.functions.hasRevealed(0, alice).call() is True
    assert committed.round_info(0)["revealCount"] == 1


def test_reveal_opens_only_after_the_commit_deadline(committed: Chain) -> None:
    # Prepare
    alice = committed.actors.alice
    committed.travel_to_next(committed.commit_deadline)

    # Execute
    error = committed.revert_of(committed.reveal_fn(alice), alice)

    # Assert
    assert error == ("RegistryRevealNotOpen", (0, committed.commit_deadline))


def test_reveal_is_accepted_at_the_deadline_and_refused_after(committed: Chain) -> None:
    # Prepare
    alice, bob = committed.actors.alice, committed.actors.bob
    deadline = committed.reveal_deadline
    committed.travel_to_next(deadline)

    # Execute
    committed.send(committed.reveal_fn(alice), alice)
    late = committed.revert_of(committed.reveal_fn(bob), bob)

    # Assert
    assert late == ("RegistryRevealClosed", (0, deadline))
    assert committed.registry.functions.hasRevealed(0, bob).call() is False
    assert committed.round_info(0)["revealCount"] == 1


def test_replayed_reveal_is_refused(revealed: Chain) -> None:
    # Prepare
    alice = revealed.actors.alice

    # Execute
    error = revealed.revert_of(revealed.reveal_fn(alice), alice)

    # Assert
    assert error == ("RegistryAlreadyRevealed", (0, alice))
    assert revealed.round_info(0)["revealCount"] == 2


def test_reveal_without_commit_is_refused(committed: Chain) -> None:
    # Prepare
    carol = committed.actors.carol
    committed.travel_to_next(committed.commit_deadline + 1)

    # Execute
    error = committed.revert_of(committed.reveal_fn(carol), carol)

    # Assert
    assert error == ("RegistryNotCommitted", (0, carol))


@pytest.mark.parametrize("field", ["salt", "update_hash", "proof_hash"])
def test_reveal_with_a_value_other_than_committed_is_refused(committed: Chain, field: str) -> None:
    # Prepare
    alice = committed.actors.alice
    committed.travel_to_next(committed.commit_deadline + 1)

    # Execute
    forged: dict[str, Any] = {field: keccak(b"forged")}
    error = committed.revert_of(committed.reveal_fn(alice, **forged), alice)

    # Assert
    assert error == ("RegistryCommitmentMismatch", (0, alice))
    assert committed.registry.functions.hasRevealed(0, alice).call() is False


def test_copied_commitment_cannot_be_revealed_by_the_copier(open_round: Chain) -> None:
    # Prepare: bob front-runs alice by committing her exact commitment
    alice, bob = open_round.actors.alice, open_round.actors.bob
    s = submission_of(alice)
    stolen = commitment(0, alice, s.update_hash, s.proof_hash, s.salt)
    open_round.send(open_round.registry.functions.commit(0, stolen), bob)
    open_round.send(open_round.commit_fn(alice), alice)
    open_round.travel_to_next(open_round.commit_deadline + 1)
    open_round.send(open_round.reveal_fn(alice), alice)

    # Execute: bob replays alice's revealed values
    error = open_round.revert_of(open_round.registry.functions.reveal(
        0, s.update_cid, s.update_hash, s.proof_cid, s.proof_hash, s.num_samples, s.salt), bob)

    # Assert
    assert error == ("RegistryCommitmentMismatch", (0, bob))


def test_reveal_needs_samples_and_cids(committed: Chain) -> None:
    # Prepare
    alice = committed.actors.alice
    committed.travel_to_next(committed.commit_deadline + 1)

    # Execute
    no_samples = committed.revert_of(committed.reveal_fn(alice, num_samples=0), alice)
    no_update = committed.revert_of(committed.reveal_fn(alice, update_cid=""), alice)
    no_proof = committed.revert_of(committed.reveal_fn(alice, proof_cid=""), alice)

    # Assert
    assert no_samples == ("RegistryNoSamples", (0, alice))
    assert no_update == ("RegistryEmptyCID", ())
    assert no_proof == ("RegistryEmptyCID", ())


def test_removed_participant_cannot_reveal(committed: Chain) -> None:
    # Prepare
    alice = committed.actors.alice
    committed.send(committed.registry.functions.removeParticipant(alice), committed.actors.admin)
    committed.travel_to_next(committed.commit_deadline + 1)

    # Execute
    error = committed.revert_of(committed.reveal_fn(alice), alice)

    # Assert
    assert error == ("RegistryNotParticipant", (alice,))


def test_commit_and_reveal_after_finalization_are_late(finalized: Chain) -> None:
    # Prepare: finalization comes after the reveal deadline, so both windows are closed
    carol, alice = finalized.actors.carol, finalized.actors.alice

    # Execute
    commit = finalized.revert_of(finalized.commit_fn(carol), carol)
    reveal = finalized.revert_of(finalized.reveal_fn(alice), alice)

    # Assert
    assert commit == ("RegistryCommitClosed", (0, finalized.commit_deadline))
    assert reveal == ("RegistryRevealClosed", (0, finalized.reveal_deadline))


def test_reveal_in_a_round_never_opened_is_refused(open_round: Chain) -> None:
    # Prepare
    alice = open_round.actors.alice

    # Execute
    error = open_round.revert_of(open_round.reveal_fn(alice, round_id=3), alice)

    # Assert
    assert error == ("RegistryUnexpectedStatus", (3, NONE))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(salt=st.binary(min_size=32, max_size=32), update=st.binary(min_size=32, max_size=32),
       flip=st.integers(min_value=0, max_value=255))
def test_commitment_binds_every_bit_of_the_salt(committed: Chain, salt: bytes, update: bytes,
                                                flip: int) -> None:
    # Prepare: carol commits random values; a one-bit change in the salt must not open it
    chain = committed.at("committed")
    carol = chain.actors.carol
    proof_hash = keccak(b"proof")
    chain.send(chain.registry.functions.commit(0, commitment(0, carol, update, proof_hash, salt)),
               carol)
    chain.travel_to_next(chain.commit_deadline + 1)
    forged = bytearray(salt)
    forged[flip // 8] ^= 1 << (flip % 8)

    # Execute
    refused = chain.revert_of(chain.registry.functions.reveal(
        0, "bafkreiu", update, "bafkreip", proof_hash, 1, bytes(forged)), carol)
    chain.send(chain.registry.functions.reveal(0, "bafkreiu", update, "bafkreip", proof_hash, 1,
                                               salt), carol)

    # Assert
    assert refused == ("RegistryCommitmentMismatch", (0, carol))
    assert chain.registry.functions.hasRevealed(0, carol).call() is True


# -- finalizeRound -------------------------------------------------------------------------------


def test_finalize_records_the_result_and_logs_it(revealed: Chain) -> None:
    # Prepare
    revealed.travel_to_next(revealed.reveal_deadline + 1)
    claimable_at = revealed.reveal_deadline + 1 + CHALLENGE_WINDOW

    # Execute
    receipt = revealed.send(revealed.finalize_fn(), revealed.actors.aggregator)

    # Assert
    assert revealed.events(receipt, "RoundFinalized") == [{
        "round": 0, "newModelCID": MODEL1_CID, "newModelHash": MODEL1_HASH, "reportCID": REPORT_CID,
        "reportHash": REPORT_HASH, "rewardsRoot": revealed.rewards_root,
        "totalReward": 30 * TOKEN, "claimableAt": claimable_at}]
    info = revealed.round_info(0)
    assert info["status"] == FINALIZED
    assert (info["newModelHash"], info["reportHash"], info["rewardsRoot"]) == (
        MODEL1_HASH, REPORT_HASH, revealed.rewards_root)
    assert (info["totalReward"], info["claimedReward"], info["claimableAt"]) == (
        30 * TOKEN, 0, claimable_at)
    assert (info["commitCount"], info["revealCount"]) == (2, 2)
    assert revealed.token.functions.balanceOf(revealed.registry.address).call() == (
        3 * 5 * TOKEN + AGGREGATOR_BOND)
    assert info["aggregator"] == revealed.actors.aggregator


def test_finalize_waits_for_the_reveal_deadline(revealed: Chain) -> None:
    # Prepare
    revealed.travel_to_next(revealed.reveal_deadline)

    # Execute
    error = revealed.revert_of(revealed.finalize_fn(), revealed.actors.aggregator)

    # Assert
    assert error == ("RegistryRevealNotOver", (0, revealed.reveal_deadline))


def test_finalize_refuses_rewards_above_the_cap(revealed: Chain) -> None:
    # Prepare
    revealed.travel_to_next(revealed.reveal_deadline + 1)

    # Execute
    error = revealed.revert_of(revealed.finalize_fn(total=REWARD_CAP + 1),
                               revealed.actors.aggregator)
    at_cap = revealed.send(revealed.finalize_fn(total=REWARD_CAP), revealed.actors.aggregator)

    # Assert
    assert error == ("RegistryRewardAboveCap", (REWARD_CAP + 1, REWARD_CAP))
    assert revealed.events(at_cap, "RoundFinalized")[0]["totalReward"] == REWARD_CAP


def test_finalize_needs_hashes_and_cids(revealed: Chain) -> None:
    # Prepare
    revealed.travel_to_next(revealed.reveal_deadline + 1)
    functions, aggregator = revealed.registry.functions, revealed.actors.aggregator
    root = revealed.rewards_root

    # Execute
    outcomes = [
        revealed.revert_of(functions.finalizeRound(0, MODEL1_CID, ZERO32, REPORT_CID, REPORT_HASH,
                                                   root, 0), aggregator),
        revealed.revert_of(functions.finalizeRound(0, MODEL1_CID, MODEL1_HASH, REPORT_CID, ZERO32,
                                                   root, 0), aggregator),
        revealed.revert_of(functions.finalizeRound(0, "", MODEL1_HASH, REPORT_CID, REPORT_HASH,
                                                   root, 0), aggregator),
        revealed.revert_of(functions.finalizeRound(0, MODEL1_CID, MODEL1_HASH, "", REPORT_HASH,
                                                   root, 0), aggregator),
    ]

    # Assert
    assert outcomes == [("RegistryZeroHash", ()), ("RegistryZeroHash", ()),
                        ("RegistryEmptyCID", ()), ("RegistryEmptyCID", ())]


def test_finalize_refuses_non_aggregators(revealed: Chain) -> None:
    # Prepare
    alice = revealed.actors.alice
    revealed.travel_to_next(revealed.reveal_deadline + 1)

    # Execute
    error = revealed.revert_of(revealed.finalize_fn(), alice)

    # Assert
    assert error == ("AccessControlUnauthorizedAccount", (alice, revealed.aggregator_role))


def test_finalize_happens_once(finalized: Chain) -> None:
    # Execute
    twice = finalized.revert_of(finalized.finalize_fn(), finalized.actors.aggregator)
    unopened = finalized.revert_of(finalized.finalize_fn(round_id=1), finalized.actors.aggregator)

    # Assert
    assert twice == ("RegistryUnexpectedStatus", (0, FINALIZED))
    assert unopened == ("RegistryUnexpectedStatus", (1, NONE))


def test_finalize_gas_does_not_depend_on_participation(open_round: Chain) -> None:
    # Prepare: the same round finalized twice from one snapshot, once with nobody, once with two
    chain = open_round
    chain.travel_to_next(chain.reveal_deadline + 1)
    empty = chain.send(chain.finalize_fn(), chain.actors.aggregator)["gasUsed"]
    chain.at("revealed")
    chain.travel_to_next(chain.reveal_deadline + 1)

    # Execute
    busy = chain.send(chain.finalize_fn(), chain.actors.aggregator)["gasUsed"]

    # Assert
    assert busy == empty
    assert busy <= 150_000


# -- later rounds --------------------------------------------------------------------------------


def test_a_new_commit_replaces_the_stored_commitment_of_the_last_round(claimable: Chain) -> None:
    # Prepare: views answer for a participant's latest committed round (history is in events)
    finalized = claimable
    alice = finalized.actors.alice
    now = finalized.next_timestamp
    finalized.send(finalized.registry.functions.openRound(
        1, MODEL1_CID, MODEL1_HASH, now + 100, now + 200), finalized.actors.aggregator)
    s = submission_of(alice)

    # Execute
    finalized.send(finalized.commit_fn(alice, round_id=1), alice)

    # Assert
    registry = finalized.registry.functions
    assert registry.commitmentOf(1, alice).call() == commitment(1, alice, s.update_hash,
                                                                s.proof_hash, s.salt)
    assert registry.commitmentOf(0, alice).call() == ZERO32
    assert registry.hasRevealed(0, alice).call() is False
    assert registry.hasRevealed(1, alice).call() is False
    assert finalized.round_info(1)["commitCount"] == 1
    assert finalized.round_info(0)["revealCount"] == 2
