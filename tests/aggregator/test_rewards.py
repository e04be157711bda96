"""Largest-remainder reward allocation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator.rewards import RewardInputError, allocate_rewards


def test_allocation_is_proportional_with_leftover_to_largest_remainders() -> None:
    # Execute
    equal = allocate_rewards(10, [1, 1, 1])
    mixed = allocate_rewards(100, [500_000, 300_000, 0, 200_000])
    remainders = allocate_rewards(7, [3, 2, 2])

    # Assert
    assert equal == [4, 3, 3]  # tie on remainders: lower index (address order) first
    assert mixed == [50, 30, 0, 20]
    assert remainders == [3, 2, 2]


def test_all_zero_scores_pay_nothing_and_empty_is_empty() -> None:
    # Execute / Assert
    assert allocate_rewards(10**18, [0, 0, 0]) == [0, 0, 0]
    assert allocate_rewards(5, []) == []
    assert allocate_rewards(0, [3, 4]) == [0, 0]


def test_token_sized_pool_is_split_exactly() -> None:
    # Prepare
    pool = 1000 * 10**18

    # Execute
    amounts = allocate_rewards(pool, [999_999, 1, 333_333])

    # Assert
    assert sum(amounts) == pool
    # floors 749999437499859374964, 750000187500046, 249999812499953124988 leave 2 units,
    # which go to the two largest remainders (1166682 at index 1, 1124988 at index 0)
    assert amounts == [749999437499859374965, 750000187500047, 249999812499953124988]


@pytest.mark.parametrize(
    ("pool", "scores", "message"),
    [
        (-1, [1], "pool must be a non-negative int, got -1"),
        (1.5, [1], "pool must be a non-negative int, got 1.5"),
        (True, [1], "pool must be a non-negative int, got True"),
        (10, [1, -2], "score 1 must be a non-negative int, got -2"),
        (10, [1, 0.5], "score 1 must be a non-negative int, got 0.5"),
        (10, [False], "score 0 must be a non-negative int, got False"),
    ],
)
def test_bad_inputs_are_refused(pool: object, scores: list[object], message: str) -> None:
    # Execute
    with pytest.raises(RewardInputError) as err:
        allocate_rewards(pool, scores)  # type: ignore[arg-type]

    # Assert
    assert str(err.value) == message


scores_strategy = st.lists(st.integers(0, 10**6), min_size=1, max_size=30)
pools = st.integers(0, 10**24)


@settings(max_examples=200, deadline=None)
@given(pools, scores_strategy)
def test_sum_is_exactly_the_pool_and_zero_scores_get_zero(pool: int, scores: list[int]) -> None:
    # Execute
    amounts = allocate_rewards(pool, scores)

    # Assert
    assert sum(amounts) == (pool if any(scores) else 0)
    assert all(a == 0 for a, s in zip(amounts, scores, strict=True) if s == 0)
    total = sum(scores)
    for a, s in zip(amounts, scores, strict=True):
        if total:
            assert pool * s // total <= a <= pool * s // total + 1


@settings(max_examples=200, deadline=None)
@given(pools, scores_strategy)
def test_allocation_is_monotone_in_score(pool: int, scores: list[int]) -> None:
    # Execute
    amounts = allocate_rewards(pool, scores)

    # Assert
    for i, si in enumerate(scores):
        for j, sj in enumerate(scores):
            if si > sj:
                assert amounts[i] >= amounts[j]


@settings(max_examples=200, deadline=None)
@given(pools, st.lists(st.integers(0, 10**6), min_size=1, max_size=30, unique=True), st.randoms())
def test_allocation_follows_a_permutation_of_distinct_scores(
    pool: int, scores: list[int], rnd: object
) -> None:
    # Prepare
    order = list(range(len(scores)))
    rnd.shuffle(order)  # type: ignore[attr-defined]
    permuted = [scores[i] for i in order]

    # Execute
    base = allocate_rewards(pool, scores)
    moved = allocate_rewards(pool, permuted)

    # Assert: each score keeps its amount (distinct scores leave no tie to break by index)
    assert moved == [base[i] for i in order]
