"""The RoundReport: what the aggregator decided in one round, and why, in auditable form.

It lists every revealed submission (sorted by participant address) with its verification
result, acceptance and reason, score and reward; the rule, its parameters and its
published decision (selected set, rounded distances or weights); the validation metrics;
the new model hash; and the rewards Merkle root with its total. Its keccak256 is the
``reportHash`` of ``finalizeRound``.

Numbers that are not integers by nature (scores, metrics, distances, weights) are integers
counting ``10**-decimals`` units, with ``decimals`` stated in the report. Token amounts are
decimal strings. `parse_report` refuses a report whose totals or rewards root contradict
its own submissions, so an auditor never has to trust those two numbers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from eth_typing import ChecksumAddress

from ledger.formats.canonical import (
    MAX_SAFE_INTEGER,
    canonical_json,
    content_hash,
    parse_canonical_json,
)
from ledger.formats.errors import FieldError, JsonError, ReportInconsistentError
from ledger.formats.fields import (
    UINT256_MAX,
    ObjectReader,
    address_json,
    check_safe_uint,
    hash_json,
    int_map,
    scalar_map,
    to_address,
    to_bytes32,
)
from ledger.merkle import StandardMerkleTree
from ledger.privacy.record import PrivacyRecord

__all__ = [
    "REPORT_DECIMALS",
    "REPORT_FORMAT",
    "REWARD_LEAF_TYPES",
    "ZERO_ROOT",
    "RoundReport",
    "SubmissionRecord",
    "parse_report",
    "rewards_leaves",
    "rewards_root",
    "rewards_tree",
]

REPORT_FORMAT = "fedledger-report/1"
REPORT_DECIMALS = 6
"""Default fixed-point precision of scores, metrics and decision numbers."""
REWARD_LEAF_TYPES = ("address", "uint64", "uint256")
ZERO_ROOT = bytes(32)
"""The rewards root of a round that pays nobody (no Merkle proof can verify against it)."""

_IDENTIFIER = r"[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}"
_CODE = r"ok|[a-z][a-z0-9_]*(\.[a-z0-9_]+)*"
_MAX_REPORT_BYTES = 32 * 1024 * 1024
_MAX_CID = 4096


@dataclass(frozen=True)
class SubmissionRecord:
    """One revealed submission and what the round made of it.

    `verification` is ``"ok"`` or the `code` of the error that refused the update or proof
    (``"tensor.non_finite"``, ``"signature.signer"``, ...). `reason` is empty when accepted
    and says why otherwise (a failed check, or the rule not selecting the update).
    """

    participant: ChecksumAddress
    update_cid: str
    update_hash: bytes
    proof_cid: str
    proof_hash: bytes
    num_samples: int
    verification: str
    accepted: bool
    reason: str
    score: int
    reward: int

    def __post_init__(self) -> None:
        """Normalise hashes and address; refuse malformed values and contradictions."""
        object.__setattr__(self, "participant", to_address(self.participant, "participant"))
        object.__setattr__(self, "update_hash", to_bytes32(self.update_hash, "update_hash"))
        object.__setattr__(self, "proof_hash", to_bytes32(self.proof_hash, "proof_hash"))
        for name in ("update_cid", "proof_cid"):
            value = getattr(self, name)
            if not isinstance(value, str) or len(value) > _MAX_CID:
                raise FieldError(name, f"expected a string of <= {_MAX_CID} characters")
        check_safe_uint(self.num_samples, "num_samples")
        if not isinstance(self.verification, str) or not re.fullmatch(_CODE, self.verification):
            raise FieldError("verification", f"expected 'ok' or an error code, "
                                              f"got {self.verification!r}")
        if not isinstance(self.accepted, bool):
            raise FieldError("accepted", "expected a bool")
        if not isinstance(self.reason, str) or len(self.reason) > 1024:
            raise FieldError("reason", "expected a string of <= 1024 characters")
        if isinstance(self.score, bool) or not isinstance(self.score, int) or (
            abs(self.score) > MAX_SAFE_INTEGER
        ):
            raise FieldError("score", f"expected an integer within +/-(2**53 - 1), "
                                      f"got {self.score!r}")
        if isinstance(self.reward, bool) or not isinstance(self.reward, int) or not (
            0 <= self.reward <= UINT256_MAX
        ):
            raise FieldError("reward", f"expected an integer in [0, 2**256 - 1], "
                                       f"got {self.reward!r}")
        who = f"submission of {self.participant}"
        if self.accepted and self.verification != "ok":
            raise ReportInconsistentError(f"{who} is accepted but failed verification "
                                          f"({self.verification})")
        if self.accepted == bool(self.reason):
            raise ReportInconsistentError(
                f"{who}: a reason must be given exactly when a submission is rejected"
            )
        if not self.accepted and self.reward:
            raise ReportInconsistentError(f"{who} is rejected but rewarded {self.reward}")

    def to_json_value(self) -> dict[str, object]:
        """The JSON object form of one submission."""
        return {
            "accepted": self.accepted,
            "num_samples": self.num_samples,
            "participant": address_json(self.participant),
            "proof_cid": self.proof_cid,
            "proof_hash": hash_json(self.proof_hash),
            "reason": self.reason,
            "reward": str(self.reward),
            "score": self.score,
            "update_cid": self.update_cid,
            "update_hash": hash_json(self.update_hash),
            "verification": self.verification,
        }

    @classmethod
    def from_json_value(cls, value: object, path: str) -> SubmissionRecord:
        """Read one submission object, refusing wrong types and unknown fields."""
        reader = ObjectReader(value, path)
        record = cls(
            participant=reader.address("participant"),
            update_cid=reader.string("update_cid", max_length=_MAX_CID, allow_empty=True),
            update_hash=reader.hash("update_hash"),
            proof_cid=reader.string("proof_cid", max_length=_MAX_CID, allow_empty=True),
            proof_hash=reader.hash("proof_hash"),
            num_samples=reader.integer("num_samples"),
            verification=reader.string("verification", pattern=_CODE, max_length=64),
            accepted=reader.boolean("accepted"),
            reason=reader.string("reason", max_length=1024, allow_empty=True),
            score=reader.integer("score", minimum=-(2**53 - 1)),
            reward=reader.amount("reward"),
        )
        reader.finish()
        return record


def rewards_root(leaves: Sequence[tuple[str, int, int]]) -> bytes:
    """The StandardMerkleTree root over `leaves`, or `ZERO_ROOT` when there are none."""
    if not leaves:
        return ZERO_ROOT
    return StandardMerkleTree.of([list(leaf) for leaf in leaves], REWARD_LEAF_TYPES).root_bytes


@dataclass(frozen=True)
class RoundReport:
    """The aggregator's account of one round (see the module docstring)."""

    round: int
    task_hash: bytes
    base_model_hash: bytes
    rule: str
    rule_params: Mapping[str, object] = field(hash=False)
    decimals: int
    submissions: tuple[SubmissionRecord, ...]
    decision: Mapping[str, object] = field(hash=False)
    validation_metrics: Mapping[str, int] = field(hash=False)
    new_model_hash: bytes
    new_model_cid: str
    rewards_root: bytes
    total_reward: int
    privacy: PrivacyRecord | None = None
    """Clipping norm and budget spent (DP tasks only; absent otherwise, so older reports
    keep their bytes)."""

    def __post_init__(self) -> None:
        """Validate fields, order, totals and the rewards root; freeze the maps."""
        check_safe_uint(self.round, "round")
        for name in ("task_hash", "base_model_hash", "new_model_hash", "rewards_root"):
            object.__setattr__(self, name, to_bytes32(getattr(self, name), name))
        if not isinstance(self.rule, str) or not re.fullmatch(_IDENTIFIER, self.rule):
            raise FieldError("rule.name", f"expected an identifier, got {self.rule!r}")
        object.__setattr__(self, "rule_params",
                           MappingProxyType(scalar_map(dict(self.rule_params), "rule.params")))
        if isinstance(self.decimals, bool) or not isinstance(self.decimals, int) or not (
            0 <= self.decimals <= 18
        ):
            raise FieldError("decimals", f"expected an integer in [0, 18], got {self.decimals!r}")
        object.__setattr__(self, "submissions", tuple(self.submissions))
        if not all(isinstance(s, SubmissionRecord) for s in self.submissions):
            raise FieldError("submissions", "expected SubmissionRecord items")
        object.__setattr__(self, "decision", MappingProxyType(_json_object(self.decision)))
        object.__setattr__(self, "validation_metrics", MappingProxyType(
            int_map(dict(self.validation_metrics), "validation_metrics")))
        if not isinstance(self.new_model_cid, str) or len(self.new_model_cid) > _MAX_CID:
            raise FieldError("new_model_cid", f"expected a string of <= {_MAX_CID} characters")
        if isinstance(self.total_reward, bool) or not isinstance(self.total_reward, int) or not (
            0 <= self.total_reward <= UINT256_MAX
        ):
            raise FieldError("total_reward", f"expected an integer in [0, 2**256 - 1], "
                                             f"got {self.total_reward!r}")
        if self.privacy is not None and not isinstance(self.privacy, PrivacyRecord):
            raise FieldError("privacy", "expected a PrivacyRecord or None")
        self._check_consistency()

    def _check_consistency(self) -> None:
        keys = [address_json(s.participant) for s in self.submissions]
        if keys != sorted(keys) or len(set(keys)) != len(keys):
            raise ReportInconsistentError(
                "submissions must be sorted by participant address, one per participant"
            )
        paid = sum(s.reward for s in self.submissions)
        if paid != self.total_reward:
            raise ReportInconsistentError(
                f"total_reward is {self.total_reward} but submissions are paid {paid}"
            )
        expected_root = rewards_root(rewards_leaves(self))
        if self.rewards_root != expected_root:
            raise ReportInconsistentError(
                f"rewards_root is {hash_json(self.rewards_root)} but the submissions' rewards "
                f"give {hash_json(expected_root)}"
            )

    def to_json_value(self) -> dict[str, object]:
        """The JSON object form (see docs/formats.md, "RoundReport")."""
        value: dict[str, object] = {
            "base_model_hash": hash_json(self.base_model_hash),
            "decimals": self.decimals,
            "decision": dict(self.decision),
            "format": REPORT_FORMAT,
            "new_model_cid": self.new_model_cid,
            "new_model_hash": hash_json(self.new_model_hash),
            "rewards_root": hash_json(self.rewards_root),
            "round": self.round,
            "rule": {"name": self.rule, "params": dict(self.rule_params)},
            "submissions": [s.to_json_value() for s in self.submissions],
            "task_hash": hash_json(self.task_hash),
            "total_reward": str(self.total_reward),
            "validation_metrics": dict(self.validation_metrics),
        }
        if self.privacy is not None:
            value["privacy"] = self.privacy.to_json_value()
        return value

    def canonical_bytes(self) -> bytes:
        """Canonical JSON bytes: what is stored on IPFS and hashed into ``reportHash``."""
        return canonical_json(self.to_json_value())

    def report_hash(self) -> bytes:
        """keccak256 of `canonical_bytes`."""
        return content_hash(self.canonical_bytes())


