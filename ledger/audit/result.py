"""The audit's result as frozen records, and its JSON form (`fedledger-audit/1`).

The records carry, besides the verdicts, the history an outsider wants to read (accuracy
per round, every submission's fate, every claim paid), so the terminal view, the JSON
report and the HTML page all render the same object. The JSON schema is documented in
docs/audit.md; `from_json(to_json(x)) == x` holds, so a published audit can be read back
(the challenge flow stores it as evidence).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ledger.audit.findings import Finding, Verdict, verdict_of
from ledger.errors import FormatError

AUDIT_FORMAT = "fedledger-audit/1"


@dataclass(frozen=True)
class SubmissionView:
    """One submission as the published report states it (what the HTML page lists)."""

    participant: str
    accepted: bool
    verification: str
    reason: str
    score: int
    reward: int

    def to_json(self) -> dict[str, Any]:
        return {"participant": self.participant, "accepted": self.accepted,
                "verification": self.verification, "reason": self.reason,
                "score": self.score, "reward": str(self.reward)}

    @classmethod
    def from_json(cls, v: dict[str, Any]) -> SubmissionView:
        return cls(str(v["participant"]), bool(v["accepted"]), str(v["verification"]),
                   str(v["reason"]), int(v["score"]), int(v["reward"]))


@dataclass(frozen=True)
class ClaimView:
    """One `RewardClaimed` event: who was paid how much, in which transaction."""

    account: str
    amount: int
    tx_hash: str

    def to_json(self) -> dict[str, Any]:
        return {"account": self.account, "amount": str(self.amount), "tx_hash": self.tx_hash}

    @classmethod
    def from_json(cls, v: dict[str, Any]) -> ClaimView:
        return cls(str(v["account"]), int(v["amount"]), str(v["tx_hash"]))


@dataclass(frozen=True)
class ChallengeView:
    """One `RoundChallenged` event and how governance resolved it.

    `outcome` is ``"pending"`` until a `ChallengeResolved` event, then ``"upheld"`` (the
    round was reopened and its result erased) or ``"rejected"`` (the bond was forfeited).
    """

    challenger: str
    evidence_cid: str
    bond: int
    outcome: str

    def to_json(self) -> dict[str, Any]:
        return {"challenger": self.challenger, "evidence_cid": self.evidence_cid,
                "bond": str(self.bond), "outcome": self.outcome}

    @classmethod
    def from_json(cls, v: dict[str, Any]) -> ChallengeView:
        return cls(str(v["challenger"]), str(v["evidence_cid"]), int(v["bond"]),
                   str(v["outcome"]))


@dataclass(frozen=True)
class RoundAudit:
    """The auditor's finding for one round, with the history shown beside it.

    `status` is the chain's lifecycle status (open, finalized, challenged); `accuracy` and
    `loss` are the report's validation metrics as fractions (None when the report is
    unavailable or does not state them). `finalizations` counts `RoundFinalized` events: more
    than one means an upheld challenge reopened the round, and the audit covers the latest.
    """

    round: int
    verdict: Verdict
    findings: tuple[Finding, ...] = ()
    status: str = "finalized"
    accuracy: float | None = None
    loss: float | None = None
    new_model_hash: str = ""
    report_cid: str = ""
    total_reward: int = 0
    claimed: int = 0
    submissions: tuple[SubmissionView, ...] = ()
    claims: tuple[ClaimView, ...] = ()
    challenges: tuple[ChallengeView, ...] = ()
    finalizations: int = 1

    @property
    def accepted(self) -> int:
        return sum(s.accepted for s in self.submissions)

    @property
    def rejected(self) -> int:
        return sum(not s.accepted for s in self.submissions)

    def codes(self) -> list[str]:
        """The codes of this round's findings, in order (convenient for assertions)."""
        return [f.code for f in self.findings]

    def to_json(self) -> dict[str, Any]:
        return {
            "round": self.round, "verdict": self.verdict.value, "status": self.status,
            "findings": [f.to_json() for f in self.findings],
            "accuracy": self.accuracy, "loss": self.loss,
            "new_model_hash": self.new_model_hash, "report_cid": self.report_cid,
            "total_reward": str(self.total_reward), "claimed": str(self.claimed),
            "accepted": self.accepted, "rejected": self.rejected,
            "submissions": [s.to_json() for s in self.submissions],
            "claims": [c.to_json() for c in self.claims],
            "challenges": [c.to_json() for c in self.challenges],
            "finalizations": self.finalizations,
        }

    @classmethod
    def from_json(cls, v: dict[str, Any]) -> RoundAudit:
        return cls(
            round=int(v["round"]), verdict=Verdict(v["verdict"]), status=str(v["status"]),
            findings=tuple(Finding.from_json(f) for f in v["findings"]),
            accuracy=v["accuracy"], loss=v["loss"], new_model_hash=str(v["new_model_hash"]),
            report_cid=str(v["report_cid"]), total_reward=int(v["total_reward"]),
            claimed=int(v["claimed"]),
            submissions=tuple(SubmissionView.from_json(s) for s in v["submissions"]),
            claims=tuple(ClaimView.from_json(c) for c in v["claims"]),
            challenges=tuple(ChallengeView.from_json(c) for c in v["challenges"]),
            finalizations=int(v["finalizations"]),
        )


