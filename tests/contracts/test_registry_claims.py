"""TrainingRegistry claims: Merkle-proven rewards minted once per (round, account), only when the
round is final and out of its challenge window, never beyond the round's declared total."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web3.contract.contract import ContractFunction

from ledger.merkle import StandardMerkleTree
from tests.contracts.scenario import (
    EVIDENCE_CID,
    MODEL1_CID,
    MODEL1_HASH,
    REPORT_CID,
    REPORT_HASH,
    ROUND_STATUS,
    TOKEN,
    Chain,
    pair_root,
    reward_leaf,
)

ZERO = "0x0000000000000000000000000000000000000000"
LEAF_TYPES = ["address", "uint64", "uint256"]


def _claim(chain: Chain, account: str, amount: int | None = None, proof: list[bytes] | None = None,
           round_id: int = 0) -> ContractFunction:
    return chain.registry.functions.claim(
        round_id, account, chain.tree_amounts[account] if amount is None else amount,
        chain.proof_for(account) if proof is None else proof)


def test_claim_mints_the_reward_to_the_account(claimable: Chain) -> None:
    # Prepare
    alice = claimable.actors.alice
    supply = claimable.token.functions.totalSupply().call()

    # Execute
    receipt = claimable.send(_claim(claimable, alice), alice)

    # Assert
    assert claimable.events(receipt, "RewardClaimed") == [
        {"round": 0, "account": alice, "amount": 10 * TOKEN}]
    assert claimable.events(receipt, "Transfer", claimable.token) == [
        {"from": ZERO, "to": alice, "value": 10 * TOKEN}]
    assert claimable.token.functions.balanceOf(alice).call() == 10 * TOKEN
    assert claimable.token.functions.totalSupply().call() == supply + 10 * TOKEN
    assert claimable.registry.functions.isClaimed(0, alice).call() is True
    assert claimable.registry.functions.isClaimed(0, claimable.actors.bob).call() is False
    assert claimable.round_info(0)["claimedReward"] == 10 * TOKEN


def test_anyone_may_submit_a_claim_but_tokens_go_to_the_account(claimable: Chain) -> None:
    # Prepare
    bob, relayer = claimable.actors.bob, claimable.actors.outsider

    # Execute
    claimable.send(_claim(claimable, bob), relayer)

    # Assert
    assert claimable.token.functions.balanceOf(bob).call() == 20 * TOKEN
    assert claimable.token.functions.balanceOf(relayer).call() == 0


def test_both_leaves_claim_the_whole_total(claimable: Chain) -> None:
    # Execute
    for account in (claimable.actors.alice, claimable.actors.bob):
        claimable.send(_claim(claimable, account), account)

    # Assert
    assert claimable.round_info(0)["claimedReward"] == 30 * TOKEN


def test_double_claim_is_refused(claimable: Chain) -> None:
    # Prepare
    alice = claimable.actors.alice
    claimable.send(_claim(claimable, alice), alice)

    # Execute
    error = claimable.revert_of(_claim(claimable, alice), alice)

    # Assert
    assert error == ("RegistryAlreadyClaimed", (0, alice))
    assert claimable.token.functions.balanceOf(alice).call() == 10 * TOKEN


def test_claim_waits_for_the_challenge_window(finalized: Chain) -> None:
    # Prepare
    alice = finalized.actors.alice
    claimable_at = finalized.claimable_at()
    finalized.travel_to_next(claimable_at - 1)

    # Execute
    early = finalized.revert_of(_claim(finalized, alice), alice)
    finalized.travel_to_next(claimable_at)
    finalized.send(_claim(finalized, alice), alice)

    # Assert
    assert early == ("RegistryClaimNotOpen", (0, claimable_at))
    assert finalized.token.functions.balanceOf(alice).call() == 10 * TOKEN


def test_claim_refuses_rounds_that_are_not_final(revealed: Chain) -> None:
    # Prepare
    alice = revealed.actors.alice

    # Execute
    open_round = revealed.revert_of(_claim(revealed, alice), alice)
    never_opened = revealed.revert_of(_claim(revealed, alice, round_id=7), alice)

    # Assert
    assert open_round == ("RegistryUnexpectedStatus", (0, ROUND_STATUS["Open"]))
    assert never_opened == ("RegistryUnexpectedStatus", (7, ROUND_STATUS["None"]))


def test_forged_proofs_are_refused(claimable: Chain) -> None:
    # Prepare
    alice, bob, carol = claimable.actors.alice, claimable.actors.bob, claimable.actors.carol
    alice_proof = claimable.proof_for(alice)

    # Execute
    inflated = claimable.revert_of(_claim(claimable, alice, amount=11 * TOKEN), alice)
    other_account = claimable.revert_of(
        claimable.registry.functions.claim(0, carol, 10 * TOKEN, alice_proof), carol)
    no_proof = claimable.revert_of(_claim(claimable, alice, proof=[]), alice)
    inner_node = claimable.revert_of(
        claimable.registry.functions.claim(0, alice, 0, [claimable.rewards_root]), alice)
    bob_proof_for_alice = claimable.revert_of(
        _claim(claimable, alice, proof=claimable.proof_for(bob)), alice)

    # Assert
    assert inflated == ("RegistryInvalidProof", (0, alice, 11 * TOKEN))
    assert other_account == ("RegistryInvalidProof", (0, carol, 10 * TOKEN))
    assert no_proof == ("RegistryInvalidProof", (0, alice, 10 * TOKEN))
    assert inner_node == ("RegistryInvalidProof", (0, alice, 0))
    assert bob_proof_for_alice == ("RegistryInvalidProof", (0, alice, 10 * TOKEN))
    assert claimable.registry.functions.isClaimed(0, alice).call() is False


def test_a_leaf_of_one_round_does_not_pay_in_another(claimable: Chain) -> None:
    # Prepare: round 1 gets the same accounts and amounts; its leaves hash the round number
    alice, bob = claimable.actors.alice, claimable.actors.bob
    now = claimable.next_timestamp
    aggregator = claimable.actors.aggregator
    claimable.send(claimable.registry.functions.openRound(1, MODEL1_CID, MODEL1_HASH, now + 10,
                                                          now + 20), aggregator)
    claimable.travel_to_next(now + 21)
    root_1 = pair_root(reward_leaf(alice, 1, 10 * TOKEN), reward_leaf(bob, 1, 20 * TOKEN))
    claimable.send(claimable.registry.functions.finalizeRound(
        1, MODEL1_CID, MODEL1_HASH, REPORT_CID, REPORT_HASH, root_1, 30 * TOKEN), aggregator)
    claimable.travel_to_next(claimable.claimable_at(1))

    # Execute: round-0 proof presented for round 1
    error = claimable.revert_of(_claim(claimable, alice, round_id=1), alice)
    claimable.send(claimable.registry.functions.claim(
        1, alice, 10 * TOKEN, [reward_leaf(bob, 1, 20 * TOKEN)]), alice)

    # Assert
    assert error == ("RegistryInvalidProof", (1, alice, 10 * TOKEN))
    assert claimable.registry.functions.isClaimed(1, alice).call() is True
    assert claimable.registry.functions.isClaimed(0, alice).call() is False


def test_claims_never_exceed_the_declared_total(revealed: Chain) -> None:
    # Prepare: the tree promises 10 + 20 but the aggregator declared only 15
    alice, bob = revealed.actors.alice, revealed.actors.bob
    revealed.travel_to_next(revealed.reveal_deadline + 1)
    revealed.send(revealed.finalize_fn(total=15 * TOKEN), revealed.actors.aggregator)
    revealed.travel_to_next(revealed.claimable_at())
    revealed.send(_claim(revealed, alice), alice)

    # Execute
    error = revealed.revert_of(_claim(revealed, bob), bob)

    # Assert
    assert error == ("RegistryRewardExhausted", (0, 20 * TOKEN, 5 * TOKEN))
    assert revealed.round_info(0)["claimedReward"] == 10 * TOKEN
    assert revealed.token.functions.balanceOf(bob).call() == 0


def test_challenge_freezes_claims(finalized: Chain) -> None:
    # Prepare
    carol, alice = finalized.actors.carol, finalized.actors.alice
    finalized.send(finalized.token.functions.mint(carol, 50 * TOKEN), finalized.actors.admin)
    finalized.send(finalized.token.functions.approve(finalized.registry.address, 50 * TOKEN), carol)
    finalized.send(finalized.registry.functions.challenge(0, EVIDENCE_CID), carol)
    finalized.travel_to_next(finalized.claimable_at())

    # Execute
    error = finalized.revert_of(_claim(finalized, alice), alice)

    # Assert
    assert error == ("RegistryClaimsFrozen", (0,))
    assert finalized.registry.functions.isClaimed(0, alice).call() is False


def test_claim_without_minter_role_changes_nothing(claimable: Chain) -> None:
    # Prepare
    alice = claimable.actors.alice
    claimable.send(claimable.token.functions.revokeRole(claimable.minter_role,
                                                        claimable.registry.address),
                   claimable.actors.admin)

    # Execute
    error = claimable.revert_of(_claim(claimable, alice), alice)

    # Assert
    assert error == ("AccessControlUnauthorizedAccount",
                     (claimable.registry.address, claimable.minter_role))
    assert claimable.registry.functions.isClaimed(0, alice).call() is False
    assert claimable.round_info(0)["claimedReward"] == 0


def test_claims_from_a_larger_standard_merkle_tree(revealed: Chain) -> None:
    # Prepare: seven leaves built by ledger.merkle (the aggregator's tree), some for non-members
    accounts = list(revealed.w3.eth.accounts[:7])
    amounts = [(i + 1) * TOKEN for i in range(7)]
    tree = StandardMerkleTree.of([[a, 0, m] for a, m in zip(accounts, amounts, strict=True)],
                                 LEAF_TYPES)
    revealed.travel_to_next(revealed.reveal_deadline + 1)
    revealed.send(revealed.finalize_fn(total=sum(amounts), root=tree.root_bytes),
                  revealed.actors.aggregator)
    revealed.travel_to_next(revealed.claimable_at())
    before = [revealed.token.functions.balanceOf(a).call() for a in accounts]

    # Execute
    for index, (account, amount) in enumerate(zip(accounts, amounts, strict=True)):
        proof = [bytes.fromhex(node[2:]) for node in tree.get_proof(index)]
        revealed.send(revealed.registry.functions.claim(0, account, amount, proof),
                      revealed.actors.outsider)

    # Assert
    after = [revealed.token.functions.balanceOf(a).call() for a in accounts]
    assert [b - a for a, b in zip(before, after, strict=True)] == amounts
    assert revealed.round_info(0)["claimedReward"] == sum(amounts)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amount=st.integers(min_value=0, max_value=2**256 - 1))
def test_no_amount_but_the_leaf_amount_is_accepted(claimable: Chain, amount: int) -> None:
    # Prepare
    alice = claimable.actors.alice
    true_amount = claimable.tree_amounts[alice]

    # Execute
    error = None if amount == true_amount else claimable.revert_of(
        _claim(claimable, alice, amount=amount), alice)

    # Assert
    assert amount == true_amount or error == ("RegistryInvalidProof", (0, alice, amount))
