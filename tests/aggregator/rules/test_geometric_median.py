"""RFA geometric median: Weiszfeld in Gram space, published integer weights."""

from __future__ import annotations

import pytest
import torch
from rule_inputs import honest_updates

from aggregator.rules import AggregationMismatch, GeometricMedian, build_rule
from aggregator.rules.base import RuleConfigError
from aggregator.rules.geometric_median import geometric_median_weights, weight_bits, weiszfeld
from aggregator.rules.geometry import gram_matrix


def test_on_a_line_it_finds_the_median() -> None:
    # Prepare: points 0, 1, 2, 10, 100 on one axis; the geometric median is 2
    updates = torch.zeros((5, 3), dtype=torch.float32)
    updates[:, 0] = torch.tensor([0.0, 1.0, 2.0, 10.0, 100.0])

    # Execute
    result = GeometricMedian(max_iter=500, tol=0.0).aggregate(updates, [1] * 5)

    # Assert
    assert abs(float(result.aggregate[0]) - 2.0) < 1e-3
    assert result.aggregate[1:].tolist() == [0.0, 0.0]
    assert result.decision["weight_bits"] == 24
    assert abs(sum(result.decision["weights"]) - 2**24) <= 5


def test_far_outliers_barely_move_it(backend: str) -> None:
    # Prepare
    updates = honest_updates(9, 400, seed=12)
    honest_mean = updates.mean(0)
    updates[:4] = 300.0
    radius = float((updates[4:] - honest_mean).norm(dim=1).max())

    # Execute
    result = GeometricMedian().aggregate(updates, [1] * 9)

    # Assert: 4 of 9 arbitrary points keep it within a few honest radii of the honest mean
    assert float((result.aggregate - honest_mean).norm()) < 2 * radius
    assert max(result.decision["weights"][:4]) < 2**24 * 1e-3


def test_pure_function_matches_the_rule_and_weiszfeld_decreases_the_objective() -> None:
    # Prepare
    updates = honest_updates(7, 100, seed=13)
    gram = gram_matrix(updates)
    shares = torch.ones(7, dtype=torch.float64)

    # Execute
    _, _, one_step = weiszfeld(gram, shares, max_iter=1)
    _, iterations, converged = weiszfeld(gram, shares, max_iter=200, tol=1e-12)
    weights = geometric_median_weights(updates, [1] * 7, GeometricMedian().grid)
    decision = GeometricMedian().aggregate(updates, [1] * 7).decision

    # Assert
    assert converged <= one_step
    assert iterations > 1
    assert weights == decision["weights"]


def test_verify_accepts_it_and_refuses_shifted_weights() -> None:
    # Prepare
    updates = honest_updates(6, 80, seed=14)
    rule = GeometricMedian()
    result = rule.aggregate(updates, [1, 2, 3, 4, 5, 6])
    forged = dict(result.decision)
    forged["weights"] = [w + (2000 if i == 0 else 0) for i, w in enumerate(forged["weights"])]

    # Execute
    rule.verify(result, updates, [1, 2, 3, 4, 5, 6])
    with pytest.raises(AggregationMismatch) as err:
        rule.verify(forged, updates, [1, 2, 3, 4, 5, 6])

    # Assert
    assert str(err.value).startswith("published geometric-median weight of update 0 is ")
    assert str(err.value).endswith("(tolerance 1e-05)")


def test_parameters_are_validated() -> None:
    # Execute
    with pytest.raises(RuleConfigError) as smoothing:
        build_rule("geometric_median", {"smoothing": 0.0})
    with pytest.raises(RuleConfigError) as iterations:
        build_rule("geometric_median", {"max_iter": 0})

    # Assert
    assert str(smoothing.value) == "geometric_median: parameter 'smoothing' must be > 0.0, got 0.0"
    assert str(iterations.value) == "geometric_median: parameter 'max_iter' must be >= 1, got 0"
    assert weight_bits(GeometricMedian().grid) == 24
