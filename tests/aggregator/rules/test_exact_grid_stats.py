"""The exact column statistics: brute-force references and backend twins."""

from __future__ import annotations

from fractions import Fraction

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator.fixedpoint import FixedPointGrid, FixedPointRangeError
from aggregator.rules import exact


def closest_to_median_reference(values: list[int], beta: int) -> Fraction:
    """Mean of the beta values nearest the median, ties to the smaller value."""
    s = sorted(values)
    n = len(s)
    median = Fraction(s[(n - 1) // 2] + s[n // 2], 2)
    chosen = sorted(s, key=lambda v: (abs(v - median), v))[:beta]
    return Fraction(sum(chosen), beta)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 12).flatmap(
        lambda n: st.tuples(
            st.lists(st.lists(st.integers(-6, 6), min_size=n, max_size=n), min_size=1, max_size=6),
            st.integers(1, n),
        )
    )
)
def test_closest_to_median_window_matches_brute_force(
    case: tuple[list[list[int]], int],
) -> None:
    # Prepare: few distinct small values, so ties of every kind occur
    columns, beta = case
    grid = FixedPointGrid(frac_bits=0, max_abs=16.0)
    updates = torch.tensor(columns, dtype=torch.float32).T.contiguous()  # rows = participants
    expected = [round(closest_to_median_reference(col, beta)) for col in columns]

    # Execute
    got = exact.closest_to_median_mean(exact.GridView(updates, grid), range(updates.shape[0]), beta)

    # Assert
    assert got.tolist() == [float(e) for e in expected]


@pytest.mark.parametrize("n", [1, 2, 3, 7, 16, 17, 33])
@pytest.mark.parametrize("d", [1, 15, 16, 17, 2051])
def test_compiled_and_portable_backends_agree_byte_for_byte(
    n: int, d: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Prepare
    from aggregator.rules import native

    if not native.available():
        pytest.skip(f"compiled kernels {native.status()}")
    grid = FixedPointGrid()
    gen = torch.Generator().manual_seed(n * 1000 + d)
    updates = torch.randn((n + 2, d), generator=gen) * 10
    updates[0, 0] = 1024.0
    rows = list(range(1, n + 1))
    view = exact.GridView(updates, grid)
    weights = [(i * 7919) % 1000 + 1 for i in rows]
    trim = (n - 1) // 3
    beta = max(1, n - 2 * trim)

    def run_all() -> list[bytes]:
        outs = [
            exact.weighted_mean(view, rows, weights, sum(weights)),
            exact.median(view, rows),
            exact.trimmed_mean(view, rows, trim),
            exact.closest_to_median_mean(view, rows, beta),
            exact.median(view, list(range(n + 2))),
        ]
        return [o.numpy().tobytes() for o in outs]

    # Execute
    monkeypatch.setenv("FEDLEDGER_NATIVE", "1")
    compiled = run_all()
    monkeypatch.setenv("FEDLEDGER_NATIVE", "0")
    portable = run_all()

    # Assert
    assert compiled == portable


def test_row_errors_use_the_callers_numbering(backend: str) -> None:
    # Prepare
    grid = FixedPointGrid(frac_bits=8, max_abs=4.0)
    updates = torch.zeros((6, 50), dtype=torch.float32)
    updates[4, 49] = -5.0
    view = exact.GridView(updates, grid)

    # Execute
    with pytest.raises(FixedPointRangeError) as err:
        exact.median(view, [1, 4, 5])

    # Assert
    assert str(err.value) == "update 4: max |x| = 5 exceeds the grid's max_abs 4"


def test_row_scaling_is_applied_exactly_before_the_statistic() -> None:
    # Prepare: halve row 0 (numerator 1 of 2**1), keep row 1
    grid = FixedPointGrid(frac_bits=0, max_abs=64.0)
    updates = torch.tensor([[3.0, 10.0], [4.0, 4.0]], dtype=torch.float32)
    view = exact.GridView(updates, grid, exact.RowScaling((1, 2), 1))

    # Execute
    mean = exact.weighted_mean(view, [0, 1], [1, 1], 2)
    maxima = exact.row_max_q(view, [0, 1])

    # Assert: row 0 becomes [round(1.5)=2, 5]; means (2+4)/2=3, (5+4)/2=4.5->4
    assert mean.tolist() == [3.0, 4.0]
    assert maxima == [5, 4]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda v: exact.weighted_mean(v, [0, 1], [1], 1), "2 rows but 1 weights"),
        (lambda v: exact.weighted_mean(v, [0], [-1], 1), "weights must be non-negative"),
        (lambda v: exact.weighted_mean(v, [0], [1], 0), "denominator must be positive, got 0"),
        (lambda v: exact.trimmed_mean(v, [0, 1], 1), "cannot trim 1 from each side of 2 values"),
        (lambda v: exact.closest_to_median_mean(v, [0, 1], 3), "beta must be in [1, 2], got 3"),
        (lambda v: exact.median(v, []), "median of no rows"),
    ],
)
def test_statistics_refuse_impossible_arguments(call: object, message: str) -> None:
    # Prepare
    view = exact.GridView(torch.ones((2, 3)), FixedPointGrid())

    # Execute
    with pytest.raises(ValueError) as err:
        call(view)  # type: ignore[operator]

    # Assert
    assert str(err.value) == message
