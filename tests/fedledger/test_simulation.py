"""End to end: a network trains, pays honest work, refuses attackers, and audits clean."""

from __future__ import annotations

from dataclasses import replace

from eth_utils import keccak

from aggregator.round_compute import REASON_ZERO, RoundOutcome, compute_round
from ledger.audit.verifier import Auditor, Verdict
from ledger.formats.report import parse_report

from typing import Any as Run


def test_every_round_is_finalized_and_paid_exactly_the_pool(small_run: Run) -> None:
    # Prepare
    result = small_run.result
    registry, token = result.network.registry, result.network.token

    # Assert
    assert [r.round for r in result.rounds] == [0, 1]
    for done in result.rounds:
        info = registry.round_info(done.round)
        assert info.total_reward == result.task.reward_per_round == done.report.total_reward
        assert info.rewards_root == done.report.rewards_root
        data = small_run.store.get_bytes(done.report_cid)
        assert keccak(data) == info.report_hash
        assert parse_report(data) == done.report
    earned = {m.participant.address: m.earned for m in result.members}
    assert sum(earned.values()) == 2 * result.task.reward_per_round
    for address, amount in earned.items():
        assert token.balance_of(address) == amount


def test_attackers_earn_nothing_and_are_named_in_the_report(small_run: Run) -> None:
    # Prepare
    members = {m.participant.address: m for m in small_run.result.members}

    # Assert
    for done in small_run.result.rounds:
        for sub in done.report.submissions:
            member = members[sub.participant]
            if member.attack.name == "free-rider":
                assert (sub.accepted, sub.reason, sub.reward) == (False, REASON_ZERO, 0)
    # Free-riding is refused before the rule runs, so it never pays. (A sign-flipper can
    # still be selected by Multi-Krum in the first, near-random non-IID rounds of a
    # 6-participant net: a known weakness recorded in the issue notes, not asserted here.)
    for m in small_run.result.members:
        if m.attack.name == "free-rider":
            assert m.earned == 0


def test_the_audit_of_an_honest_history_verifies_every_round(small_run: Run) -> None:
    # Execute
    audit = Auditor(small_run.result.network, small_run.store, compute_round).audit()

    # Assert
    assert audit.verdict is Verdict.VERIFIED
    assert [(r.round, r.verdict, r.findings) for r in audit.rounds] == [
        (0, Verdict.VERIFIED, ()), (1, Verdict.VERIFIED, ())]


def test_the_audit_names_a_dropped_honest_update(small_run: Run) -> None:
    # Prepare: an auditor whose recomputation includes an update the aggregator would
    # have had to drop is equivalent to an aggregator that dropped it; we lie the other
    # way round, recomputing with the update removed, so the published report no longer
    # matches what the auditor derives.
    honest = next(m for m in small_run.result.members if m.attack.is_honest).participant.address

    def lying(task, base, checks, pool):  # type: ignore[no-untyped-def]
        return compute_round(task, base, [c for c in checks if c.submission.participant != honest],
                             pool)

    # Execute
    audit = Auditor(small_run.result.network, small_run.store, lying).audit()

    # Assert
    assert audit.verdict is Verdict.MISMATCH
    for r in audit.rounds:
        assert any("new model hash" in str(f) for f in r.findings)
        assert any("rewards root" in str(f) for f in r.findings)


def test_the_audit_names_rewards_that_do_not_follow_the_scores(small_run: Run) -> None:
    # Prepare: recomputation that pays everything to the first accepted participant.
    def skewed(task, base, checks, pool) -> RoundOutcome:  # type: ignore[no-untyped-def]
        out = compute_round(task, base, checks, pool)
        subs = list(out.submissions)
        first = next(i for i, s in enumerate(subs) if s.accepted)
        subs = [replace(s, reward=pool if i == first else 0) for i, s in enumerate(subs)]
        return replace(out, submissions=tuple(subs))

    # Execute
    audit = Auditor(small_run.result.network, small_run.store, skewed).audit()

    # Assert
    assert audit.verdict is Verdict.MISMATCH
    assert any("reward" in str(f) and "published" in str(f) for f in audit.rounds[0].findings)


def test_a_missing_update_makes_the_round_unverifiable_not_a_mismatch(small_run: Run) -> None:
    # Prepare: unpin one revealed update and collect garbage (runs last: it mutates the store).
    done = small_run.result.rounds[1]
    victim = done.report.submissions[0]
    small_run.store.unpin(victim.update_cid)
    small_run.store.gc()
    assert not small_run.store.has(victim.update_cid)

    # Execute
    audit = Auditor(small_run.result.network, small_run.store, compute_round).audit()

    # Assert
    assert audit.rounds[0].verdict is Verdict.VERIFIED
    assert audit.rounds[1].verdict is Verdict.UNVERIFIABLE
    assert victim.participant in str(audit.rounds[1].findings[0])
    assert audit.verdict is Verdict.UNVERIFIABLE
