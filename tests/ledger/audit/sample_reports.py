"""Hand-made audit reports for the presentation tests (no chain needed)."""

from __future__ import annotations

from ledger.audit import findings as F
from ledger.audit.findings import Verdict, mismatch, unverifiable
from ledger.audit.result import (
    AuditReport,
    ChallengeView,
    ClaimView,
    RoundAudit,
    SubmissionView,
)

ALICE = "0x00000000000000000000000000000000000000A1"
BOB = "0x00000000000000000000000000000000000000b2"
EVE = "0x00000000000000000000000000000000000000E5"
TOKEN = 10**18


def sample_report() -> AuditReport:
    """Round 0 verified, round 1 mismatched (hostile text in a reason), round 2 open."""
    r0 = RoundAudit(
        round=0, verdict=Verdict.VERIFIED, status="finalized", accuracy=0.5, loss=1.5,
        new_model_hash="0x" + "11" * 32, report_cid="bafkreiaaa", total_reward=1_000 * TOKEN,
        claimed=600 * TOKEN,
        submissions=(SubmissionView(ALICE, True, "ok", "", 900_000, 600 * TOKEN),
                     SubmissionView(BOB, True, "ok", "", 600_000, 400 * TOKEN),
                     SubmissionView(EVE, False, "signature.signer", "signed by 0xdead", 0, 0)),
        claims=(ClaimView(ALICE, 600 * TOKEN, "0x" + "ab" * 32),))
    r1 = RoundAudit(
        round=1, verdict=Verdict.MISMATCH, status="challenged", accuracy=0.75, loss=None,
        findings=(mismatch(F.SUBMISSION_REWARD, "<b>reward</b> 1 published, 2 owed", BOB),
                  unverifiable(F.CONTENT_MISSING, "proof bafkreixyz is not in the store", EVE)),
        new_model_hash="0x" + "22" * 32, report_cid="bafkreibbb", total_reward=1_000 * TOKEN,
        submissions=(SubmissionView(ALICE, True, "ok", "", 1, 1_000 * TOKEN),
                     SubmissionView(EVE, False, "ok", "<script>alert(1)</script>", 0, 0)),
        challenges=(ChallengeView(ALICE, "bafkreievidence", 5 * TOKEN, "pending"),))
    r2 = RoundAudit(round=2, verdict=Verdict.PENDING, status="open")
    return AuditReport(chain_id=31337, registry="0x" + "cd" * 20, token="0x" + "ef" * 20,
                       head_block=77, rounds=(r0, r1, r2))
