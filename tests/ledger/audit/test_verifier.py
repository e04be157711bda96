"""Tamper tests: one lie per test, on a real chain, and the auditor must name exactly it.

Round 0 is played once (conftest `history`, `build_history`) up to the end of its reveal window;
each test reverts the chain to that point and lets `LyingAggregator` finalize it with one
lie. The assertions pin the finding codes (and who they name), so an auditor that reports
the right verdict for the wrong reason fails.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from eth_utils.crypto import keccak

from aggregator.rewards import allocate_rewards
from aggregator.round_compute import compute_round
from ledger.audit import Auditor, AuditRules, Verdict
from ledger.audit import findings as F
from ledger.formats.update import decode_update
from ledger.store.disk import DiskStore
from ledger.submissions import SubmissionCheck
from tests.ledger.audit.lying_aggregator import (
    POOL,
    TOKEN,
    History,
    LyingAggregator,
    reallocate,
)

RULES = AuditRules(compute_round=compute_round, allocate_rewards=allocate_rewards)


def audit(h: History, store: DiskStore | None = None):  # type: ignore[no-untyped-def]
    report = Auditor(h.network, store or h.store, RULES).audit()  # type: ignore[arg-type]
    return report, report.round(0)


def test_an_honest_round_with_claims_verifies(history: History) -> None:
    # Prepare
    liar = LyingAggregator(history)
    published = liar.finalize()
    paid = {s.participant: s.reward for s in published.report.submissions if s.reward}
    first = history.honest[0].signer
    liar.claim(published, first, paid[first.address])

    # Execute
    report, r0 = audit(history)

    # Assert
    assert (report.verdict, r0.verdict, r0.findings) == (Verdict.VERIFIED, Verdict.VERIFIED, ())
    assert sum(paid.values()) == POOL and len(paid) == 4
    assert [(c.account, c.amount) for c in r0.claims] == [(first.address, paid[first.address])]
    forger = next(s for s in r0.submissions if s.participant == history.forger.signer.address)
    assert (forger.accepted, forger.verification) == (False, "signature.signer")
    assert (r0.accuracy, r0.loss, r0.accepted, r0.rejected) == (0.6125, 1.25, 4, 1)


def test_wrong_model_hash_is_named(history: History) -> None:
    # Prepare: the published model is not what the rule gives.
    liar = LyingAggregator(history)
    honest = liar.outcome()
    liar.finalize(honest, model_vector=honest.new_vector + torch.full_like(honest.new_vector,
                                                                           1e-3))

    # Execute
    report, r0 = audit(history)

    # Assert
    assert report.verdict is Verdict.MISMATCH
    assert r0.codes() == [F.MODEL_RECOMPUTED]


def test_a_dropped_honest_update_is_named(history: History) -> None:
    # Prepare
    liar = LyingAggregator(history)
    victim = history.honest[1].signer.address
    liar.finalize(liar.outcome([c for c in liar.honest_checks()
                                if c.submission.participant != victim]))

    # Execute
    _, r0 = audit(history)

    # Assert
    assert r0.verdict is Verdict.MISMATCH
    assert r0.codes()[0] == F.SUBMISSION_OMITTED
    # Consequences: the other scores (against a different aggregate), the model, the root.
    assert set(r0.codes()[1:]) == {F.SUBMISSION_SCORE, F.MODEL_RECOMPUTED, F.REWARDS_ROOT}
    assert r0.findings[0].participant == victim
    assert r0.findings[0].message == f"the report omits the revealed update of {victim}"


@pytest.mark.parametrize("who", ["unrevealed", "late"])
def test_an_included_unrevealed_or_late_update_is_named(history: History, who: str) -> None:
    # Prepare: the aggregator aggregates an update that has no reveal on chain.
    liar = LyingAggregator(history)
    extra = getattr(history, who)
    assert liar.check(extra).ok
    liar.finalize(liar.outcome([*liar.honest_checks(), liar.check(extra)]))

    # Execute
    _, r0 = audit(history)

    # Assert
    assert r0.verdict is Verdict.MISMATCH
    first = r0.findings[0]
    assert (first.code, first.participant) == (F.SUBMISSION_UNREVEALED, extra.signer.address)
    assert "has no reveal on chain" in first.message
    # Consequences: honest scores against a different aggregate, the model, the root.
    assert set(r0.codes()) == {F.SUBMISSION_UNREVEALED, F.SUBMISSION_SCORE, F.MODEL_RECOMPUTED,
                               F.REWARDS_ROOT}


def test_altered_scores_are_named(history: History) -> None:
    # Prepare: one score inflated, rewards re-allocated consistently from the lie.
    liar = LyingAggregator(history)
    target = history.honest[2].signer.address

    def inflate(subs):  # type: ignore[no-untyped-def]
        return reallocate(tuple(replace(s, score=s.score + 50_000) if s.participant == target
                                else s for s in subs))

    liar.finalize(submissions=inflate)

    # Execute
    _, r0 = audit(history)

    # Assert: the score is the lie; rewards follow the published scores, so only the root
    # (computed from the true scores) disagrees as a consequence.
    assert r0.codes() == [F.SUBMISSION_SCORE, F.REWARDS_ROOT]
    assert r0.findings[0].participant == target
    assert "(tolerance 2)" in r0.findings[0].message


def test_rewards_that_do_not_follow_the_scores_are_named(history: History) -> None:
    # Prepare: one token moved from one honest participant to another.
    liar = LyingAggregator(history)
    loser, winner = history.honest[0].signer.address, history.honest[3].signer.address

    def skew(subs):  # type: ignore[no-untyped-def]
        return tuple(replace(s, reward=s.reward - TOKEN) if s.participant == loser else
                     replace(s, reward=s.reward + TOKEN) if s.participant == winner else s
                     for s in subs)

    published = liar.finalize(submissions=skew)

    # Execute
    _, r0 = audit(history)

    # Assert
    assert r0.codes() == [F.SUBMISSION_REWARD, F.SUBMISSION_REWARD, F.REWARDS_ROOT]
    assert {f.participant for f in r0.findings[:2]} == {loser, winner}
    owed = {s.participant: s.reward for s in published.report.submissions}
    assert f"reward {owed[loser]} published, {owed[loser] + TOKEN} owed" in (
        next(f.message for f in r0.findings if f.participant == loser))


def test_a_report_whose_bytes_do_not_match_its_hash_is_named(history: History) -> None:
    # Prepare
    liar = LyingAggregator(history)
    published = liar.finalize(report_hash=keccak(b"some other report"))

    # Execute
    _, r0 = audit(history)

    # Assert: the model and rewards still verify; only the report is named.
    assert r0.codes() == [F.REPORT_HASH]
    assert published.report_cid in r0.findings[0].message
    assert r0.submissions == ()


def test_a_missing_update_makes_the_round_unverifiable(history: History, tmp_path: Path) -> None:
    # Prepare: an honest round, audited against a copy of the store that lost one update.
    liar = LyingAggregator(history)
    liar.finalize()
    copy = tmp_path / "store"
    shutil.copytree(Path(history.store.root), copy)  # type: ignore[attr-defined]
    store = DiskStore(copy)
    victim = history.honest[2]
    store.unpin(victim.update_cid)
    store.gc()
    assert not store.has(victim.update_cid)

    # Execute
    report, r0 = audit(history, store)

    # Assert
    assert (report.verdict, r0.verdict) == (Verdict.UNVERIFIABLE, Verdict.UNVERIFIABLE)
    assert r0.codes() == [F.CONTENT_MISSING]
    assert r0.findings[0].participant == victim.signer.address
    assert victim.update_cid in r0.findings[0].message


def test_a_forged_proof_signature_accepted_by_the_aggregator_is_named(history: History) -> None:
    # Prepare: the aggregator treats the forger's update as verified.
    liar = LyingAggregator(history)
    checks = liar.honest_checks()
    forged = next(c for c in checks if c.submission.participant == history.forger.signer.address)
    assert forged.code == "signature.signer"
    data = history.store.get_bytes(history.forger.update_cid)
    decoded = decode_update(data, history.task.layout, expected_round=0,
                            expected_base_hash=history.base_hash,
                            expected_participant=history.forger.signer.address,
                            max_norm=history.task.update_norm_bound)
    lied = [SubmissionCheck(c.submission, "ok", "", decoded.vector) if c is forged else c
            for c in checks]
    liar.finalize(liar.outcome(lied))

    # Execute
    _, r0 = audit(history)

    # Assert
    [first] = [f for f in r0.findings if f.code == F.SUBMISSION_VERIFICATION]
    assert first.participant == history.forger.signer.address
    assert "the report says verification=ok accepted=True" in first.message
    assert "verification=signature.signer" in first.message
    assert set(r0.codes()) == {F.SUBMISSION_VERIFICATION, F.SUBMISSION_SCORE,
                               F.MODEL_RECOMPUTED, F.REWARDS_ROOT}


def test_a_claim_paid_that_is_not_in_the_tree_is_named(history: History) -> None:
    # Prepare: the chain's root carries an extra leaf for an accomplice, who claims it.
    liar = LyingAggregator(history)
    accomplice = history.accomplice

    def extra_leaf(leaves):  # type: ignore[no-untyped-def]
        return [*leaves, (accomplice.address, 0, 5 * TOKEN)]

    published = liar.finalize(chain_leaves=extra_leaf)
    liar.claim(published, accomplice, 5 * TOKEN)

    # Execute
    _, r0 = audit(history)

    # Assert
    assert r0.codes() == [F.REPORT_CHAIN, F.REWARDS_ROOT, F.CLAIM_NOT_IN_TREE]
    claim = r0.findings[2]
    assert claim.participant == accomplice.address
    assert claim.message.startswith(f"{accomplice.address} was paid {5 * TOKEN} in round 0")
    assert [(c.account, c.amount) for c in r0.claims] == [(accomplice.address, 5 * TOKEN)]
    assert history.network.token.balance_of(accomplice.address) == 5 * TOKEN
