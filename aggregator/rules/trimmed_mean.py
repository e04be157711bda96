"""Coordinate-wise trimmed mean (Yin et al., 2018).

Per coordinate, drop the ``k = int(beta * n)`` smallest and ``k`` largest values and
average the rest (unweighted). ``k`` is computed exactly like Flower's
``FedTrimmedAvg``/scipy ``trim_mean`` so both trim the same count. Tolerates up to
``k`` arbitrary updates per coordinate.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from aggregator.fixedpoint import FixedPointGrid
from aggregator.rules import exact
from aggregator.rules.base import (
    AggregationInputError,
    AggregationRule,
    Batch,
    Decision,
    JSONScalar,
    Outcome,
    float_param,
)


def trim_count(beta: float, n: int) -> int:
    """Values cut from each side: ``int(beta * n)``, as scipy and Flower compute it."""
    return int(beta * n)


def trimmed_mean(updates: torch.Tensor, beta: float, grid: FixedPointGrid) -> torch.Tensor:
    """Coordinate-wise ``beta``-trimmed mean of the rows of ``updates`` on ``grid``."""
    n = updates.shape[0]
    return exact.trimmed_mean(exact.GridView(updates, grid), range(n), trim_count(beta, n))


class TrimmedMean(AggregationRule):
    """Coordinate-wise trimmed mean with cut fraction ``beta`` in [0, 0.5)."""

    name = "trimmed_mean"

    def __init__(self, grid: FixedPointGrid | None = None, beta: float = 0.1) -> None:
        super().__init__(grid)
        self.beta = float_param(self.name, "beta", beta, low=0.0, high=0.5, high_open=True)

    @property
    def params(self) -> dict[str, JSONScalar]:
        return {"beta": self.beta}

    def decide(self, batch: Batch) -> Decision:
        k = trim_count(self.beta, batch.n)
        if 2 * k >= batch.n:
            raise AggregationInputError(
                f"trimmed_mean: beta={self.beta} trims {k} per side, leaving nothing of "
                f"{batch.n} updates"
            )
        return {"rule": self.name, "count": batch.n, "trimmed_per_side": k}

    def apply(self, decision: Mapping[str, Any], batch: Batch) -> Outcome:
        k = trim_count(self.beta, batch.n)
        aggregate = exact.trimmed_mean(batch.view(self.grid), range(batch.n), k)
        return Outcome(aggregate, (True,) * batch.n, (None,) * batch.n)