@dataclass(frozen=True)
class AuditReport:
    """Every round's finding and the overall verdict for one network.

    `findings` holds network-wide problems (an unreadable task spec, say); `head_block` is
    the block the audit read up to, so a published audit says which history it covers.
    """

    chain_id: int
    registry: str
    token: str
    head_block: int
    rounds: tuple[RoundAudit, ...]
    findings: tuple[Finding, ...] = field(default=())

    @property
    def verdict(self) -> Verdict:
        """Mismatch if anything mismatches, else unverifiable if anything is, else verified.

        Pending (open) rounds do not count.
        """
        counted = [r.verdict for r in self.rounds if r.verdict is not Verdict.PENDING]
        network = verdict_of(self.findings)
        if network is Verdict.MISMATCH or Verdict.MISMATCH in counted:
            return Verdict.MISMATCH
        if network is Verdict.UNVERIFIABLE or Verdict.UNVERIFIABLE in counted:
            return Verdict.UNVERIFIABLE
        return Verdict.VERIFIED

    def round(self, number: int) -> RoundAudit:
        """The audit of round `number` (KeyError when it was not audited)."""
        for r in self.rounds:
            if r.round == number:
                return r
        raise KeyError(f"round {number} was not audited")

    def to_json(self) -> dict[str, Any]:
        return {
            "format": AUDIT_FORMAT, "chain_id": self.chain_id, "registry": self.registry,
            "token": self.token, "head_block": self.head_block, "verdict": self.verdict.value,
            "findings": [f.to_json() for f in self.findings],
            "rounds": [r.to_json() for r in self.rounds],
        }

    def to_json_bytes(self) -> bytes:
        """Deterministic JSON text (sorted keys, two-space indent, trailing newline)."""
        return (json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n").encode()

    @classmethod
    def from_json(cls, value: Any) -> AuditReport:
        """Read an audit JSON document; a wrong format or shape is a `FormatError`."""
        if not isinstance(value, dict) or value.get("format") != AUDIT_FORMAT:
            raise FormatError(f"not a {AUDIT_FORMAT} document")
        try:
            report = cls(
                chain_id=int(value["chain_id"]), registry=str(value["registry"]),
                token=str(value["token"]), head_block=int(value["head_block"]),
                rounds=tuple(RoundAudit.from_json(r) for r in value["rounds"]),
                findings=tuple(Finding.from_json(f) for f in value["findings"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise FormatError(f"malformed {AUDIT_FORMAT} document: {exc!r}") from exc
        if report.verdict.value != value.get("verdict"):
            raise FormatError(f"the document's verdict {value.get('verdict')!r} does not follow "
                              f"from its rounds ({report.verdict.value})")
        return report
