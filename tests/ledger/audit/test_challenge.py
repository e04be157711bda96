"""`submit_challenge`: the audit as evidence, the bond from the auditor, claims frozen; and
every refusal named before any gas is spent."""

from __future__ import annotations

import json

import pytest

from ledger.audit import AuditReport, Auditor, Verdict
from ledger.audit.challenge import ChallengeRefused, submit_challenge
from ledger.contracts.registry import AUDITOR_ROLE, RoundStatus
from ledger.contracts.token import MINTER_ROLE
from ledger.errors import ContractRevert
from ledger.keys import Signer
from tests.ledger.audit.lying_aggregator import History, LyingAggregator, Published
from tests.ledger.audit.test_verifier import RULES


def lie(history: History) -> tuple[Published, AuditReport]:
    liar = LyingAggregator(history)
    published = liar.finalize(model_vector=liar.outcome().new_vector * 2)
    return published, Auditor(history.network, history.store, RULES).audit()


def arm(history: History, signer: Signer, *, role: bool = True, tokens: int | None = None) -> int:
    """Give `signer` the auditor role and `tokens` (default: the bond); return the bond."""
    registry, token, admin = history.network.registry, history.network.token, history.admin
    bond = registry.parameters().challenge_bond
    if role:
        registry.grant_role(AUDITOR_ROLE, signer.address, sender=admin)
    token.grant_role(MINTER_ROLE, admin.address, sender=admin)
    token.mint(signer.address, bond if tokens is None else tokens, sender=admin)
    return bond


def test_a_mismatch_is_challenged_with_the_audit_as_evidence_and_claims_freeze(
        history: History) -> None:
    # Prepare
    published, report = lie(history)
    bond = arm(history, history.auditor)
    registry, token = history.network.registry, history.network.token

    # Execute
    done = submit_challenge(history.network, history.store, history.auditor, report, 0)

    # Assert
    assert (done.round, done.bond) == (0, bond)
    stored = history.store.get_bytes(done.evidence_cid)
    assert stored == report.to_json_bytes()
    assert AuditReport.from_json(json.loads(stored)).round(0).verdict is Verdict.MISMATCH
    [event] = registry.events_round_challenged(round=0)
    assert (event.challenger, event.evidence_cid, event.bond) == (
        history.auditor.address, done.evidence_cid, bond)
    assert registry.round_info(0).status is RoundStatus.CHALLENGED
    assert token.balance_of(history.auditor.address) == 0
    winner = history.honest[0].signer
    owed = next(s.reward for s in published.report.submissions if s.participant == winner.address)
    with pytest.raises(ContractRevert) as frozen:
        LyingAggregator(history).claim(published, winner, owed)
    assert (frozen.value.error_name, frozen.value.error_args) == ("RegistryClaimsFrozen", (0,))
    assert token.balance_of(winner.address) == 0


def test_a_verified_round_is_not_challenged(history: History) -> None:
    # Prepare
    LyingAggregator(history).finalize()
    report = Auditor(history.network, history.store, RULES).audit()
    arm(history, history.auditor)

    # Execute / Assert
    with pytest.raises(ChallengeRefused, match="round 0 audited verified: only a mismatch"):
        submit_challenge(history.network, history.store, history.auditor, report, 0)
    assert history.network.registry.events_round_challenged(round=0) == []


def test_a_challenge_after_the_window_is_refused(history: History) -> None:
    # Prepare
    _, report = lie(history)
    arm(history, history.auditor)
    closes = history.network.registry.round_info(0).claimable_at
    history.backend.mine(closes + 1)

    # Execute / Assert
    with pytest.raises(ChallengeRefused, match=f"challenge window closed at {closes}"):
        submit_challenge(history.network, history.store, history.auditor, report, 0)
    assert history.network.registry.round_info(0).status is RoundStatus.FINALIZED


def test_an_account_without_the_auditor_role_is_refused(history: History) -> None:
    # Prepare: the accomplice is neither a participant nor an auditor.
    _, report = lie(history)
    arm(history, history.accomplice, role=False)

    # Execute / Assert
    with pytest.raises(ChallengeRefused, match="neither an active participant nor holds "
                                               "AUDITOR_ROLE"):
        submit_challenge(history.network, history.store, history.accomplice, report, 0)


def test_an_auditor_without_the_bond_is_refused(history: History) -> None:
    # Prepare
    _, report = lie(history)
    bond = arm(history, history.auditor, tokens=1)

    # Execute / Assert
    with pytest.raises(ChallengeRefused, match=f"the challenge bond is {bond} base units, "
                                               f"{history.auditor.address} holds 1"):
        submit_challenge(history.network, history.store, history.auditor, report, 0)
    assert history.network.registry.events_round_challenged(round=0) == []
