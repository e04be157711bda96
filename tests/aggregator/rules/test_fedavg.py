"""FedAvg on the grid: exact weighted means, input checks, audit."""

from __future__ import annotations

import pytest
import torch

from aggregator.fixedpoint import FixedPointGrid, FixedPointOverflowError, FixedPointRangeError
from aggregator.rules import AggregationMismatch, FedAvg, build_rule
from aggregator.rules.base import AggregationInputError, RuleConfigError
from aggregator.rules.fedavg import fedavg


def test_weighted_mean_rounds_half_to_even_on_the_grid(backend: str) -> None:
    # Prepare: grid of 1/16; column 1 averages 1 and 2 units with weights 1:3 -> 1.75 units
    grid = FixedPointGrid(frac_bits=4, max_abs=8.0)
    updates = torch.tensor([[1.0, 0.0625, 0.03125], [0.0, 0.125, 0.0]], dtype=torch.float32)

    # Execute
    result = FedAvg(grid).aggregate(updates, [1, 3])

    # Assert: 0.03125 is half a unit and rounds to 0 (even)
    assert result.aggregate.tolist() == [0.25, 0.125, 0.0]
    assert result.accepted == (True, True)
    assert result.reasons == (None, None)
    assert result.decision == {"rule": "fedavg", "weights": [1, 3]}


def test_unweighted_mean_and_pure_function_agree(backend: str, grid: FixedPointGrid) -> None:
    # Prepare
    updates = torch.tensor([[1.0, -2.0], [3.0, 4.0], [5.0, 1.0]], dtype=torch.float32)

    # Execute
    plain = build_rule("fedavg", {"weighted": False}, grid).aggregate(updates, [5, 1, 1])
    pure = fedavg(updates, [5, 1, 1], grid, weighted=False)

    # Assert
    assert plain.aggregate.tolist() == [3.0, 1.0]
    assert torch.equal(plain.aggregate, pure)


def test_close_to_float_mean(backend: str, grid: FixedPointGrid) -> None:
    # Prepare
    gen = torch.Generator().manual_seed(0)
    updates = torch.randn((9, 1001), generator=gen)
    samples = [3, 1, 4, 1, 5, 9, 2, 6, 5]
    weights = torch.tensor(samples, dtype=torch.float64).unsqueeze(1)
    expected = (updates.double() * weights).sum(0) / sum(samples)

    # Execute
    result = FedAvg(grid).aggregate(updates, samples)

    # Assert: input rounding and the final division each add at most half a grid unit,
    # the float32 image of the integer result at most half a float32 ulp
    err = (result.aggregate.double() - expected).abs()
    assert bool((err <= grid.resolution + expected.abs() * 2.0**-24).all())


def test_verify_accepts_the_result_and_names_tampering(grid: FixedPointGrid) -> None:
    # Prepare
    updates = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float32)
    rule = FedAvg(grid)
    result = rule.aggregate(updates, [1, 1])
    forged_weights = {"rule": "fedavg", "weights": [1, 2]}
    tampered = type(result)(
        result.rule, result.aggregate + torch.tensor([0.0, 1.0]), result.accepted,
        result.reasons, result.decision,
    )  # fmt: skip

    # Execute
    rule.verify(result, updates, [1, 1])
    with pytest.raises(AggregationMismatch) as weights_err:
        rule.verify(forged_weights, updates, [1, 1])
    with pytest.raises(AggregationMismatch) as bytes_err:
        rule.verify(tampered, updates, [1, 1])

    # Assert
    assert str(weights_err.value) == (
        "decision field(s) ['weights'] differ: published {'weights': [1, 2]}, "
        "recomputed {'weights': [1, 1]}"
    )
    assert str(bytes_err.value) == "aggregate bytes differ at 1 coordinate(s), first at index 1"


@pytest.mark.parametrize(
    ("updates", "samples", "message"),
    [
        (torch.ones(3), [1], "updates must be 2-D [N, d], got shape (3,)"),
        (
            torch.ones((2, 3), dtype=torch.float64),
            [1, 1],
            "updates must be float32, got torch.float64",
        ),
        (torch.ones((2, 3)), [1], "2 updates but 1 sample counts"),
        (torch.ones((2, 3)), [1, 0], "num_samples[1] must be a positive int, got 0"),
        (torch.ones((2, 3)), [1, True], "num_samples[1] must be a positive int, got True"),
        (torch.ones((0, 3)), [], "need at least one non-empty update, got 0 x 3"),
        ([[1.0]], [1], "updates must be a torch.Tensor, got list"),
    ],
)
def test_malformed_inputs_are_refused(updates: object, samples: list[object], message: str) -> None:
    # Execute
    with pytest.raises(AggregationInputError) as err:
        FedAvg().aggregate(updates, samples)  # type: ignore[arg-type]

    # Assert
    assert str(err.value) == message


def test_nan_and_out_of_range_rows_are_named(backend: str) -> None:
    # Prepare
    updates = torch.zeros((4, 40), dtype=torch.float32)
    updates[2, 33] = float("nan")
    updates[3, 1] = 2000.0

    # Execute
    with pytest.raises(FixedPointRangeError) as err:
        FedAvg().aggregate(updates, [1, 1, 1, 1])

    # Assert
    assert err.value.row == 2
    assert str(err.value) == "update 2: holds NaN"


def test_reference_is_refused_by_a_rule_that_takes_none() -> None:
    # Execute
    with pytest.raises(AggregationInputError) as err:
        FedAvg().aggregate(torch.ones((2, 2)), [1, 1], reference=torch.ones(2))

    # Assert
    assert str(err.value) == "rule 'fedavg' takes no reference update"


def test_sample_totals_beyond_the_grid_budget_are_refused() -> None:
    # Prepare: q_max = 2**50 leaves a total weight budget of 8191
    grid = FixedPointGrid(frac_bits=40, max_abs=1024.0)

    # Execute
    with pytest.raises(FixedPointOverflowError) as err:
        FedAvg(grid).aggregate(torch.ones((2, 2)), [5000, 5000])

    # Assert
    assert str(err.value).startswith("weights total 10000 times the grid's largest value")


def test_weighted_must_be_a_bool() -> None:
    # Execute
    with pytest.raises(RuleConfigError) as err:
        build_rule("fedavg", {"weighted": 1})

    # Assert
    assert str(err.value) == "fedavg: parameter 'weighted' must be a bool, got 1"
