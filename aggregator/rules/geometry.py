"""Float-side geometry of a batch: Gram matrices, norms and dot products.

Krum, Bulyan's selection, the geometric median and FLTrust only need inner products
between updates (and a reference), so one Gram pass over the data (N*N*d
multiply-adds at matrix-multiply speed) feeds them all; after that every decision
is O(N^2) work on an N x N matrix. Chunks of columns are multiplied in float32 (the
fast path) and accumulated in float64, which bounds the rounding growth; for few rows
(<= ``native.GRAM_MAX_ROWS``) a compiled kernel takes the upper triangle from L1-sized
column blocks instead, since the BLAS product is far from its peak there. These numbers
only feed *decisions*; the decisions are published rounded and verified within a
stated tolerance, and the aggregate downstream of them is exact.
"""

from __future__ import annotations

import torch

from aggregator.rules import native

_GRAM_COLUMNS = 1 << 16
_F64_ELEMENTS = 1 << 20  # float64 copies of a chunk stay around 8 MiB


def _f64_step(n: int) -> int:
    """Columns per float64 chunk: bounded memory whatever N is."""
    return max(1024, _F64_ELEMENTS // max(n, 1))


def gram_matrix(
    updates: torch.Tensor,
    reference: torch.Tensor | None = None,
    row_factors: torch.Tensor | None = None,
    *,
    exact_products: bool = False,
) -> torch.Tensor:
    """Float64 Gram matrix of the rows of ``updates`` (and ``reference`` as a last row).

    ``row_factors`` (float64 [N]) rescales the rows first (``diag(f) G diag(f)``),
    the float image of an exact per-row scaling such as norm clipping.

    By default each chunk is multiplied in float32 (relative error ~1e-6: plenty for
    ranking, as Krum does). ``exact_products=True`` multiplies in float64 (error
    ~1e-15, about half the speed): rules that publish *continuous* weights rounded to
    2**-24 need it, or thread-count noise would flip the last published unit.
    """
    n, d = updates.shape
    if (
        reference is None
        and not exact_products
        and n <= native.GRAM_MAX_ROWS
        and updates.is_contiguous()
        and native.available()
    ):
        gram = native.gram_small(updates)  # the BLAS product is slow for few rows
        if row_factors is not None:
            factors = row_factors.to(torch.float64)
            gram = gram * factors.unsqueeze(0) * factors.unsqueeze(1)
        return gram
    size = n + (1 if reference is not None else 0)
    gram = torch.zeros((size, size), dtype=torch.float64)
    step = _f64_step(n) if exact_products else _GRAM_COLUMNS
    for start in range(0, d, step):
        block = updates[:, start : start + step]
        if exact_products:
            block = block.to(torch.float64)
        gram[:n, :n] += (block @ block.T).to(torch.float64)
        if reference is not None:
            ref = reference[start : start + step].to(block.dtype)
            cross = (block @ ref).to(torch.float64)
            gram[:n, n] += cross
            gram[n, :n] += cross
            gram[n, n] += float(torch.dot(ref, ref))
    if row_factors is not None:
        factors = row_factors.to(torch.float64)
        if reference is not None:
            factors = torch.cat([factors, torch.ones(1, dtype=torch.float64)])
        gram = gram * factors.unsqueeze(0) * factors.unsqueeze(1)
    return gram


def squared_distances(gram: torch.Tensor) -> torch.Tensor:
    """Pairwise squared L2 distances from a Gram matrix, clamped at 0, zero diagonal."""
    diag = torch.diagonal(gram)
    dist = diag.unsqueeze(0) + diag.unsqueeze(1) - 2.0 * gram
    dist = dist.clamp_min(0.0)
    dist.fill_diagonal_(0.0)
    return dist


def row_norms(updates: torch.Tensor) -> torch.Tensor:
    """Float64 L2 norm of every row, accumulated over column chunks."""
    n, d = updates.shape
    squares = torch.zeros(n, dtype=torch.float64)
    step = _f64_step(n)
    for start in range(0, d, step):
        block = updates[:, start : start + step].to(torch.float64)
        squares += (block * block).sum(dim=1)
    return squares.sqrt()


def dots_with(updates: torch.Tensor, vector: torch.Tensor) -> torch.Tensor:
    """Float64 dot product of every row with ``vector``, accumulated over chunks."""
    n, d = updates.shape
    dots = torch.zeros(n, dtype=torch.float64)
    step = _f64_step(n)
    for start in range(0, d, step):
        block = updates[:, start : start + step].to(torch.float64)
        dots += block @ vector[start : start + step].to(torch.float64)
    return dots
