"""The audit's JSON form: stable, complete, and read back to the same report."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from ledger.audit import findings as F
from ledger.audit.findings import Verdict, unverifiable
from ledger.audit.result import AuditReport, RoundAudit
from ledger.errors import FormatError
from tests.ledger.audit.sample_reports import ALICE, TOKEN, sample_report


def test_json_round_trips_to_an_equal_report() -> None:
    # Prepare
    report = sample_report()

    # Execute
    again = AuditReport.from_json(json.loads(report.to_json_bytes()))

    # Assert
    assert again == report
    assert again.to_json_bytes() == report.to_json_bytes()


def test_json_has_the_documented_shape() -> None:
    # Execute
    document = json.loads(sample_report().to_json_bytes())

    # Assert
    assert sorted(document) == ["chain_id", "findings", "format", "head_block", "registry",
                                "rounds", "token", "verdict"]
    assert (document["format"], document["verdict"]) == ("fedledger-audit/1", "mismatch")
    r0 = document["rounds"][0]
    assert sorted(r0) == ["accepted", "accuracy", "challenges", "claimed", "claims",
                          "finalizations", "findings", "loss", "new_model_hash", "rejected",
                          "report_cid", "round", "status", "submissions", "total_reward",
                          "verdict"]
    assert (r0["total_reward"], r0["accepted"], r0["rejected"]) == (str(1_000 * TOKEN), 2, 1)
    assert r0["claims"] == [{"account": ALICE, "amount": str(600 * TOKEN),
                             "tx_hash": "0x" + "ab" * 32}]
    assert document["rounds"][1]["challenges"] == [{
        "challenger": ALICE, "evidence_cid": "bafkreievidence", "bond": str(5 * TOKEN),
        "outcome": "pending"}]
    assert document["rounds"][1]["findings"][0] == {
        "code": F.SUBMISSION_REWARD, "kind": "mismatch",
        "message": "<b>reward</b> 1 published, 2 owed",
        "participant": "0x00000000000000000000000000000000000000b2"}


def test_overall_verdict_ignores_pending_rounds_and_ranks_mismatch_over_gaps() -> None:
    # Prepare
    report = sample_report()
    verified, _mismatched, pending = report.rounds
    gap = RoundAudit(3, Verdict.UNVERIFIABLE, (unverifiable(F.CONTENT_MISSING, "gone"),))

    # Execute / Assert
    assert report.verdict is Verdict.MISMATCH
    assert replace(report, rounds=(verified, pending)).verdict is Verdict.VERIFIED
    assert replace(report, rounds=(verified, gap, pending)).verdict is Verdict.UNVERIFIABLE
    assert replace(report, rounds=(verified,),
                   findings=(unverifiable(F.CONTENT_MISSING, "task"),)).verdict \
        is Verdict.UNVERIFIABLE
    with pytest.raises(KeyError, match="round 9 was not audited"):
        report.round(9)


@pytest.mark.parametrize(("document", "message"), [
    ([], "not a fedledger-audit/1 document"),
    ({"format": "fedledger-audit/2"}, "not a fedledger-audit/1 document"),
    ({"format": "fedledger-audit/1", "rounds": []}, "malformed fedledger-audit/1 document"),
])
def test_malformed_documents_are_refused(document: object, message: str) -> None:
    # Execute / Assert
    with pytest.raises(FormatError, match=message):
        AuditReport.from_json(document)


def test_a_document_whose_verdict_contradicts_its_rounds_is_refused() -> None:
    # Prepare: a forged "verified" headline over a mismatched round.
    document = json.loads(sample_report().to_json_bytes())
    document["verdict"] = "verified"

    # Execute / Assert
    with pytest.raises(FormatError, match="verdict 'verified' does not follow from its rounds "
                                          r"\(mismatch\)"):
        AuditReport.from_json(document)
