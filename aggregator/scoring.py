"""Contribution scores: how much each accepted update agreed with the robust aggregate.

Score of update ``i`` = ``max(0, cos(x_i, aggregate))``, published as an integer in
units of 1e-6 (:data:`SCORE_UNITS`). Why cosine to the robust aggregate:

* cheap: one pass of dot products over data already in memory, no model evaluation;
* label-free: needs no validation data, so nobody must trust the aggregator's data;
* it punishes what robust aggregation fights: a sign-flipped update scores 0, random
  noise scores about 0 (near-orthogonal in high dimension), a free-rider sending a
  zero or stale update scores 0 or little, while honest updates that point where the
  robust aggregate points score high.

The alternative is leave-one-out validation gain (loss of the model aggregated without
``i`` minus with ``i`` on a validation set): closer to "marginal value", but it costs
N extra aggregations and evaluations per round and requires a validation set everyone
trusts, so it does not fit a label-free audit.

Cosines are computed in float64 over column chunks, so a recomputation agrees to far
below one unit except where a value lies on a rounding boundary: the auditor compares
with :func:`verify_scores` and a tolerance of a few units, and the rewards follow
exactly from the published integers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from aggregator.rules.base import AggregationInputError, AggregationMismatch
from aggregator.rules.geometry import dots_with, row_norms

#: Scores are integers in units of 1e-6 of a cosine.
SCORE_UNITS = 1_000_000
#: Default tolerance of :func:`verify_scores`, in score units.
DEFAULT_TOLERANCE = 2


class ScoreMismatch(AggregationMismatch):
    """Published scores disagree with a recomputation beyond the tolerance."""


@dataclass(frozen=True)
class ScoreReport:
    """Per-update scores (integers, units of 1e-6) and the cosines they came from."""

    scores: tuple[int, ...]
    cosines: tuple[float, ...]


def cosine_scores(
    updates: torch.Tensor, aggregate: torch.Tensor, accepted: Sequence[bool]
) -> ScoreReport:
    """Score every accepted update against ``aggregate``; rejected updates score 0.

    Zero-norm updates (and a zero aggregate) score 0.
    """
    if updates.dim() != 2 or updates.dtype != torch.float32:
        raise AggregationInputError("updates must be a float32 [N, d] tensor")
    n, d = updates.shape
    if aggregate.dtype != torch.float32 or tuple(aggregate.shape) != (d,):
        raise AggregationInputError(
            f"aggregate must be float32 of shape ({d},), got {aggregate.dtype} "
            f"{tuple(aggregate.shape)}"
        )
    if len(accepted) != n:
        raise AggregationInputError(f"{n} updates but {len(accepted)} accepted flags")
    agg_norm = float(row_norms(aggregate.unsqueeze(0))[0])
    norms = row_norms(updates)
    dots = dots_with(updates, aggregate)
    scores: list[int] = []
    cosines: list[float] = []
    for i in range(n):
        norm = float(norms[i])
        if not accepted[i] or norm == 0.0 or agg_norm == 0.0:
            scores.append(0)
            cosines.append(0.0)
            continue
        cosine = float(dots[i]) / (norm * agg_norm)
        if not math.isfinite(cosine):
            raise AggregationInputError(f"update {i} holds NaN/Inf: its cosine is {cosine}")
        cosines.append(cosine)
        scores.append(min(SCORE_UNITS, max(0, round(cosine * SCORE_UNITS))))
    return ScoreReport(tuple(scores), tuple(cosines))


def verify_scores(
    published: Sequence[int], recomputed: Sequence[int], tol: int = DEFAULT_TOLERANCE
) -> None:
    """Raise :class:`ScoreMismatch` unless every published score is within ``tol`` units."""
    if len(published) != len(recomputed):
        raise ScoreMismatch(f"{len(published)} published scores but {len(recomputed)} recomputed")
    for i, (pub, rec) in enumerate(zip(published, recomputed, strict=True)):
        if isinstance(pub, bool) or not isinstance(pub, int) or not 0 <= pub <= SCORE_UNITS:
            raise ScoreMismatch(f"published score {i} is not an int in [0, {SCORE_UNITS}]: {pub!r}")
        if abs(pub - rec) > tol:
            raise ScoreMismatch(
                f"published score of update {i} is {pub}, recomputed {rec} (tolerance {tol})"
            )
