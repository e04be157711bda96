"""Exact column-wise statistics on the fixed-point grid: the audited half of every rule.

Everything here reads float32 updates in column chunks, quantises each chunk on the
grid (never the whole [N, d] matrix: peak extra memory stays a few chunks), does
integer arithmetic only, and writes the float32 image of the integer result. Results
are therefore independent of thread count, SIMD width and row order.

Two backends compute the same integers: a compiled C kernel (:mod:`aggregator.rules.native`)
used when it is built and the batch has no per-row scaling, and the portable torch code
below. Sorting on float32 and quantising the order statistics afterwards gives the same
integers as sorting the quantised values, because quantisation is monotone
(non-decreasing); tests check the two backends byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch

from aggregator.fixedpoint import (
    INT64_MAX,
    FixedPointGrid,
    FixedPointOverflowError,
    FixedPointRangeError,
    div_round_half_even,
)
from aggregator.rules import native

_CHUNK_ELEMENTS = 1 << 20  # int64 chunk of about 8 MiB


@dataclass(frozen=True)
class RowScaling:
    """Exact per-row rescaling ``q' = round_half_even(q * numerator / 2**bits)``.

    Used by norm clipping: the published decision fixes the integer numerators, so
    the scaled grid values are a pure function of the decision.
    """

    numerators: tuple[int, ...]
    bits: int

    def factors(self) -> torch.Tensor:
        """The scaling as float64 factors (for float-side decisions)."""
        return torch.tensor(self.numerators, dtype=torch.float64) / float(2**self.bits)


class GridView:
    """Read-only view of a batch of updates on the grid, one column chunk at a time."""

    def __init__(
        self,
        updates: torch.Tensor,
        grid: FixedPointGrid,
        scaling: RowScaling | None = None,
    ) -> None:
        self.updates = updates
        self.grid = grid
        self.scaling = scaling

    @property
    def num_rows(self) -> int:
        return int(self.updates.shape[0])

    @property
    def dim(self) -> int:
        return int(self.updates.shape[1])

    def chunks(self, rows: Sequence[int]) -> Iterator[tuple[int, int, torch.Tensor]]:
        """Yield ``(start, stop, q)`` with ``q`` the int64 grid values of ``rows``."""
        d = self.dim
        step = max(1, _CHUNK_ELEMENTS // max(len(rows), 1))
        all_rows = list(rows) == list(range(self.num_rows))
        index = torch.tensor(list(rows), dtype=torch.int64)
        if self.scaling is not None:
            numerators = torch.tensor(
                [self.scaling.numerators[r] for r in rows], dtype=torch.int64
            ).unsqueeze(1)
        for start in range(0, d, step):
            stop = min(d, start + step)
            block = self.updates[:, start:stop] if all_rows else self.updates[index, start:stop]
            q = self._quantize_rows(block, rows)
            if self.scaling is not None:
                q = div_round_half_even(q * numerators, 2**self.scaling.bits)
            yield start, stop, q

    def _quantize_rows(self, block: torch.Tensor, rows: Sequence[int]) -> torch.Tensor:
        try:
            return self.grid.quantize(block)
        except FixedPointRangeError as err:  # name the row in the caller's numbering
            raise FixedPointRangeError(rows[err.row], str(err).split(": ", 1)[1]) from None

    def native_ok(self) -> bool:
        """Whether the compiled kernel may serve this view."""
        return (
            self.scaling is None
            and self.updates.is_contiguous()
            and self.num_rows <= native.MAX_ROWS
            and native.available()
        )


def weighted_mean(
    view: GridView,
    rows: Sequence[int],
    weights: Sequence[int],
    denominator: int,
    row_max_q: Sequence[int] | None = None,
) -> torch.Tensor:
    """``round_half_even(sum_i w_i q_i / denominator)`` per coordinate, as float32 [d].

    Overflow is ruled out before summing: by the grid's static bound, or, when
    ``row_max_q`` gives each row's exact largest ``|q|`` (:func:`row_max_q`), by
    ``sum_i w_i * row_max_q[i] <= 2**63 - 1``.
    """
    if len(rows) != len(weights):
        raise ValueError(f"{len(rows)} rows but {len(weights)} weights")
    if any(w < 0 for w in weights):
        raise ValueError("weights must be non-negative")
    if denominator <= 0:
        raise ValueError(f"denominator must be positive, got {denominator}")
    if row_max_q is None:
        view.grid.check_weight_budget(sum(weights))
    else:
        bound = sum(w * m for w, m in zip(weights, row_max_q, strict=True))
        if bound > INT64_MAX:
            raise FixedPointOverflowError(
                f"weighted sum bound {bound} exceeds int64; lower the weights' precision"
            )
    if view.native_ok():
        return native.weighted_mean(view.updates, rows, weights, denominator, view.grid)
    out = torch.empty(view.dim, dtype=torch.float32)
    w = torch.tensor(list(weights), dtype=torch.int64).unsqueeze(1)
    for start, stop, q in view.chunks(rows):
        total = (q * w).sum(dim=0)
        out[start:stop] = view.grid.dequantize(div_round_half_even(total, denominator))
    return out


def row_max_q(view: GridView, rows: Sequence[int]) -> list[int]:
    """Each row's exact largest ``|q|`` on the grid (after any row scaling)."""
    worst = torch.zeros(len(rows), dtype=torch.float32)
    index = torch.tensor(list(rows), dtype=torch.int64)
    step = max(1, _CHUNK_ELEMENTS // max(len(rows), 1))
    for start in range(0, view.dim, step):
        block = view.updates[index, start : start + step]
        worst = torch.maximum(worst, block.abs().amax(dim=1))
    q = view.grid.quantize(worst)
    if view.scaling is not None:
        numerators = torch.tensor([view.scaling.numerators[r] for r in rows], dtype=torch.int64)
        q = div_round_half_even(q * numerators, 2**view.scaling.bits)
    return [int(v) for v in q]


def median(view: GridView, rows: Sequence[int]) -> torch.Tensor:
    """Coordinate-wise median; an even count averages the two middle values (half-even)."""
    n = len(rows)
    if n == 0:
        raise ValueError("median of no rows")
    if view.native_ok():
        return native.trimmed_sum(view.updates, rows, _median_trim(n), view.grid, median=True)
    out = torch.empty(view.dim, dtype=torch.float32)
    for start, stop, q in view.chunks(rows):
        ordered = torch.sort(q, dim=0).values
        pair = ordered[(n - 1) // 2] + ordered[n // 2]
        out[start:stop] = view.grid.dequantize(div_round_half_even(pair, 2))
    return out


def _median_trim(n: int) -> int:
    return (n - 1) // 2


def trimmed_mean(view: GridView, rows: Sequence[int], trim: int) -> torch.Tensor:
    """Mean of the middle ``n - 2*trim`` values per coordinate (unweighted)."""
    n = len(rows)
    if trim < 0 or 2 * trim >= n:
        raise ValueError(f"cannot trim {trim} from each side of {n} values")
    view.grid.check_weight_budget(n - 2 * trim, "trimmed count")
    if view.native_ok():
        return native.trimmed_sum(view.updates, rows, trim, view.grid, median=False)
    out = torch.empty(view.dim, dtype=torch.float32)
    for start, stop, q in view.chunks(rows):
        ordered = torch.sort(q, dim=0).values
        total = ordered[trim : n - trim].sum(dim=0)
        out[start:stop] = view.grid.dequantize(div_round_half_even(total, n - 2 * trim))
    return out


def closest_to_median_mean(view: GridView, rows: Sequence[int], beta: int) -> torch.Tensor:
    """Bulyan's coordinate stage: mean of the ``beta`` values closest to the median.

    Per coordinate, with ``m`` the (exact, possibly half-integer) median of the grid
    values, take the ``beta`` values with the smallest ``|q - m|``, ties going to the
    smaller value, and average them (half-even). In sorted order those values form a
    window; see :func:`_window_starts`.
    """
    n = len(rows)
    if not 1 <= beta <= n:
        raise ValueError(f"beta must be in [1, {n}], got {beta}")
    view.grid.check_weight_budget(beta, "Bulyan beta")
    if view.native_ok():
        return native.closest_to_median_mean(view.updates, rows, beta, view.grid)
    out = torch.empty(view.dim, dtype=torch.float32)
    for start, stop, q in view.chunks(rows):
        ordered = torch.sort(q, dim=0).values
        starts = _window_starts(ordered, beta)
        prefix = torch.zeros((n + 1, ordered.shape[1]), dtype=torch.int64)
        torch.cumsum(ordered, dim=0, out=prefix[1:])
        total = (
            prefix.gather(0, (starts + beta).unsqueeze(0))[0]
            - prefix.gather(0, starts.unsqueeze(0))[0]
        )
        out[start:stop] = view.grid.dequantize(div_round_half_even(total, beta))
    return out


def _window_starts(ordered: torch.Tensor, beta: int) -> torch.Tensor:
    """Start of the ``beta`` closest-to-median window per column of sorted values.

    Sliding the window one step right swaps ``s[l]`` for ``s[l + beta]``; it pays iff
    ``s[l + beta]`` is strictly closer to the median, or equally close and the two are
    equal values left of the median (a no-op move kept so the moves form a prefix).
    With the key "distance, then value" decreasing strictly left of the median and
    increasing strictly right of it, the profitable moves are exactly the first ones,
    so the start is their count. Distances are doubled to stay integral.
    """
    n = ordered.shape[0]
    twice_median = ordered[(n - 1) // 2] + ordered[n // 2]
    left = ordered[: n - beta]
    right = ordered[beta:]
    dist_left = (2 * left - twice_median).abs()
    dist_right = (2 * right - twice_median).abs()
    better = (dist_right < dist_left) | ((right == left) & (2 * left < twice_median))
    return better.sum(dim=0)
