"""The auditor's one dependency on aggregation code, made explicit.

The auditor trusts only the chain and content hashes, never the aggregator's service or
state. It still has to re-run the round's declared rule, and the rule is code: the pure
functions `aggregator.round_compute.compute_round` (quantise, aggregate on the integer
grid, score) and `aggregator.rewards.allocate_rewards` (integer largest-remainder split).
`ledger` may not import `aggregator` (DESIGN.md: import direction), so the caller hands
these functions in as an `AuditRules`; `fedledger.cli.audit.default_rules()` is the one
place that imports them, and tests/ledger/audit/test_boundary.py checks that nothing else
from `aggregator` is loaded by the audit command (no orchestrator, no service, no store or
chain access inside the rule code).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import torch

from ledger.formats.task import TaskSpec
from ledger.submissions import SubmissionCheck


class RecomputedSubmission(Protocol):
    """What the auditor reads of each recomputed submission."""

    @property
    def participant(self) -> str: ...
    @property
    def verification(self) -> str: ...
    @property
    def accepted(self) -> bool: ...
    @property
    def reason(self) -> str: ...
    @property
    def score(self) -> int: ...
    @property
    def reward(self) -> int: ...


class RecomputedRound(Protocol):
    """What the auditor reads of a recomputed round."""

    @property
    def submissions(self) -> Sequence[RecomputedSubmission]: ...
    @property
    def new_vector(self) -> torch.Tensor: ...
    @property
    def total_reward(self) -> int: ...


#: (task, base vector, checked submissions, reward pool) -> the round's outcome, purely.
RoundRecompute = Callable[[TaskSpec, torch.Tensor, Sequence[SubmissionCheck], int], RecomputedRound]
#: (pool, integer scores in address order) -> integer rewards, purely.
RewardAllocation = Callable[[int, Sequence[int]], list[int]]


@dataclass(frozen=True)
class AuditRules:
    """The pure functions the auditor re-runs, and how closely scores must agree.

    `score_tolerance` is in the report's score units (1e-6 of a cosine): scores are
    computed in float64 and may differ by a unit or two across machines on a rounding
    boundary (docs/aggregation.md, "What the auditor accepts"); rewards are then checked
    exactly against the *published* scores with `allocate_rewards`.
    """

    compute_round: RoundRecompute
    allocate_rewards: RewardAllocation
    score_tolerance: int = 2
