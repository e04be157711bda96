"""Coordinate-wise trimmed mean on the grid."""

from __future__ import annotations

import pytest
import torch

from aggregator.fixedpoint import FixedPointGrid
from aggregator.rules import RuleConfigError, TrimmedMean, build_rule
from aggregator.rules.trimmed_mean import trim_count, trimmed_mean


def test_trims_k_per_side_and_averages_the_rest(backend: str) -> None:
    # Prepare: beta 0.2 of 5 -> trim 1 each side
    updates = torch.tensor(
        [[1000.0, 1.0], [1.0, -1000.0], [2.0, 2.0], [3.0, 3.0], [-1000.0, 1000.0]],
        dtype=torch.float32,
    )

    # Execute
    result = TrimmedMean(beta=0.2).aggregate(updates, [1] * 5)

    # Assert
    assert result.aggregate.tolist() == [2.0, 2.0]
    assert result.decision == {"rule": "trimmed_mean", "count": 5, "trimmed_per_side": 1}


def test_trim_count_follows_flower_and_scipy() -> None:
    # Assert: int(beta * n), including float products just under an integer
    assert trim_count(0.1, 10) == 1
    assert trim_count(0.3, 10) == 3
    assert trim_count(0.29, 100) == 28
    assert trim_count(0.0, 7) == 0


def test_matches_a_sorted_grid_reference(backend: str) -> None:
    # Prepare
    grid = FixedPointGrid()
    gen = torch.Generator().manual_seed(2)
    updates = torch.randn((11, 300), generator=gen) * 3
    q = torch.sort(grid.quantize(updates), dim=0).values[2:9]
    total = q.sum(0)
    expected = grid.dequantize(
        torch.tensor([round(__import__("fractions").Fraction(int(t), 7)) for t in total])
    )

    # Execute
    result = trimmed_mean(updates, 0.2, grid)

    # Assert
    assert torch.equal(result, expected)


@pytest.mark.parametrize(
    ("beta", "message"),
    [
        (0.5, "trimmed_mean: parameter 'beta' must be < 0.5, got 0.5"),
        (-0.1, "trimmed_mean: parameter 'beta' must be >= 0.0, got -0.1"),
        ("0.1", "trimmed_mean: parameter 'beta' must be a number, got '0.1'"),
        (float("nan"), "trimmed_mean: parameter 'beta' must be finite, got nan"),
    ],
)
def test_beta_is_validated(beta: object, message: str) -> None:
    # Execute
    with pytest.raises(RuleConfigError) as err:
        build_rule("trimmed_mean", {"beta": beta})  # type: ignore[dict-item]

    # Assert
    assert str(err.value) == message
