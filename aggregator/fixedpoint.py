"""The fixed-point grid that makes aggregation reproducible bit for bit.

Floating-point sums depend on summation order (thread count, SIMD width, participant
order), so an auditor on another machine could not reproduce a float aggregate. The
audited path therefore maps every float32 coordinate ``x`` onto an int64 grid

    q = round_half_even(x * 2**frac_bits)

does exact integer arithmetic (sums, sorts, medians, trims, divisions with the rounding
rule of :func:`div_round_half_even`) and maps the integer result back with

    x' = float32(q) * 2**-frac_bits

(the int64 -> float32 conversion rounds to nearest even, then the power-of-two scaling
is exact). Every step is defined on integers, so its result does not depend on the
order in which anyone adds things up.

Bounds. Each coordinate must be finite and satisfy ``|x| <= max_abs``; the largest grid
value is then ``q_max = round(max_abs * 2**frac_bits) <= 2**50``. A weighted integer sum
``sum_i w_i * q_i`` is computed in int64, so a rule must prove
``sum_i w_i * q_max <= 2**63 - 1`` before it sums (:meth:`FixedPointGrid.check_weight_budget`);
otherwise it raises :class:`FixedPointOverflowError` naming the remedy instead of wrapping
silently.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ledger.errors import ConfigError, FedLedgerError, FormatError

INT64_MAX = 2**63 - 1
_MAX_GRID_BITS = 50  # q_max <= 2**50 keeps 2*q and float64 carriers of q exact


class FixedPointError(FedLedgerError):
    """Something cannot be represented on the fixed-point grid."""


class FixedPointRangeError(FixedPointError, FormatError):
    """An update holds a NaN/Inf or a coordinate beyond the grid's ``max_abs``.

    ``row`` is the index of the offending update in the batch (address order), so the
    caller can reject that participant and aggregate the rest.
    """

    def __init__(self, row: int, detail: str) -> None:
        self.row = row
        super().__init__(f"update {row}: {detail}")


class FixedPointOverflowError(FixedPointError, ConfigError):
    """An exact integer sum could exceed int64 with the configured grid and weights."""


@dataclass(frozen=True)
class FixedPointGrid:
    """The int64 grid ``k * 2**-frac_bits`` with coordinates bounded by ``max_abs``.

    The defaults (resolution 2**-26 ~ 1.5e-8, range +-1024) leave room for total
    integer weights up to ``2**63 / (1024 * 2**26) = 2**27`` (about 134 million samples).
    """

    frac_bits: int = 26
    max_abs: float = 1024.0

    def __post_init__(self) -> None:
        if isinstance(self.frac_bits, bool) or not isinstance(self.frac_bits, int):
            raise ConfigError(f"frac_bits must be an int, got {self.frac_bits!r}")
        if not 0 <= self.frac_bits <= 48:
            raise ConfigError(f"frac_bits must be in [0, 48], got {self.frac_bits}")
        if isinstance(self.max_abs, bool) or not isinstance(self.max_abs, (int, float)):
            raise ConfigError(f"max_abs must be a number, got {self.max_abs!r}")
        if not (math.isfinite(self.max_abs) and self.max_abs > 0):
            raise ConfigError(f"max_abs must be finite and > 0, got {self.max_abs!r}")
        if float(torch.tensor(self.max_abs, dtype=torch.float32)) != float(self.max_abs):
            raise ConfigError(
                f"max_abs must be exactly representable in float32, got {self.max_abs!r}"
            )
        if self.q_max > 2**_MAX_GRID_BITS:
            raise ConfigError(
                f"max_abs * 2**frac_bits = {self.q_max} exceeds 2**{_MAX_GRID_BITS}: "
                "lower frac_bits or max_abs"
            )

    @property
    def scale(self) -> float:
        """Grid units per 1.0 (``2**frac_bits``)."""
        return float(2**self.frac_bits)

    @property
    def resolution(self) -> float:
        """Distance between neighbouring grid points (``2**-frac_bits``)."""
        return 2.0**-self.frac_bits

    @property
    def q_max(self) -> int:
        """The largest grid value a valid coordinate can quantise to."""
        return round(float(self.max_abs) * (1 << self.frac_bits))

    @property
    def weight_budget(self) -> int:
        """The largest total integer weight an exact weighted sum may use."""
        return INT64_MAX // max(self.q_max, 1)

    def to_json(self) -> dict[str, int | float]:
        """The grid as published in a task spec or round report."""
        return {"frac_bits": self.frac_bits, "max_abs": float(self.max_abs)}

    # ------------------------------------------------------------------ checks
    def check_weight_budget(self, total_weight: int, what: str = "weights") -> None:
        """Raise unless ``total_weight * q_max`` fits in int64."""
        if total_weight < 0:
            raise FixedPointOverflowError(f"{what} total {total_weight} is negative")
        if total_weight > self.weight_budget:
            raise FixedPointOverflowError(
                f"{what} total {total_weight} times the grid's largest value {self.q_max} "
                f"exceeds int64 (budget {self.weight_budget}); lower the grid's frac_bits "
                "or max_abs in the task spec"
            )

    def find_invalid_rows(self, updates: torch.Tensor, chunk: int = 1 << 20) -> dict[int, str]:
        """Rows holding NaN/Inf or coordinates beyond ``max_abs``, with the reason.

        One read pass; meant for ingestion, so an orchestrator can reject those
        participants before running a rule.
        """
        _check_matrix(updates)
        n, d = updates.shape
        worst = torch.zeros(n, dtype=torch.float32)
        step = max(1, chunk // max(n, 1))
        for start in range(0, d, step):
            # torch.maximum propagates NaN, so a NaN anywhere in a row survives to the end
            worst = torch.maximum(worst, updates[:, start : start + step].abs().amax(dim=1))
        problems: dict[int, str] = {}
        for row, value in enumerate(worst.tolist()):
            if math.isnan(value):
                problems[row] = "holds NaN"
            elif math.isinf(value):
                problems[row] = "holds +-Inf"
            elif value > self.max_abs:
                problems[row] = f"max |x| = {value:.6g} exceeds the grid's max_abs {self.max_abs:g}"
        return problems

    # ------------------------------------------------------------ conversion
    def quantize(self, values: torch.Tensor, row_offset: int = 0) -> torch.Tensor:
        """Map float32 values (1-D or [rows, cols]) to int64 grid values, checking range.

        Raises :class:`FixedPointRangeError` naming the first offending row
        (``row_offset`` + local row index) when a value is NaN/Inf or beyond max_abs.
        """
        if values.dtype != torch.float32:
            raise FormatError(f"quantize expects float32, got {values.dtype}")
        self.check_range(values, row_offset)
        scaled = values * self.scale  # exact: power-of-two scaling of a bounded float32
        return torch.round(scaled).to(torch.int64)  # torch.round is half-to-even

    def check_range(self, values: torch.Tensor, row_offset: int = 0) -> None:
        """Raise :class:`FixedPointRangeError` if any value is non-finite or too large."""
        if values.numel() == 0:
            return
        rows = values if values.dim() == 2 else values.unsqueeze(0)
        ok = rows.abs() <= self.max_abs  # False for NaN
        if bool(ok.all()):
            return
        bad_row = int((~ok).any(dim=1).nonzero()[0, 0])
        row_vals = rows[bad_row]
        if bool(torch.isnan(row_vals).any()):
            detail = "holds NaN"
        elif bool(torch.isinf(row_vals).any()):
            detail = "holds +-Inf"
        else:
            detail = (
                f"max |x| = {float(row_vals.abs().max()):.6g} exceeds the grid's "
                f"max_abs {self.max_abs:g}"
            )
        raise FixedPointRangeError(row_offset + bad_row, detail)

    def dequantize(self, q: torch.Tensor) -> torch.Tensor:
        """Map int64 grid values back to float32 (round-to-nearest-even, then exact scale)."""
        if q.dtype != torch.int64:
            raise FormatError(f"dequantize expects int64, got {q.dtype}")
        return q.to(torch.float32) * torch.tensor(self.resolution, dtype=torch.float32)


def div_round_half_even(numerator: torch.Tensor, denominator: int) -> torch.Tensor:
    """Exact ``numerator / denominator`` rounded to the nearest integer, ties to even.

    ``numerator`` is int64, ``denominator`` a positive int. Floor division and the
    remainder are exact; the remainder decides the rounding, so the result is a pure
    function of the integers (no float involved).
    """
    if denominator <= 0:
        raise ValueError(f"denominator must be positive, got {denominator}")
    if denominator == 1:
        return numerator.clone()
    quotient = torch.div(numerator, denominator, rounding_mode="floor")
    remainder = numerator - quotient * denominator  # 0 <= r < denominator
    twice = remainder * 2
    round_up = (twice > denominator) | ((twice == denominator) & (quotient % 2 != 0))
    return quotient + round_up.to(torch.int64)


def div_round_half_even_int(numerator: int, denominator: int) -> int:
    """Python-int twin of :func:`div_round_half_even` (for scalars and references)."""
    if denominator <= 0:
        raise ValueError(f"denominator must be positive, got {denominator}")
    quotient, remainder = divmod(numerator, denominator)
    if 2 * remainder > denominator or (2 * remainder == denominator and quotient % 2):
        quotient += 1
    return quotient


def _check_matrix(updates: torch.Tensor) -> None:
    if not isinstance(updates, torch.Tensor):
        raise FormatError(f"updates must be a torch.Tensor, got {type(updates).__name__}")
    if updates.dim() != 2:
        raise FormatError(f"updates must be 2-D [N, d], got shape {tuple(updates.shape)}")
    if updates.dtype != torch.float32:
        raise FormatError(f"updates must be float32, got {updates.dtype}")
