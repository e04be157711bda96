"""Geometric median by smoothed Weiszfeld iterations: RFA (Pillutla, Kakade and
Harchaoui, 2022, "Robust Aggregation for Federated Learning").

The geometric median ``argmin_z sum_i a_i |z - x_i|`` (``a_i`` = sample shares) has
breakdown point 1/2. Each Weiszfeld step re-weights the points by ``a_i / max(nu,
|z - x_i|)``; since every iterate is a convex combination ``z = sum_i c_i x_i``, the
distances follow from the Gram matrix, so after one Gram pass the iterations cost
O(N^2) each. That Gram is multiplied in float64: the published coefficients have 24
bits, and float32 products would let thread-count noise flip the last one. The decision publishes the final coefficients ``c_i`` as integers in
units of ``2**-weight_bits``; the aggregate is their exact weighted mean on the grid.
The auditor accepts coefficients within :data:`WEIGHT_TOL` of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from aggregator.fixedpoint import FixedPointGrid
from aggregator.rules import exact
from aggregator.rules.base import (
    AggregationInputError,
    AggregationMismatch,
    AggregationRule,
    Batch,
    Decision,
    JSONScalar,
    Outcome,
    float_param,
    int_list,
    int_param,
    round_sig,
)
from aggregator.rules.geometry import gram_matrix

#: Largest accepted difference between a published and a recomputed coefficient.
WEIGHT_TOL = 1e-5
_MAX_WEIGHT_BITS = 24


def _distances(gram: torch.Tensor, coeffs: torch.Tensor) -> torch.Tensor:
    """``|x_i - sum_j c_j x_j|`` for every row, from the Gram matrix."""
    g_c = gram @ coeffs
    squared = torch.diagonal(gram) - 2.0 * g_c + coeffs @ g_c
    return squared.clamp_min(0.0).sqrt()


def weiszfeld(
    gram: torch.Tensor,
    shares: torch.Tensor,
    smoothing: float = 1e-6,
    max_iter: int = 100,
    tol: float = 1e-7,
) -> tuple[torch.Tensor, int, float]:
    """Smoothed Weiszfeld in coefficient space.

    Returns the coefficients of the approximate geometric median, the number of
    iterations run and the final objective ``sum_i a_i |z - x_i|``. Stops when the
    objective's relative change drops to ``tol``.
    """
    coeffs = shares / shares.sum()
    objective = float((shares * _distances(gram, coeffs)).sum())
    iterations = 0
    for iterations in range(1, max_iter + 1):
        weights = shares / _distances(gram, coeffs).clamp_min(smoothing)
        coeffs = weights / weights.sum()
        new_objective = float((shares * _distances(gram, coeffs)).sum())
        converged = abs(objective - new_objective) <= tol * new_objective
        objective = new_objective
        if converged:
            break
    return coeffs, iterations, objective


def weight_bits(grid: FixedPointGrid) -> int:
    """Precision of published coefficients: 2**-24, or less if the grid's budget is small."""
    return max(1, min(_MAX_WEIGHT_BITS, grid.weight_budget.bit_length() - 2))


def geometric_median_weights(
    updates: torch.Tensor,
    num_samples: list[int],
    grid: FixedPointGrid,
    smoothing: float = 1e-6,
    max_iter: int = 100,
    tol: float = 1e-7,
) -> list[int]:
    """Integer coefficients (units of ``2**-weight_bits(grid)``) of the geometric median."""
    shares = torch.tensor(num_samples, dtype=torch.float64)
    gram = gram_matrix(updates, exact_products=True)
    coeffs, _, _ = weiszfeld(gram, shares, smoothing, max_iter, tol)
    scale = 2 ** weight_bits(grid)
    return [round(float(c) * scale) for c in coeffs]


class GeometricMedian(AggregationRule):
    """RFA geometric median (sample-weighted), smoothed Weiszfeld."""

    name = "geometric_median"

    def __init__(
        self,
        grid: FixedPointGrid | None = None,
        smoothing: float = 1e-6,
        max_iter: int = 100,
        tol: float = 1e-7,
    ) -> None:
        super().__init__(grid)
        self.smoothing = float_param(self.name, "smoothing", smoothing, low=0.0, low_open=True)
        self.max_iter = int_param(self.name, "max_iter", max_iter, minimum=1)
        self.tol = float_param(self.name, "tol", tol, low=0.0)

    @property
    def params(self) -> dict[str, JSONScalar]:
        return {"smoothing": self.smoothing, "max_iter": self.max_iter, "tol": self.tol}

    def _coefficients(self, batch: Batch) -> tuple[torch.Tensor, int, float]:
        gram = gram_matrix(batch.updates, row_factors=batch.row_factors(), exact_products=True)
        bad = (~torch.isfinite(torch.diagonal(gram))).nonzero()
        if bad.numel():
            raise AggregationInputError(
                f"update {int(bad[0, 0])} has a non-finite squared norm (NaN/Inf values)"
            )
        shares = torch.tensor(batch.num_samples, dtype=torch.float64)
        return weiszfeld(gram, shares, self.smoothing, self.max_iter, self.tol)

    def decide(self, batch: Batch) -> Decision:
        coeffs, iterations, objective = self._coefficients(batch)
        bits = weight_bits(self.grid)
        return {
            "rule": self.name,
            "weight_bits": bits,
            "weights": [round(float(c) * 2**bits) for c in coeffs],
            "iterations": iterations,
            "objective": round_sig(objective),
        }

    def check_decision(
        self, published: Mapping[str, Any], recomputed: Decision, batch: Batch
    ) -> None:
        if published.get("weight_bits") != recomputed["weight_bits"]:
            raise AggregationMismatch(
                f"decision field 'weight_bits' is {published.get('weight_bits')!r}, "
                f"expected {recomputed['weight_bits']!r}"
            )
        weights = int_list(published, "weights", batch.n)
        ours = int_list(recomputed, "weights", batch.n)
        scale = 1 << weight_bits(self.grid)
        for i, (pub, rec) in enumerate(zip(weights, ours, strict=True)):
            if abs(pub - rec) > WEIGHT_TOL * scale + 1:
                raise AggregationMismatch(
                    f"published geometric-median weight of update {i} is {pub / scale:.9f}, "
                    f"recomputed {rec / scale:.9f} (tolerance {WEIGHT_TOL})"
                )

    def apply(self, decision: Mapping[str, Any], batch: Batch) -> Outcome:
        weights = int_list(decision, "weights", batch.n)
        if sum(weights) == 0:
            raise AggregationMismatch("decision field 'weights' sums to 0")
        aggregate = exact.weighted_mean(
            batch.view(self.grid), range(batch.n), weights, sum(weights)
        )
        return Outcome(aggregate, (True,) * batch.n, (None,) * batch.n)
