"""Bad-input matrix for the chain: replays, wrong rounds, early and late calls, double claims,
forged Merkle proofs; each refused with its exact custom error, and nothing else changed.

Every case is *sent* as a real transaction (not only simulated), so the test can show that a
refused call leaves no trace: the registry's record of every round touched, every account's
balance and stake, the claim flags and the total supply are the same before and after. Access
control (unauthorized callers on every mutating function) is in `test_unauthorized.py`; the
stage fixtures are those of `scenario.py`. docs/bad-input.md lists every case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account import Account
from eth_utils.crypto import keccak
from eth_utils.exceptions import ValidationError
from web3.contract.contract import ContractFunction

from tests.contracts.scenario import (
    GAS,
    MODEL0_CID,
    MODEL0_HASH,
    TOKEN,
    Chain,
    reward_leaf,
)

Call = Callable[[Chain], tuple[ContractFunction, str]]
Expected = Callable[[Chain], tuple[str, tuple[Any, ...]]]


def state_of(chain: Chain) -> tuple[Any, ...]:
    """What a refused call could have changed, in a few reads (eth-tester calls are slow).

    The round record holds the counts, result and claimed total; the registry's token balance
    moves with every stake, bond and claim; the supply with every mint; the treasury with every
    slash or forfeited bond; `nextRound` with every opened round.
    """
    registry, token = chain.registry.functions, chain.token.functions
    return (registry.round(0).call(), registry.nextRound().call(), token.totalSupply().call(),
            token.balanceOf(chain.registry.address).call(), registry.treasury().call())


@dataclass(frozen=True)
class Case:
    name: str
    stage: str
    call: Call
    expected: Expected
    at: Callable[[Chain], int] | None = None  # the next block's timestamp, when it matters


def _claim(account_of: Callable[[Chain], str], amount: Callable[[Chain, str], int],
           proof: Callable[[Chain, str], list[bytes]],
           round_id: int = 0) -> Call:
    def call(chain: Chain) -> tuple[ContractFunction, str]:
        account = account_of(chain)
        return (chain.registry.functions.claim(round_id, account, amount(chain, account),
                                               proof(chain, account)), chain.actors.outsider)
    return call


def _amount(chain: Chain, account: str) -> int:
    return chain.tree_amounts[account]


def _proof(chain: Chain, account: str) -> list[bytes]:
    return chain.proof_for(account)


CASES = [
    # -- wrong round ------------------------------------------------------------------------
    Case("commit to a round that is not open", "open",
         lambda c: (c.commit_fn(c.actors.alice, round_id=1), c.actors.alice),
         lambda c: ("RegistryUnexpectedStatus", (1, 0))),
    Case("reveal in another round than committed", "committed",
         lambda c: (c.reveal_fn(c.actors.alice, round_id=1), c.actors.alice),
         lambda c: ("RegistryUnexpectedStatus", (1, 0)), at=lambda c: c.commit_deadline + 1),
    Case("open a round out of order", "finalized",
         lambda c: (c.registry.functions.openRound(2, MODEL0_CID, MODEL0_HASH, c.now + 100,
                                                   c.now + 200), c.actors.aggregator),
         lambda c: ("RegistryUnexpectedRound", (2, 1))),
    Case("finalize a round never opened", "revealed",
         lambda c: (c.finalize_fn(round_id=1), c.actors.aggregator),
         lambda c: ("RegistryUnexpectedStatus", (1, 0)), at=lambda c: c.reveal_deadline + 1),
    Case("claim a round's leaf in another round", "claimable",
         _claim(lambda c: c.actors.alice, _amount, _proof, round_id=1),
         lambda c: ("RegistryUnexpectedStatus", (1, 0))),
    # -- early and late ---------------------------------------------------------------------
    Case("commit after the commit deadline", "open",
         lambda c: (c.commit_fn(c.actors.alice), c.actors.alice),
         lambda c: ("RegistryCommitClosed", (0, c.commit_deadline)),
         at=lambda c: c.commit_deadline + 1),
    Case("reveal before the commit deadline", "committed",
         lambda c: (c.reveal_fn(c.actors.alice), c.actors.alice),
         lambda c: ("RegistryRevealNotOpen", (0, c.commit_deadline))),
    Case("reveal an update CID longer than any real CID", "committed",
         lambda c: (c.reveal_fn(c.actors.alice, update_cid="b" + "a" * 5000), c.actors.alice),
         lambda c: ("RegistryCIDTooLong", (5001, 128)), at=lambda c: c.commit_deadline + 1),
    Case("reveal a proof CID longer than any real CID", "committed",
         lambda c: (c.reveal_fn(c.actors.alice, proof_cid="b" + "a" * 128), c.actors.alice),
         lambda c: ("RegistryCIDTooLong", (129, 128)), at=lambda c: c.commit_deadline + 1),
    Case("reveal after the reveal deadline", "committed",
         lambda c: (c.reveal_fn(c.actors.alice), c.actors.alice),
         lambda c: ("RegistryRevealClosed", (0, c.reveal_deadline)),
         at=lambda c: c.reveal_deadline + 1),
    Case("finalize before the reveal deadline", "revealed",
         lambda c: (c.finalize_fn(), c.actors.aggregator),
         lambda c: ("RegistryRevealNotOver", (0, c.reveal_deadline)),
         at=lambda c: c.reveal_deadline),
    Case("claim inside the challenge window", "finalized",
         _claim(lambda c: c.actors.alice, _amount, _proof),
         lambda c: ("RegistryClaimNotOpen", (0, c.claimable_at()))),
    Case("challenge after the window", "claimable",
         lambda c: (c.registry.functions.challenge(0, "bafkreievidence"), c.actors.auditor),
         lambda c: ("RegistryChallengeWindowClosed", (0, c.claimable_at()))),
    Case("open a round with a commit deadline in the past", "members",
         lambda c: (c.registry.functions.openRound(0, MODEL0_CID, MODEL0_HASH, c.now - 10,
                                                   c.now + 100), c.actors.aggregator),
         lambda c: ("RegistryInvalidDeadlines", (c.now - 10, c.now + 100, c.now + 1))),
    Case("open a round whose reveal deadline precedes its commit deadline", "members",
         lambda c: (c.registry.functions.openRound(0, MODEL0_CID, MODEL0_HASH, c.now + 100,
                                                   c.now + 100), c.actors.aggregator),
         lambda c: ("RegistryInvalidDeadlines", (c.now + 100, c.now + 100, c.now + 1))),
    # -- replays ------------------------------------------------------------------------------
    Case("replayed commit", "committed",
         lambda c: (c.commit_fn(c.actors.alice), c.actors.alice),
         lambda c: ("RegistryAlreadyCommitted", (0, c.actors.alice))),
    Case("replayed reveal", "revealed",
         lambda c: (c.reveal_fn(c.actors.alice), c.actors.alice),
         lambda c: ("RegistryAlreadyRevealed", (0, c.actors.alice))),
    Case("replayed finalize", "finalized",
         lambda c: (c.finalize_fn(), c.actors.aggregator),
         lambda c: ("RegistryUnexpectedStatus", (0, 2))),
    Case("double claim", "claimed",
         _claim(lambda c: c.actors.alice, _amount, _proof),
         lambda c: ("RegistryAlreadyClaimed", (0, c.actors.alice))),
    Case("reveal without commit", "committed",
         lambda c: (c.reveal_fn(c.actors.carol), c.actors.carol),
         lambda c: ("RegistryNotCommitted", (0, c.actors.carol)),
         at=lambda c: c.commit_deadline + 1),
    Case("reveal someone else's commitment (copied)", "committed",
         lambda c: (c.reveal_fn(c.actors.alice), c.actors.bob),
         lambda c: ("RegistryCommitmentMismatch", (0, c.actors.bob)),
         at=lambda c: c.commit_deadline + 1),
    # -- forged Merkle proofs -----------------------------------------------------------------
    Case("claim a larger amount than the leaf", "claimable",
         _claim(lambda c: c.actors.alice, lambda c, a: _amount(c, a) + 1, _proof),
         lambda c: ("RegistryInvalidProof", (0, c.actors.alice, 10 * TOKEN + 1))),
    Case("claim another account's leaf for oneself", "claimable",
         _claim(lambda c: c.actors.carol, lambda c, a: 10 * TOKEN,
                lambda c, a: c.proof_for(c.actors.alice)),
         lambda c: ("RegistryInvalidProof", (0, c.actors.carol, 10 * TOKEN))),
    Case("claim with an empty proof", "claimable",
         _claim(lambda c: c.actors.alice, _amount, lambda c, a: []),
         lambda c: ("RegistryInvalidProof", (0, c.actors.alice, 10 * TOKEN))),
    Case("claim with the root itself as the leaf (second-preimage)", "claimable",
         _claim(lambda c: c.actors.alice, _amount,
                lambda c, a: [reward_leaf(c.actors.bob, 0, 20 * TOKEN), keccak(b"junk")]),
         lambda c: ("RegistryInvalidProof", (0, c.actors.alice, 10 * TOKEN))),
]


def _claimed(chain: Chain) -> None:
    """Stage: alice has claimed her round-0 reward."""
    chain.at("claimable")
    chain.send(chain.registry.functions.claim(0, chain.actors.alice, 10 * TOKEN,
                                              chain.proof_for(chain.actors.alice)),
               chain.actors.alice)


@pytest.fixture
def at_stage(deployed: Chain) -> Callable[[str], Chain]:
    def build(stage: str) -> Chain:
        if stage == "claimed":
            _claimed(deployed)
            return deployed
        return deployed.at(stage)
    return build


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_refused_call_names_the_problem_and_changes_nothing(
    at_stage: Callable[[str], Chain], case: Case
) -> None:
    # Prepare
    chain = at_stage(case.stage)
    if case.at is not None:
        chain.travel_to_next(case.at(chain))
    fn, sender = case.call(chain)
    expected = case.expected(chain)
    refused = chain.revert_of(fn, sender)
    before = state_of(chain)

    # Execute: the transaction itself, mined
    tx = chain.w3.eth.get_transaction_receipt(fn.transact({"from": sender, "gas": GAS}))

    # Assert
    assert refused == expected
    assert (tx["status"], tx["logs"]) == (0, [])
    assert state_of(chain) == before


def test_replayed_signed_transaction_is_refused_by_the_chain(deployed: Chain) -> None:
    # Prepare: alice signs her commit herself (eth-tester's dev key 4 is alice)
    chain = deployed.at("open")
    key = Account.from_key((4).to_bytes(32, "big"))
    assert key.address == chain.actors.alice
    tx = chain.commit_fn(chain.actors.alice).build_transaction({
        "from": key.address, "gas": GAS,
        "nonce": chain.w3.eth.get_transaction_count(key.address),
        "chainId": chain.w3.eth.chain_id,
    })
    raw = key.sign_transaction(tx).raw_transaction
    receipt = chain.w3.eth.get_transaction_receipt(chain.w3.eth.send_raw_transaction(raw))
    assert receipt["status"] == 1
    before = state_of(chain)

    # Execute
    with pytest.raises(ValidationError) as caught:
        chain.w3.eth.send_raw_transaction(raw)

    # Assert
    nonce = tx["nonce"]
    assert str(caught.value) == f"Invalid transaction nonce: Expected {nonce + 1}, but got {nonce}"
    assert state_of(chain) == before
