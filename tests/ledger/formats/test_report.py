"""RoundReport: canonical bytes, rewards leaves, and refusal of self-contradicting reports."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from eth_utils.crypto import keccak

from ledger.formats.canonical import canonical_json
from ledger.formats.errors import (
    FieldError,
    JsonSyntaxError,
    JsonValueError,
    NonCanonicalJsonError,
    ReportInconsistentError,
)
from ledger.formats.report import (
    ZERO_ROOT,
    RoundReport,
    SubmissionRecord,
    parse_report,
    rewards_leaves,
    rewards_root,
    rewards_tree,
)
from ledger.merkle import StandardMerkleTree

from .conftest import BASE_HASH, TASK_HASH

ALICE = "0x1111111111111111111111111111111111111111"
BOB = "0x2222222222222222222222222222222222222222"
CAROL = "0x3333333333333333333333333333333333333333"
TOKEN = 10**18


def submission(participant: str, **overrides: object) -> SubmissionRecord:
    values: dict[str, Any] = {
        "participant": participant, "update_cid": "bafkrei" + participant[2:10],
        "update_hash": keccak(b"u" + participant.encode()), "proof_cid": "bafkreiproof",
        "proof_hash": keccak(b"p" + participant.encode()), "num_samples": 100,
        "verification": "ok", "accepted": True, "reason": "", "score": 250_000, "reward": 0,
    }
    values.update(overrides)
    return SubmissionRecord(**values)


def make_submissions() -> tuple[SubmissionRecord, ...]:
    return (
        submission(ALICE, reward=3 * TOKEN, score=600_000),
        submission(BOB, accepted=False, reason="not selected by multikrum", score=-12_345),
        submission(CAROL, verification="tensor.non_finite", accepted=False,
                   reason="update: tensor 'fc.weight' holds NaN or Inf", score=0),
    )


def make_report(**overrides: object) -> RoundReport:
    submissions = overrides.pop("submissions", make_submissions())
    assert isinstance(submissions, tuple)
    paid = [(s.participant, 4, s.reward) for s in submissions if s.reward]
    values: dict[str, Any] = {
        "round": 4, "task_hash": TASK_HASH, "base_model_hash": BASE_HASH, "rule": "multikrum",
        "rule_params": {"f": 1, "m": 1}, "decimals": 6, "submissions": submissions,
        "decision": {"selected": [ALICE.lower()], "scores": {ALICE.lower(): 1_250_000}},
        "validation_metrics": {"accuracy": 884_000, "loss": 412_000},
        "new_model_hash": keccak(b"model"), "new_model_cid": "bafkreimodel",
        "rewards_root": rewards_root(paid), "total_reward": sum(r for _, _, r in paid),
    }
    values.update(overrides)
    return RoundReport(**values)


def test_round_trip_and_hash() -> None:
    # Prepare
    report = make_report()
    # Execute
    data = report.canonical_bytes()
    parsed = parse_report(data)
    # Assert
    assert parsed == report
    assert parsed.report_hash() == keccak(data)
    assert data.startswith(b'{"base_model_hash":"0x' + b"ab" * 32 + b'","decimals":6,'
                           b'"decision":{"scores":{"0x1111111111111111111111111111111111111111":'
                           b'1250000},"selected":["0x1111111111111111111111111111111111111111"]},'
                           b'"format":"fedledger-report/1",')
    assert b'"reward":"3000000000000000000","score":600000,' in data
    assert b'"total_reward":"3000000000000000000"' in data


def test_rewards_leaves_and_tree() -> None:
    # Prepare
    report = make_report()
    # Execute
    leaves = rewards_leaves(report)
    tree = rewards_tree(report)
    # Assert
    assert leaves == [("0x1111111111111111111111111111111111111111", 4, 3 * TOKEN)]
    assert tree is not None
    assert tree.root_bytes == report.rewards_root
    assert tree.verify([ALICE, 4, 3 * TOKEN], tree.get_proof(0))
    assert StandardMerkleTree.of([list(leaf) for leaf in leaves],
                                 ["address", "uint64", "uint256"]).root_bytes == tree.root_bytes


def test_round_paying_nobody_has_the_zero_root() -> None:
    # Prepare
    unpaid = tuple(dataclasses.replace(s, reward=0) for s in make_submissions())
    # Execute
    report = make_report(submissions=unpaid, rewards_root=ZERO_ROOT, total_reward=0)
    # Assert
    assert rewards_leaves(report) == []
    assert rewards_tree(report) is None
    assert rewards_root([]) == bytes(32)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"total_reward": 3 * TOKEN + 1}, ("total_reward is 3000000000000000001 but submissions "
                                          "are paid 3000000000000000000")),
        ({"rewards_root": keccak(b"forged")}, "rewards_root is 0x.* but the submissions' rewards"),
        ({"submissions": tuple(reversed(make_submissions()))}, "must be sorted by participant"),
        ({"submissions": (submission(ALICE), submission(ALICE))}, "one per participant"),
    ],
)
def test_self_contradicting_reports_are_refused(overrides: dict[str, object],
                                                message: str) -> None:
    # Execute / Assert
    with pytest.raises(ReportInconsistentError, match=message):
        make_report(**overrides)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"accepted": False, "reason": "bad", "reward": 5}, "is rejected but rewarded 5"),
        ({"verification": "signature.signer"}, "is accepted but failed verification"),
        ({"reason": "why not"}, "a reason must be given exactly when"),
        ({"accepted": False}, "a reason must be given exactly when"),
    ],
)
def test_contradicting_submissions_are_refused(overrides: dict[str, object],
                                               message: str) -> None:
    # Execute / Assert
    with pytest.raises(ReportInconsistentError, match=message):
        submission(ALICE, **overrides)


def document(**changes: object) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(make_report().canonical_bytes())
    value.update(changes)
    return value


def submission_document(**changes: object) -> dict[str, Any]:
    value = document()
    value["submissions"][0].update(changes)
    return value


@pytest.mark.parametrize(
    ("value", "field", "problem"),
    [
        (document(total_reward=3 * TOKEN // 10**6), "total_reward", "expected a decimal string"),
        (document(format="fedledger-report/0"), "format", "expected 'fedledger-report/1'"),
        (document(decimals=19), "decimals", "outside"),
        (document(decision=[1]), "decision", "expected a JSON object"),
        (document(rule={"name": "krum"}), "rule.params", "is missing"),
        (document(extra=1), "extra", "is not a known field"),
        (submission_document(reward=5), "submissions[0].reward", "expected a decimal string"),
        (submission_document(verification="Not OK"), "submissions[0].verification",
         "does not match"),
        (submission_document(participant=ALICE.upper()), "submissions[0].participant",
         "lowercase"),
        (submission_document(score="high"), "submissions[0].score", "expected an integer"),
        (submission_document(surprise=1), "submissions[0].surprise", "is not a known field"),
    ],
)
def test_parse_names_the_bad_field(value: dict[str, Any], field: str, problem: str) -> None:
    # Execute / Assert
    with pytest.raises(FieldError) as caught:
        parse_report(canonical_json(value))
    assert caught.value.field == field
    assert problem in caught.value.problem


def test_parse_refuses_floats_and_non_canonical_bytes() -> None:
    # Prepare
    with_float = json.dumps(document(validation_metrics={"accuracy": 0.88}), sort_keys=True,
                            separators=(",", ":")).encode()
    reordered = json.dumps(document(), separators=(",", ":")).encode()[::-1]
    spaced = json.dumps(document(), sort_keys=True).encode()
    # Execute / Assert
    with pytest.raises(JsonValueError, match="floats are not allowed"):
        parse_report(with_float)
    with pytest.raises(NonCanonicalJsonError):
        parse_report(spaced)
    with pytest.raises(JsonSyntaxError, match="invalid JSON"):
        parse_report(reordered)


def test_decision_must_be_float_free() -> None:
    # Execute / Assert
    with pytest.raises(FieldError, match=r"decision: \$.distance: floats are not allowed"):
        make_report(decision={"distance": 0.5})
