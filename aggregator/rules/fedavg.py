"""FedAvg: the sample-weighted mean (McMahan et al., 2017, "Communication-Efficient
Learning of Deep Networks from Decentralized Data").

Not robust (one unbounded update moves it arbitrarily far) but the reference every
other rule is compared against, and the rule to use behind norm clipping.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from aggregator.fixedpoint import FixedPointGrid
from aggregator.rules import exact
from aggregator.rules.base import (
    AggregationMismatch,
    AggregationRule,
    Batch,
    Decision,
    JSONScalar,
    Outcome,
    RuleConfigError,
    int_list,
)


def fedavg(
    updates: torch.Tensor,
    num_samples: Sequence[int],
    grid: FixedPointGrid,
    *,
    weighted: bool = True,
) -> torch.Tensor:
    """Exact ``sum_i n_i q_i / sum_i n_i`` on the grid (``n_i = 1`` when not weighted)."""
    weights = list(num_samples) if weighted else [1] * len(num_samples)
    view = exact.GridView(updates, grid)
    return exact.weighted_mean(view, range(len(weights)), weights, sum(weights))


class FedAvg(AggregationRule):
    """Sample-weighted mean of all updates (``weighted=False``: plain mean)."""

    name = "fedavg"

    def __init__(self, grid: FixedPointGrid | None = None, weighted: bool = True) -> None:
        super().__init__(grid)
        if not isinstance(weighted, bool):
            raise RuleConfigError(f"fedavg: parameter 'weighted' must be a bool, got {weighted!r}")
        self.weighted = weighted

    @property
    def params(self) -> dict[str, JSONScalar]:
        return {"weighted": self.weighted}

    def decide(self, batch: Batch) -> Decision:
        weights = list(batch.num_samples) if self.weighted else [1] * batch.n
        return {"rule": self.name, "weights": list(weights)}

    def apply(self, decision: Mapping[str, Any], batch: Batch) -> Outcome:
        weights = int_list(decision, "weights", batch.n)
        if sum(weights) == 0:
            raise AggregationMismatch("decision field 'weights' sums to 0")
        aggregate = exact.weighted_mean(
            batch.view(self.grid), range(batch.n), weights, sum(weights)
        )
        return Outcome(aggregate, (True,) * batch.n, (None,) * batch.n)
