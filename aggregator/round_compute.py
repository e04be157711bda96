"""One round's result as a pure function of the checked submissions.

Everything the chain is told at finalization (the new model, every accept/reject, the
scores, the rewards) is computed here from the revealed updates, the task's rule and
the reward pool, and nothing else: no clock, no randomness, no I/O. The orchestrator
calls it with what it fetched; an auditor calls the very same function with what *it*
fetched and compares. Participants are ordered by address, and the rule works on the
fixed-point grid, so the result does not depend on reveal order, thread count or CPU.

Before the rule runs, two kinds of free-riding are refused outright, since a robust
rule alone would still pay them: an all-zero update (nothing learnt, reward wanted),
and identical updates from different participants (a copy; commit-reveal means a copy
needs the original's owner to leak it before the commit deadline, so every member of
an identical group is refused: colluders earn nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from aggregator.fixedpoint import FixedPointGrid
from aggregator.rewards import allocate_rewards
from aggregator.rules import AggregationResult, AggregationRule, build_rule
from aggregator.scoring import cosine_scores
from ledger.formats.report import SubmissionRecord
from ledger.formats.task import TaskSpec
from ledger.submissions import SubmissionCheck

REASON_ZERO = "zero update: nothing learnt (free-rider)"


def grid_for(task: TaskSpec) -> FixedPointGrid:
    """The task's fixed-point grid; its range must cover the norm bound."""
    bound = float(task.update_norm_bound)
    max_abs = 1024.0
    while max_abs < bound:
        max_abs *= 2
    return FixedPointGrid(frac_bits=task.fixed_point_bits, max_abs=max_abs)


def rule_for(task: TaskSpec) -> AggregationRule:
    """The aggregation rule the task spec names, on the task's grid."""
    return build_rule(task.aggregation_rule, dict(task.aggregation_params), grid_for(task))  # type: ignore[arg-type]


@dataclass(frozen=True)
class RoundOutcome:
    """What the aggregator publishes for a round (before hashing and storing)."""

    submissions: tuple[SubmissionRecord, ...]
    result: AggregationResult | None
    new_vector: torch.Tensor
    total_reward: int

    @property
    def decision(self) -> dict[str, object]:
        return {} if self.result is None else dict(self.result.decision)


def _address_key(check: SubmissionCheck) -> int:
    return int(check.submission.participant, 16)


def _copy_groups(vectors: Sequence[torch.Tensor]) -> dict[int, int]:
    """Map index -> index of the first identical vector, for every vector with a twin."""
    firsts: dict[bytes, int] = {}
    owner: dict[int, int] = {}
    for i, vec in enumerate(vectors):
        key = vec.numpy().tobytes()
        if key in firsts:
            owner[i] = firsts[key]
            owner.setdefault(firsts[key], firsts[key])
        else:
            firsts[key] = i
    return owner


def compute_round(
    task: TaskSpec,
    base_vector: torch.Tensor,
    checks: Sequence[SubmissionCheck],
    reward_pool: int,
    *,
    rule: AggregationRule | None = None,
    reference: torch.Tensor | None = None,
) -> RoundOutcome:
    """Aggregate, score and reward one round's submissions.

    `base_vector` is the round's global model, flattened in the task's layout order.
    `reward_pool` is the token amount (base units) shared by score; rejected updates
    earn 0. `reference` is FLTrust's trusted server update, for that rule only.
    """
    rule = rule if rule is not None else rule_for(task)
    ordered = sorted(checks, key=_address_key)
    valid = [c for c in ordered if c.ok]
    vectors = [c.vector for c in valid]
    assert all(v is not None for v in vectors)
    copies = _copy_groups(vectors)  # type: ignore[arg-type]

    candidates: list[int] = []  # indices into `valid`
    refusal: dict[int, str] = {}
    for i, check in enumerate(valid):
        vec = check.vector
        assert vec is not None
        if not bool(vec.any()):
            refusal[i] = REASON_ZERO
        elif i in copies:
            twins = [valid[j].submission.participant for j, o in copies.items() if o == copies[i] and j != i]
            refusal[i] = "identical to the update of " + ", ".join(sorted(twins)) + " (copy)"
        else:
            candidates.append(i)

    accepted: dict[int, bool] = {}
    reasons: dict[int, str] = {}
    scores: dict[int, int] = {}
    result: AggregationResult | None = None
    aggregate = torch.zeros_like(base_vector)
    if candidates:
        stack = torch.stack([valid[i].vector for i in candidates])  # type: ignore[misc]
        samples = [valid[i].submission.num_samples for i in candidates]
        result = rule.aggregate(stack, samples, reference=reference)
        aggregate = result.aggregate
        report = cosine_scores(stack, aggregate, result.accepted)
        for pos, i in enumerate(candidates):
            accepted[i] = result.accepted[pos]
            reasons[i] = result.reasons[pos] or ""
            scores[i] = report.scores[pos]

    score_list = [scores.get(i, 0) for i in range(len(valid))]
    rewards = allocate_rewards(reward_pool, score_list) if valid else []
    by_participant = {c.submission.participant.lower(): i for i, c in enumerate(valid)}

    records: list[SubmissionRecord] = []
    for check in ordered:
        sub = check.submission
        common = dict(
            participant=sub.participant,
            update_cid=sub.update_cid,
            update_hash=sub.update_hash,
            proof_cid=sub.proof_cid,
            proof_hash=sub.proof_hash,
            num_samples=sub.num_samples,
        )
        if not check.ok:
            records.append(SubmissionRecord(**common, verification=check.code, accepted=False,
                                            reason=check.detail or check.code, score=0, reward=0))
            continue
        i = by_participant[sub.participant.lower()]
        ok = accepted.get(i, False)
        reason = "" if ok else (refusal.get(i) or reasons.get(i) or "not selected by the rule")
        records.append(SubmissionRecord(**common, verification="ok", accepted=ok, reason=reason,
                                        score=score_list[i] if ok else 0,
                                        reward=rewards[i] if ok else 0))
    new_vector = (base_vector.to(torch.float32) + aggregate.to(torch.float32)).contiguous()
    total = sum(r.reward for r in records)
    return RoundOutcome(tuple(records), result, new_vector, total)
