"""FLTrust (Cao, Fang, Liu and Gong, 2021, "FLTrust: Byzantine-robust Federated
Learning via Trust Bootstrapping").

The server trains on a small clean root dataset and obtains its own update ``g0``;
this rule stays pure by taking ``g0`` as an explicit input (``reference``). Each
update gets trust ``TS_i = ReLU(cos(x_i, g0))``, is rescaled to ``|g0|`` and the
aggregate is ``sum_i TS_i |g0|/|x_i| x_i / sum_i TS_i``. The published decision holds
the trust scores and the combined coefficients as integers in units of
``2**-weight_bits``; the aggregate is their exact weighted sum on the grid. The
precision is the largest (<= 2**-24) for which the exact sum provably fits int64.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from aggregator.fixedpoint import INT64_MAX, FixedPointGrid
from aggregator.rules import exact
from aggregator.rules.base import (
    AggregationInputError,
    AggregationMismatch,
    AggregationRule,
    Batch,
    Decision,
    JSONScalar,
    Outcome,
    index_list,
    int_list,
    round_sig,
)
from aggregator.rules.geometry import gram_matrix

#: Accepted difference between published and recomputed trust scores (cosines).
TRUST_TOL = 1e-6
#: Accepted relative difference between published and recomputed coefficients.
WEIGHT_RTOL = 1e-5
_MAX_WEIGHT_BITS = 24


def fltrust_coefficients(
    gram: torch.Tensor, zero_norm: float
) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
    """Trust scores, coefficients and zero-norm rows from a Gram matrix whose last row
    and column belong to the reference update.

    Rows with norm <= ``zero_norm`` (they quantise to all zeros) get trust 0.
    """
    n = gram.shape[0] - 1
    norms = torch.diagonal(gram)[:n].clamp_min(0.0).sqrt()
    ref_norm = float(gram[n, n]) ** 0.5
    if ref_norm <= zero_norm:
        raise AggregationInputError("the reference (server) update has zero norm")
    zero = (norms <= zero_norm).nonzero().flatten().tolist()
    safe = torch.where(norms > zero_norm, norms, torch.ones_like(norms))
    cosine = gram[:n, n] / (safe * ref_norm)
    trust = cosine.clamp_min(0.0)
    trust[zero] = 0.0
    total = float(trust.sum())
    if total == 0.0:
        return trust, torch.zeros(n, dtype=torch.float64), zero
    return trust, trust * (ref_norm / safe) / total, zero


def fit_weight_bits(coeffs: torch.Tensor, row_max: list[int]) -> tuple[int, list[int]]:
    """Largest precision <= 2**-24 whose integer weights keep the exact sum in int64."""
    for bits in range(_MAX_WEIGHT_BITS, -1, -1):
        weights = [round(float(c) * 2**bits) for c in coeffs]
        if sum(w * m for w, m in zip(weights, row_max, strict=True)) <= INT64_MAX:
            return bits, weights
    raise AggregationInputError("FLTrust coefficients overflow the grid even at 1-unit precision")


def fltrust(updates: torch.Tensor, reference: torch.Tensor, grid: FixedPointGrid) -> torch.Tensor:
    """The FLTrust aggregate of ``updates`` given the server update ``reference``."""
    rule = FLTrust(grid)
    return rule.aggregate(updates, [1] * updates.shape[0], reference=reference).aggregate


class FLTrust(AggregationRule):
    """FLTrust with the server's root-dataset update passed as ``reference``."""

    name = "fltrust"
    uses_reference = True

    def __init__(self, grid: FixedPointGrid | None = None) -> None:
        super().__init__(grid)

    @property
    def params(self) -> dict[str, JSONScalar]:
        return {}

    def _trust(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor, list[int], float]:
        gram = gram_matrix(batch.updates, batch.reference, batch.row_factors(), exact_products=True)
        bad = (~torch.isfinite(torch.diagonal(gram))).nonzero()
        if bad.numel():
            raise AggregationInputError(
                f"update {int(bad[0, 0])} has a non-finite squared norm (NaN/Inf values)"
            )
        trust, coeffs, zero = fltrust_coefficients(gram, self.grid.resolution / 2)
        return trust, coeffs, zero, float(gram[-1, -1]) ** 0.5

    def decide(self, batch: Batch) -> Decision:
        trust, coeffs, zero, ref_norm = self._trust(batch)
        row_max = exact.row_max_q(batch.view(self.grid), range(batch.n))
        bits, weights = fit_weight_bits(coeffs, row_max)
        return {
            "rule": self.name,
            "reference_norm": round_sig(ref_norm),
            "trust": [round_sig(float(t)) for t in trust],
            "zero_norm": zero,
            "weight_bits": bits,
            "weights": weights,
        }

    def check_decision(
        self, published: Mapping[str, Any], recomputed: Decision, batch: Batch
    ) -> None:
        if index_list(published, "zero_norm", batch.n) != recomputed["zero_norm"]:
            raise AggregationMismatch(
                f"decision field 'zero_norm' is {published.get('zero_norm')!r}, "
                f"expected {recomputed['zero_norm']!r}"
            )
        trust = published.get("trust")
        if not isinstance(trust, list) or len(trust) != batch.n:
            raise AggregationMismatch(f"decision field 'trust' must list {batch.n} numbers")
        ours_trust, coeffs, _, _ = self._trust(batch)
        for i, value in enumerate(trust):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise AggregationMismatch(f"published trust {i} is not a number: {value!r}")
            if not abs(float(value) - float(ours_trust[i])) <= TRUST_TOL:
                raise AggregationMismatch(
                    f"published trust of update {i} is {value!r}, recomputed "
                    f"{float(ours_trust[i]):.9g} (tolerance {TRUST_TOL})"
                )
        bits = published.get("weight_bits")
        if isinstance(bits, bool) or not isinstance(bits, int) or not 0 <= bits <= 24:
            raise AggregationMismatch(f"decision field 'weight_bits' is invalid: {bits!r}")
        weights = int_list(published, "weights", batch.n)
        for i, w in enumerate(weights):
            ours = float(coeffs[i])
            if abs(w / 2**bits - ours) > WEIGHT_RTOL * ours + 2.0**-bits:
                raise AggregationMismatch(
                    f"published FLTrust coefficient of update {i} is {w / 2**bits:.9g}, "
                    f"recomputed {ours:.9g}"
                )

    def apply(self, decision: Mapping[str, Any], batch: Batch) -> Outcome:
        weights = int_list(decision, "weights", batch.n)
        bits = decision.get("weight_bits")
        if isinstance(bits, bool) or not isinstance(bits, int) or not 0 <= bits <= 24:
            raise AggregationMismatch(f"decision field 'weight_bits' is invalid: {bits!r}")
        zero = set(index_list(decision, "zero_norm", batch.n))
        view = batch.view(self.grid)
        rows = [i for i in range(batch.n) if weights[i] > 0]
        if rows:
            aggregate = exact.weighted_mean(
                view,
                rows,
                [weights[i] for i in rows],
                2**bits,
                row_max_q=exact.row_max_q(view, rows),
            )
        else:
            aggregate = torch.zeros(batch.d, dtype=torch.float32)
        reasons = tuple(
            None
            if weights[i] > 0
            else "zero-norm update"
            if i in zero
            else "trust score 0: not aligned with the server update"
            for i in range(batch.n)
        )
        return Outcome(aggregate, tuple(w > 0 for w in weights), reasons)
