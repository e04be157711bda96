"""The challenge flow end to end on a governed network: the audit as evidence, the bond from
the auditor, claims frozen, and the consortium's resolution (by proposal, vote, timelock and
execution); plus every refusal `submit_challenge` names before any gas is spent."""

from __future__ import annotations

import json

import pytest

from ledger.audit import Auditor, AuditReport, Verdict
from ledger.audit import findings as F
from ledger.audit.challenge import ChallengeRefused, submit_challenge
from ledger.audit.result import ChallengeView
from ledger.contracts.registry import RoundStatus
from ledger.errors import ContractRevert
from tests.ledger.audit.lying_aggregator import (
    AGGREGATOR_BOND,
    PARAMS,
    History,
    LyingAggregator,
    Published,
)
from tests.ledger.audit.test_verifier import RULES

BOND = PARAMS.challenge_bond


def lie(history: History) -> tuple[Published, AuditReport]:
    """Round 0 finalized with a doubled model; the auditor's report of it."""
    liar = LyingAggregator(history)
    published = liar.finalize(model_vector=liar.outcome().new_vector * 2)
    return published, Auditor(history.network, history.store, RULES).audit()


def owed_to(published: Published, history: History, index: int) -> int:
    who = history.honest[index].signer.address
    return next(s.reward for s in published.report.submissions if s.participant == who)


def test_a_challenge_stores_the_audit_as_evidence_moves_the_bond_and_freezes_claims(
        history: History) -> None:
    # Prepare
    published, report = lie(history)
    registry, token = history.network.registry, history.network.token

    # Execute
    done = submit_challenge(history.network, history.store, history.auditor, report, 0)

    # Assert
    assert (done.round, done.bond) == (0, BOND)
    stored = history.store.get_bytes(done.evidence_cid)
    assert stored == report.to_json_bytes()
    assert AuditReport.from_json(json.loads(stored)).round(0).codes() == [F.MODEL_RECOMPUTED]
    [event] = registry.events_round_challenged(round=0)
    assert (event.challenger, event.evidence_cid, event.bond) == (
        history.auditor.address, done.evidence_cid, BOND)
    assert registry.round_info(0).status is RoundStatus.CHALLENGED
    assert token.balance_of(history.auditor.address) == 0
    with pytest.raises(ContractRevert) as frozen:
        LyingAggregator(history).claim(published, history.honest[0].signer,
                                       owed_to(published, history, 0))
    assert (frozen.value.error_name, frozen.value.error_args) == ("RegistryClaimsFrozen", (0,))
    assert token.balance_of(history.honest[0].signer.address) == 0


def test_an_upheld_challenge_reopens_the_round_pays_the_auditor_and_the_redo_verifies(
        history: History) -> None:
    # Prepare
    _, report = lie(history)
    registry, token = history.network.registry, history.network.token
    submit_challenge(history.network, history.store, history.auditor, report, 0)

    # Execute: the consortium upholds it; the aggregator re-posts its slashed bond and
    # finalizes round 0 again, honestly.
    history.resolve(upheld=True)
    reopened = registry.round_info(0).status
    slashed_to = registry.aggregator_bond_of(history.aggregator.address)
    token.approve(registry.address, AGGREGATOR_BOND, sender=history.aggregator)
    registry.post_aggregator_bond(AGGREGATOR_BOND, sender=history.aggregator)
    redo = LyingAggregator(history).finalize()
    again = Auditor(history.network, history.store, RULES).audit()

    # Assert: bond back plus half the aggregator's slashed bond; the redo verifies and pays.
    assert reopened is RoundStatus.OPEN
    assert [(e.round, e.upheld) for e in registry.events_challenge_resolved()] == [(0, True)]
    assert token.balance_of(history.auditor.address) == BOND + AGGREGATOR_BOND // 2
    assert slashed_to == 0
    assert (again.verdict, again.round(0).status) == (Verdict.VERIFIED, "finalized")
    assert (again.round(0).finalizations, again.round(0).challenges) == (2, (ChallengeView(
        history.auditor.address, registry.events_round_challenged(round=0)[0].evidence_cid,
        BOND, "upheld"),))
    assert again.round(0).new_model_hash == "0x" + redo.report.new_model_hash.hex()
    LyingAggregator(history).claim(redo, history.honest[0].signer, owed_to(redo, history, 0))
    assert token.balance_of(history.honest[0].signer.address) == owed_to(redo, history, 0)


def test_a_rejected_challenge_forfeits_the_bond_and_claims_resume(history: History) -> None:
    # Prepare
    published, report = lie(history)
    registry, token = history.network.registry, history.network.token
    submit_challenge(history.network, history.store, history.auditor, report, 0)
    treasury = registry.treasury()

    # Execute
    history.resolve(upheld=False)

    # Assert
    assert registry.round_info(0).status is RoundStatus.FINALIZED
    assert (token.balance_of(history.auditor.address), registry.treasury()) == (0, treasury + BOND)
    LyingAggregator(history).claim(published, history.honest[1].signer,
                                   owed_to(published, history, 1))
    assert token.balance_of(history.honest[1].signer.address) == owed_to(published, history, 1)


def test_a_verified_round_is_not_challenged(history: History) -> None:
    # Prepare
    LyingAggregator(history).finalize()
    report = Auditor(history.network, history.store, RULES).audit()

    # Execute / Assert
    with pytest.raises(ChallengeRefused, match="round 0 audited verified: only a mismatch"):
        submit_challenge(history.network, history.store, history.auditor, report, 0)
    assert history.network.registry.events_round_challenged(round=0) == []


def test_a_challenge_after_the_window_is_refused(history: History) -> None:
    # Prepare
    _, report = lie(history)
    closes = history.network.registry.round_info(0).claimable_at
    history.backend.mine(closes + 1)

    # Execute / Assert
    with pytest.raises(ChallengeRefused, match=f"challenge window closed at {closes}"):
        submit_challenge(history.network, history.store, history.auditor, report, 0)
    assert history.network.registry.round_info(0).status is RoundStatus.FINALIZED


def test_an_account_without_the_auditor_role_is_refused(history: History) -> None:
    # Prepare: the accomplice is neither a participant nor an auditor.
    _, report = lie(history)

    # Execute / Assert
    with pytest.raises(ChallengeRefused, match="neither an active participant nor holds "
                                               "AUDITOR_ROLE"):
        submit_challenge(history.network, history.store, history.accomplice, report, 0)


def test_an_auditor_without_the_bond_is_refused(history: History) -> None:
    # Prepare: the auditor has spent all but one base unit of its bond money.
    _, report = lie(history)
    history.network.token.transfer(history.accomplice.address, BOND - 1, sender=history.auditor)

    # Execute / Assert
    with pytest.raises(ChallengeRefused, match=f"the challenge bond is {BOND} base units, "
                                               f"{history.auditor.address} holds 1"):
        submit_challenge(history.network, history.store, history.auditor, report, 0)
    assert history.network.registry.events_round_challenged(round=0) == []
