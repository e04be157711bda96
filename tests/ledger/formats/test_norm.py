"""Exact L2 norms: the same verdict at the bound on every machine."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import ledger.formats.norm as norm_module
from ledger.formats.errors import NonFiniteError
from ledger.formats.norm import exact_squared_norm, exceeds_bound, l2_norm


def reference(values: np.ndarray) -> Fraction:
    return sum((Fraction(float(x)) ** 2 for x in values), Fraction(0))


finite_float32 = st.floats(width=32, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(values=arrays(np.float32, st.integers(0, 300), elements=finite_float32))
def test_exact_squared_norm_equals_rational_sum(values: np.ndarray) -> None:
    # Execute / Assert
    assert exact_squared_norm(values) == reference(values)


def test_exact_across_chunk_and_flush_boundaries(monkeypatch: pytest.MonkeyPatch) -> None:
    # Prepare: tiny chunks and flushes exercise the accumulation paths
    rng = np.random.default_rng(7)
    values = (rng.standard_normal(1000) * np.exp(rng.uniform(-60, 60, 1000))).astype(np.float32)
    values[:5] = [0.0, -0.0, 1e-45, -3.4028235e38, 1.1754944e-38]  # zero, subnormal, max, min normal
    monkeypatch.setattr(norm_module, "_CHUNK", 7)
    monkeypatch.setattr(norm_module, "_FLUSH", 21)
    # Execute / Assert
    assert exact_squared_norm(values) == reference(values)


def test_torch_and_numpy_inputs_agree() -> None:
    # Prepare
    vector = torch.tensor([3.0, -4.0, 0.0])
    # Execute / Assert
    assert exact_squared_norm(vector) == Fraction(25)
    assert exact_squared_norm(vector.numpy()) == Fraction(25)
    assert l2_norm(vector) == 5.0


def test_result_does_not_depend_on_order() -> None:
    # Prepare
    rng = np.random.default_rng(3)
    values = rng.standard_normal(10_000).astype(np.float32) * np.float32(1e3)
    # Execute / Assert
    assert exact_squared_norm(values) == exact_squared_norm(values[::-1].copy())
    assert exact_squared_norm(values) == exact_squared_norm(rng.permutation(values))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_values_are_refused(bad: float) -> None:
    # Prepare
    values = np.array([1.0, bad], dtype=np.float32)
    # Execute / Assert
    with pytest.raises(NonFiniteError, match="vector holds NaN or Inf"):
        exact_squared_norm(values)


def test_wrong_dtype_is_a_type_error() -> None:
    # Execute / Assert
    with pytest.raises(TypeError, match="expected a float32 tensor, got torch.float64"):
        exact_squared_norm(torch.zeros(3, dtype=torch.float64))


def test_exceeds_bound_is_exact_at_the_bound() -> None:
    # Prepare: |(3, 4)| is exactly 5
    squared = exact_squared_norm(np.array([3, 4], dtype=np.float32))
    just_above = exact_squared_norm(np.array([3, np.nextafter(np.float32(4), np.float32(5))],
                                             dtype=np.float32))
    # Execute / Assert
    assert not exceeds_bound(squared, Decimal(5))
    assert exceeds_bound(squared, Decimal("4.9999999999999999999"))
    assert exceeds_bound(just_above, 5)
    with pytest.raises(ValueError, match="norm bound must be >= 0"):
        exceeds_bound(squared, -1)
