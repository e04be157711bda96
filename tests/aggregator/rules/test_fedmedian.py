"""Coordinate-wise median on the grid."""

from __future__ import annotations

import torch

from aggregator.fixedpoint import FixedPointGrid
from aggregator.rules import FedMedian
from aggregator.rules.fedmedian import fedmedian


def test_odd_count_takes_the_middle_value(backend: str) -> None:
    # Prepare
    updates = torch.tensor([[5.0, -1.0], [1.0, 100.0], [3.0, 2.0]], dtype=torch.float32)

    # Execute
    result = FedMedian().aggregate(updates, [1, 1, 1])

    # Assert
    assert result.aggregate.tolist() == [3.0, 2.0]
    assert result.decision == {"rule": "fedmedian", "count": 3}
    assert result.accepted == (True, True, True)


def test_even_count_averages_the_middle_pair_half_to_even(backend: str) -> None:
    # Prepare: grid of 1/4; middle pairs (1, 2) and (2, 3) units -> 1.5 -> 2 and 2.5 -> 2
    grid = FixedPointGrid(frac_bits=2, max_abs=8.0)
    updates = torch.tensor(
        [[0.25, 0.5], [0.5, 0.75], [7.0, 7.0], [-7.0, -7.0]], dtype=torch.float32
    )

    # Execute
    result = FedMedian(grid).aggregate(updates, [1, 1, 1, 1])

    # Assert
    assert result.aggregate.tolist() == [0.5, 0.5]


def test_matches_the_quantised_torch_median_on_random_data(backend: str) -> None:
    # Prepare
    grid = FixedPointGrid()
    gen = torch.Generator().manual_seed(1)
    updates = torch.randn((13, 777), generator=gen)
    expected = grid.dequantize(torch.sort(grid.quantize(updates), dim=0).values[6])

    # Execute
    result = fedmedian(updates, grid)

    # Assert
    assert torch.equal(result, expected)
