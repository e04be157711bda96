"""The fixed-point grid: rounding, range checks, overflow budget, exact division."""

from __future__ import annotations

from fractions import Fraction

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator.fixedpoint import (
    FixedPointGrid,
    FixedPointOverflowError,
    FixedPointRangeError,
    div_round_half_even,
    div_round_half_even_int,
)
from ledger.errors import ConfigError, FormatError


def test_quantize_rounds_half_to_even_and_dequantizes_exactly() -> None:
    # Prepare
    grid = FixedPointGrid(frac_bits=2, max_abs=4.0)
    values = torch.tensor([0.125, 0.375, -0.125, -0.375, 0.3, 3.75, -4.0], dtype=torch.float32)

    # Execute
    q = grid.quantize(values)
    back = grid.dequantize(q)

    # Assert
    assert q.tolist() == [0, 2, 0, -2, 1, 15, -16]
    assert back.tolist() == [0.0, 0.5, 0.0, -0.5, 0.25, 3.75, -4.0]
    assert back.dtype == torch.float32


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (float("nan"), "update 1: holds NaN"),
        (float("inf"), "update 1: holds +-Inf"),
        (5.0, "update 1: max |x| = 5 exceeds the grid's max_abs 4"),
    ],
)
def test_quantize_names_the_first_row_out_of_range(bad: float, message: str) -> None:
    # Prepare
    grid = FixedPointGrid(frac_bits=2, max_abs=4.0)
    rows = torch.zeros((3, 4), dtype=torch.float32)
    rows[1, 2] = bad
    rows[2, 0] = bad

    # Execute
    with pytest.raises(FixedPointRangeError) as err:
        grid.quantize(rows)

    # Assert
    assert str(err.value) == message
    assert err.value.row == 1
    assert isinstance(err.value, FormatError)


def test_find_invalid_rows_lists_every_offender_with_its_reason() -> None:
    # Prepare
    grid = FixedPointGrid(frac_bits=8, max_abs=2.0)
    rows = torch.zeros((4, 5), dtype=torch.float32)
    rows[0, 4] = float("nan")
    rows[2, 1] = -float("inf")
    rows[3, 3] = -2.5

    # Execute
    problems = grid.find_invalid_rows(rows, chunk=8)

    # Assert
    assert problems == {
        0: "holds NaN",
        2: "holds +-Inf",
        3: "max |x| = 2.5 exceeds the grid's max_abs 2",
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"frac_bits": True}, "frac_bits must be an int, got True"),
        ({"frac_bits": -1}, "frac_bits must be in [0, 48], got -1"),
        ({"frac_bits": 49}, "frac_bits must be in [0, 48], got 49"),
        ({"max_abs": 0.0}, "max_abs must be finite and > 0, got 0.0"),
        ({"max_abs": float("nan")}, "max_abs must be finite and > 0, got nan"),
        ({"max_abs": "1"}, "max_abs must be a number, got '1'"),
        ({"max_abs": 0.1}, "max_abs must be exactly representable in float32, got 0.1"),
        (
            {"frac_bits": 48, "max_abs": 8.0},
            "max_abs * 2**frac_bits = 2251799813685248 exceeds 2**50: lower frac_bits or max_abs",
        ),
    ],
)
def test_grid_rejects_bad_configuration(kwargs: dict[str, object], message: str) -> None:
    # Execute
    with pytest.raises(ConfigError) as err:
        FixedPointGrid(**kwargs)  # type: ignore[arg-type]

    # Assert
    assert str(err.value) == message


def test_weight_budget_accepts_the_limit_and_refuses_one_more() -> None:
    # Prepare
    grid = FixedPointGrid(frac_bits=40, max_abs=1024.0)  # q_max = 2**50

    # Execute
    grid.check_weight_budget(grid.weight_budget)
    with pytest.raises(FixedPointOverflowError) as err:
        grid.check_weight_budget(grid.weight_budget + 1, "sample counts")

    # Assert
    assert grid.q_max == 2**50
    assert grid.weight_budget == 8191
    assert str(err.value) == (
        "sample counts total 8192 times the grid's largest value 1125899906842624 exceeds "
        "int64 (budget 8191); lower the grid's frac_bits or max_abs in the task spec"
    )
    assert isinstance(err.value, ConfigError)


def test_default_grid_properties() -> None:
    # Execute
    grid = FixedPointGrid()

    # Assert
    assert grid.to_json() == {"frac_bits": 26, "max_abs": 1024.0}
    assert grid.q_max == 2**36
    assert grid.resolution == 2.0**-26
    assert grid.weight_budget == 2**27 - 1


def test_div_round_half_even_table() -> None:
    # Prepare
    numerators = torch.tensor([5, 7, -5, -7, 1, 2, -2, 9, 0, -1], dtype=torch.int64)

    # Execute
    halves = div_round_half_even(numerators[:4], 2)
    thirds = div_round_half_even(numerators[4:], 3)

    # Assert
    assert halves.tolist() == [2, 4, -2, -4]
    assert thirds.tolist() == [0, 1, -1, 3, 0, 0]
    with pytest.raises(ValueError, match="denominator must be positive, got 0"):
        div_round_half_even(numerators, 0)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(-(2**60), 2**60), min_size=1, max_size=20),
    st.integers(1, 2**40),
)
def test_div_round_half_even_matches_exact_rationals(numerators: list[int], denom: int) -> None:
    # Prepare
    expected = [round(Fraction(a, denom)) for a in numerators]  # Fraction rounds half-even

    # Execute
    got = div_round_half_even(torch.tensor(numerators, dtype=torch.int64), denom).tolist()

    # Assert
    assert got == expected
    assert [div_round_half_even_int(a, denom) for a in numerators] == expected


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(-1024, 1024, width=32), min_size=1, max_size=50))
def test_quantize_is_monotone_and_within_half_a_unit(values: list[float]) -> None:
    # Prepare
    grid = FixedPointGrid()
    x = torch.tensor(sorted(values), dtype=torch.float32)

    # Execute
    q = grid.quantize(x)

    # Assert
    assert bool((q[1:] >= q[:-1]).all())
    err = (x.double() * 2**26 - q.double()).abs()
    assert float(err.max()) <= 0.5
