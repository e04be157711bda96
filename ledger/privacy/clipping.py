"""Clipping under client-level DP: the bound check, clipping itself, and the adaptive norm.

The clipping norm is what the DP guarantee rests on (it is the mechanism's sensitivity),
so every decision about it is exact and the same on every machine:

- whether an update is within the round's norm ``C`` is decided on the exact squared
  norm (`ledger.formats.norm`), never on a float sum;
- `clip_vector` scales a float32 vector so that its *exact* norm is at most ``C``;
- an update counts as "unclipped" (for adaptive clipping) when its norm is below
  ``C * UNCLIPPED_MARGIN``: a clipped update sits at ``C`` to within float32 rounding,
  so the server and the auditor read the clipping bit off the update itself and no
  participant has to report (and could misreport) it;
- the adaptive update ``C * exp(-eta * (b - gamma))`` is computed in `decimal` (correctly
  rounded ``exp``) and rounded to `NORM_DECIMALS` places.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Context, Decimal
from fractions import Fraction

import torch

from ledger.formats.norm import exact_squared_norm, exceeds_bound
from ledger.privacy.params import DpParams

__all__ = [
    "FRACTION_DECIMALS",
    "NORM_DECIMALS",
    "UNCLIPPED_MARGIN",
    "clip_vector",
    "is_unclipped",
    "next_clipping_norm",
    "noised_fraction",
    "within_clip_bound",
]

UNCLIPPED_MARGIN = Fraction(999_999, 1_000_000)
NORM_DECIMALS = 9
FRACTION_DECIMALS = 9
_CONTEXT = Context(prec=40)


def within_clip_bound(squared_norm: Fraction, clipping_norm: Decimal) -> bool:
    """True when ``sqrt(squared_norm) <= clipping_norm``, decided exactly."""
    return not exceeds_bound(squared_norm, clipping_norm)


def is_unclipped(squared_norm: Fraction, clipping_norm: Decimal) -> bool:
    """True when the update's norm is clearly below the clipping norm (it was not clipped)."""
    limit = Fraction(clipping_norm) * UNCLIPPED_MARGIN
    return squared_norm < limit * limit


def clip_vector(vector: torch.Tensor, clipping_norm: Decimal) -> tuple[torch.Tensor, bool]:
    """Scale a float32 vector to an exact norm of at most `clipping_norm`.

    Returns the (possibly unchanged) vector and whether it was clipped. The factor is
    ``C / |v|`` in float64, shrunk by a few ulps until the float32 result's exact norm is
    within the bound, so the check the auditor runs always passes.
    """
    squared = exact_squared_norm(vector)
    if within_clip_bound(squared, clipping_norm):
        return vector, False
    factor = float(clipping_norm) / math.sqrt(squared)
    while True:
        clipped = (vector.to(torch.float64) * factor).to(torch.float32)
        if within_clip_bound(exact_squared_norm(clipped), clipping_norm):
            return clipped, True
        factor *= 1 - 2**-20


def next_clipping_norm(params: DpParams, clipping_norm: Decimal,
                       unclipped_fraction: Decimal) -> Decimal:
    """The next round's clipping norm under adaptive clipping (fixed: unchanged).

    ``C * exp(-clip_learning_rate * (unclipped_fraction - target_quantile))``, rounded
    half-even to `NORM_DECIMALS` places (geometric update of Andrew et al., 2021).
    """
    if not params.adaptive:
        return params.clipping_norm
    assert params.clip_learning_rate is not None and params.target_quantile is not None
    exponent = _CONTEXT.multiply(-params.clip_learning_rate,
                                 _CONTEXT.subtract(unclipped_fraction, params.target_quantile))
    value = _CONTEXT.multiply(clipping_norm, _CONTEXT.exp(exponent))
    step = Decimal(1).scaleb(-NORM_DECIMALS)
    rounded = value.quantize(step, rounding=ROUND_HALF_EVEN)
    return max(rounded, step).normalize(_CONTEXT)


def noised_fraction(unclipped: int, count: int, count_noise: float) -> Decimal:
    """``(unclipped + count_noise) / count`` rounded half-even to `FRACTION_DECIMALS` places.

    The noisy fraction is what adaptive clipping publishes; `count_noise` comes from the
    round's noise seed (`ledger.privacy.noise`). 0 updates give a fraction of 0.
    """
    if count == 0:
        return Decimal(0)
    exact = (Fraction(unclipped) + Fraction(count_noise)) / count
    step = Decimal(1).scaleb(-FRACTION_DECIMALS)
    value = _CONTEXT.divide(Decimal(exact.numerator), Decimal(exact.denominator))
    return value.quantize(step, rounding=ROUND_HALF_EVEN).normalize(_CONTEXT)
