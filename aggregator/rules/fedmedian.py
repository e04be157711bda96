"""FedMedian: the coordinate-wise median (Yin et al., 2018, "Byzantine-Robust
Distributed Learning: Towards Optimal Statistical Rates").

Breakdown point 1/2 per coordinate: fewer than half arbitrary updates keep every
coordinate between honest values. Exact on the grid: an even count averages the two
middle grid values with round-half-even.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from aggregator.fixedpoint import FixedPointGrid
from aggregator.rules import exact
from aggregator.rules.base import AggregationRule, Batch, Decision, JSONScalar, Outcome


def fedmedian(updates: torch.Tensor, grid: FixedPointGrid) -> torch.Tensor:
    """Coordinate-wise median of the rows of ``updates`` on ``grid``."""
    return exact.median(exact.GridView(updates, grid), range(updates.shape[0]))


class FedMedian(AggregationRule):
    """Coordinate-wise median of all updates (sample counts are ignored)."""

    name = "fedmedian"

    def __init__(self, grid: FixedPointGrid | None = None) -> None:
        super().__init__(grid)

    @property
    def params(self) -> dict[str, JSONScalar]:
        return {}

    def decide(self, batch: Batch) -> Decision:
        return {"rule": self.name, "count": batch.n}

    def apply(self, decision: Mapping[str, Any], batch: Batch) -> Outcome:
        aggregate = exact.median(batch.view(self.grid), range(batch.n))
        return Outcome(aggregate, (True,) * batch.n, (None,) * batch.n)
