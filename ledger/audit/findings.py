"""What the auditor can say about a round: verdicts and findings with stable codes.

A finding is one discrepancy or one gap, named by a stable dotted `code` (documented in
docs/audit.md and safe to match on), with a message that cites the values involved. Its
`kind` decides what it does to the verdict: a *mismatch* is proof that something
published disagrees with what the chain and the content hashes imply; an *unverifiable*
finding only says the auditor could not check something (content missing from the
store, and, once the privacy engineer adds it, content encrypted to keys the auditor does
not hold). Absence is never treated as proof of a lie.

New unverifiable reasons are new codes under the ``content.`` family (``content.missing``
today; ``content.encrypted`` is the reserved name for encrypted artifacts): the verdict
logic and the JSON schema need no change to carry them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


class Verdict(str, Enum):
    """A round's or a whole audit's conclusion.

    `PENDING` marks a round that is still open (nothing published to check yet); it does
    not affect the overall verdict.
    """

    VERIFIED = "verified"
    MISMATCH = "mismatch"
    UNVERIFIABLE = "unverifiable"
    PENDING = "pending"


class FindingKind(str, Enum):
    """Whether a finding proves a discrepancy or only blocks a check."""

    MISMATCH = "mismatch"
    UNVERIFIABLE = "unverifiable"


# -- codes -------------------------------------------------------------------------------
# Mismatch: something published contradicts the chain or the recomputation.
TASK_HASH = "task.hash_mismatch"
TASK_UNKNOWN = "task.unknown"
TASK_MALFORMED = "task.malformed"
BASE_MODEL_HASH = "model.base_hash_mismatch"
BASE_MODEL_MALFORMED = "model.base_malformed"
BASE_MODEL_INITIAL = "model.base_not_initial"
BASE_MODEL_CHAIN = "model.base_not_previous"
MODEL_HASH = "model.hash_mismatch"
MODEL_RECOMPUTED = "model.recomputed_differs"
REPORT_HASH = "report.hash_mismatch"
REPORT_MALFORMED = "report.malformed"
REPORT_CHAIN = "report.chain_disagrees"
REPORT_RULE = "report.rule_mismatch"
SUBMISSION_OMITTED = "submission.omitted"
SUBMISSION_UNREVEALED = "submission.unrevealed"
SUBMISSION_NOT_COMMITTED = "submission.not_committed"
SUBMISSION_RECORD = "submission.record_differs"
SUBMISSION_VERIFICATION = "submission.verification"
SUBMISSION_SCORE = "submission.score"
SUBMISSION_REWARD = "submission.reward"
REWARDS_ROOT = "rewards.root_mismatch"
REWARDS_TOTAL = "rewards.total_mismatch"
COMMIT_BINDING = "commit.binding"
REVEAL_WINDOW = "reveal.outside_window"
CLAIM_NOT_IN_TREE = "claim.not_in_tree"
CLAIM_TRANSFER = "claim.transfer_mismatch"
CLAIM_OVER_TOTAL = "claim.over_total"
# Unverifiable: a check could not run.
CONTENT_MISSING = "content.missing"
CONTENT_UNAVAILABLE = "content.unavailable"
CONTENT_ENCRYPTED = "content.encrypted"
"""Reserved for the privacy engineer: an artifact encrypted to keys the auditor lacks."""
COMMIT_UNREADABLE = "commit.unreadable"
ROUND_NO_EVENT = "round.no_finalized_event"


@dataclass(frozen=True)
class Finding:
    """One discrepancy (kind MISMATCH) or one check that could not run (UNVERIFIABLE)."""

    code: str
    kind: FindingKind
    message: str
    participant: str | None = None

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"

    def to_json(self) -> dict[str, Any]:
        """The finding as the audit JSON's `findings[]` item."""
        return {"code": self.code, "kind": self.kind.value, "message": self.message,
                "participant": self.participant}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Finding:
        """Read back what `to_json` wrote."""
        return cls(str(value["code"]), FindingKind(value["kind"]), str(value["message"]),
                   value.get("participant"))


def mismatch(code: str, message: str, participant: str | None = None) -> Finding:
    """A finding that proves a discrepancy."""
    return Finding(code, FindingKind.MISMATCH, message, participant)


def unverifiable(code: str, message: str, participant: str | None = None) -> Finding:
    """A finding that only says a check could not run."""
    return Finding(code, FindingKind.UNVERIFIABLE, message, participant)


def verdict_of(findings: tuple[Finding, ...] | list[Finding]) -> Verdict:
    """Any mismatch wins; else any gap makes it unverifiable; else verified."""
    kinds = {f.kind for f in findings}
    if FindingKind.MISMATCH in kinds:
        return Verdict.MISMATCH
    if FindingKind.UNVERIFIABLE in kinds:
        return Verdict.UNVERIFIABLE
    return Verdict.VERIFIED
