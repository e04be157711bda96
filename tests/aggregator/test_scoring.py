"""Cosine contribution scores and their audit check."""

from __future__ import annotations

import pytest
import torch

from aggregator.rules.base import AggregationInputError, AggregationMismatch
from aggregator.scoring import ScoreMismatch, cosine_scores, verify_scores


def test_scores_are_clipped_cosines_in_millionths() -> None:
    # Prepare
    aggregate = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float32)
    updates = torch.tensor(
        [
            [2.0, 0.0, 0.0],  # same direction, larger norm
            [-1.0, 0.0, 0.0],  # sign flipped
            [0.0, 3.0, 0.0],  # orthogonal
            [1.0, 3.0**0.5, 0.0],  # cosine 0.5
            [0.0, 0.0, 0.0],  # free rider
            [1.0, 1.0, 0.0],  # rejected by the rule
        ],
        dtype=torch.float32,
    )

    # Execute
    report = cosine_scores(updates, aggregate, [True, True, True, True, True, False])

    # Assert
    assert report.scores == (1_000_000, 0, 0, 500_000, 0, 0)
    assert report.cosines[1] == -1.0
    assert report.cosines[5] == 0.0


def test_zero_aggregate_scores_everyone_zero() -> None:
    # Execute
    report = cosine_scores(torch.ones((2, 4)), torch.zeros(4), [True, True])

    # Assert
    assert report.scores == (0, 0)


@pytest.mark.parametrize(
    ("updates", "aggregate", "accepted", "message"),
    [
        (torch.ones(4), torch.ones(4), [True], "updates must be a float32 [N, d] tensor"),
        (
            torch.ones((2, 4)),
            torch.ones(3),
            [True, True],
            "aggregate must be float32 of shape (4,), got torch.float32 (3,)",
        ),
        (torch.ones((2, 4)), torch.ones(4), [True], "2 updates but 1 accepted flags"),
        (
            torch.tensor([[float("nan"), 1.0]]),
            torch.ones(2),
            [True],
            "update 0 holds NaN/Inf: its cosine is nan",
        ),
    ],
)
def test_bad_inputs_are_refused(
    updates: torch.Tensor, aggregate: torch.Tensor, accepted: list[bool], message: str
) -> None:
    # Execute
    with pytest.raises(AggregationInputError) as err:
        cosine_scores(updates, aggregate, accepted)

    # Assert
    assert str(err.value) == message


def test_recomputation_in_other_thread_count_is_within_tolerance() -> None:
    # Prepare
    gen = torch.Generator().manual_seed(3)
    updates = torch.randn((12, 50_000), generator=gen)
    aggregate = updates.mean(dim=0)
    threads = torch.get_num_threads()

    # Execute
    published = cosine_scores(updates, aggregate, [True] * 12).scores
    torch.set_num_threads(1)
    try:
        recomputed = cosine_scores(updates, aggregate, [True] * 12).scores
    finally:
        torch.set_num_threads(threads)

    # Assert
    verify_scores(published, recomputed)
    assert all(s > 200_000 for s in published)


def test_verify_scores_names_the_first_discrepancy() -> None:
    # Execute
    verify_scores([10, 20, 30], [12, 20, 29], tol=2)
    with pytest.raises(ScoreMismatch) as far:
        verify_scores([10, 20, 30], [10, 25, 30], tol=2)
    with pytest.raises(ScoreMismatch) as length:
        verify_scores([10, 20], [10, 20, 30])
    with pytest.raises(ScoreMismatch) as forged:
        verify_scores([10, 2_000_000], [10, 20])

    # Assert
    assert str(far.value) == "published score of update 1 is 20, recomputed 25 (tolerance 2)"
    assert str(length.value) == "2 published scores but 3 recomputed"
    assert str(forged.value) == "published score 1 is not an int in [0, 1000000]: 2000000"
    assert isinstance(far.value, AggregationMismatch)