def _json_object(value: object) -> dict[str, object]:
    if not isinstance(value, Mapping):
        raise FieldError("decision", f"expected a JSON object, got {type(value).__name__}")
    result = dict(value)
    try:
        canonical_json(result)
    except JsonError as exc:
        raise FieldError("decision", str(exc)) from exc
    return result


def parse_report(data: bytes) -> RoundReport:
    """Parse and validate untrusted round-report bytes (canonical JSON).

    Raises
    ------
    JsonError, FieldError
        Not canonical JSON, or a field missing/unknown/mistyped (``field`` names it).
    ReportInconsistentError
        Unsorted or repeated participants, rewards to rejected submissions, a total or
        rewards root that does not match the submissions.
    """
    value = parse_canonical_json(data, max_bytes=_MAX_REPORT_BYTES)
    reader = ObjectReader(value, "")
    reader.expect("format", REPORT_FORMAT)
    rule = reader.obj("rule")
    submissions = tuple(
        SubmissionRecord.from_json_value(item, f"submissions[{i}]")
        for i, item in enumerate(reader.array("submissions"))
    )
    decision = reader.raw("decision")
    if not isinstance(decision, dict):
        raise FieldError("decision", "expected a JSON object")
    report = RoundReport(
        round=reader.integer("round"),
        task_hash=reader.hash("task_hash"),
        base_model_hash=reader.hash("base_model_hash"),
        rule=rule.string("name"),
        rule_params=scalar_map(rule.raw("params"), "rule.params"),
        decimals=reader.integer("decimals", maximum=18),
        submissions=submissions,
        decision=decision,
        validation_metrics=int_map(reader.raw("validation_metrics"), "validation_metrics"),
        new_model_hash=reader.hash("new_model_hash"),
        new_model_cid=reader.string("new_model_cid", max_length=_MAX_CID),
        rewards_root=reader.hash("rewards_root"),
        total_reward=reader.amount("total_reward"),
        privacy=(PrivacyRecord.from_json_value(reader.raw("privacy"))
                 if isinstance(value, dict) and "privacy" in value else None),
    )
    rule.finish()
    reader.finish()
    return report


def rewards_leaves(report: RoundReport) -> list[tuple[ChecksumAddress, int, int]]:
    """The reward leaves ``(account, round, amount)`` of every paid submission, in order."""
    return [(s.participant, report.round, s.reward) for s in report.submissions if s.reward > 0]


def rewards_tree(report: RoundReport) -> StandardMerkleTree | None:
    """The rewards tree (for claim proofs), or None when the round pays nobody."""
    leaves = rewards_leaves(report)
    if not leaves:
        return None
    return StandardMerkleTree.of([list(leaf) for leaf in leaves], REWARD_LEAF_TYPES)
