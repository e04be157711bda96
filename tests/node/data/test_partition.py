"""Partitioners: disjoint complete coverage, the promised skew, determinism, clear refusals."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch

from ledger.errors import ConfigError
from node.data.errors import PartitionError
from node.data.partition import (
    PARTITIONERS,
    Partition,
    dirichlet_partition,
    iid_partition,
    partition_labels,
    quantity_dirichlet_partition,
    quantity_power_law_partition,
    shard_partition,
)

LABELS = np.repeat(np.arange(10), 50)  # 500 samples, 50 per class

SCHEMES = [
    ("iid", {}),
    ("dirichlet", {"alpha": 0.5}),
    ("shards", {"classes_per_client": 2}),
    ("quantity-dirichlet", {"alpha": 0.5}),
    ("quantity-power-law", {"exponent": 1.2}),
]


def _assert_exact_cover(partition: Partition, num_samples: int) -> None:
    joined = np.concatenate(partition.client_indices)
    assert joined.size == num_samples
    assert np.array_equal(np.sort(joined), np.arange(num_samples))
    for idx in partition.client_indices:
        assert idx.dtype == np.int64 and np.all(np.diff(idx) > 0)


@pytest.mark.parametrize(("scheme", "params"), SCHEMES)
def test_every_scheme_covers_each_sample_once_and_is_seeded(
    scheme: str, params: dict[str, float]
) -> None:
    # Execute
    first = partition_labels(scheme, LABELS, 8, seed=11, min_samples=5, **params)
    again = partition_labels(scheme, torch.from_numpy(LABELS), 8, seed=11, min_samples=5, **params)
    other = partition_labels(scheme, LABELS, 8, seed=12, min_samples=5, **params)

    # Assert
    _assert_exact_cover(first, LABELS.size)
    assert first.num_clients == 8 and min(first.sizes) >= 5
    assert first.scheme == scheme and first.params == tuple(sorted(params.items()))
    for a, b in zip(first.client_indices, again.client_indices, strict=True):
        assert np.array_equal(a, b)
    assert any(
        not np.array_equal(a, b)
        for a, b in zip(first.client_indices, other.client_indices, strict=True)
    )


def test_registry_holds_every_scheme() -> None:
    assert sorted(PARTITIONERS) == sorted(name for name, _ in SCHEMES)


def test_iid_partition_balances_sizes() -> None:
    partition = iid_partition(LABELS, 7, seed=0)

    assert sorted(partition.sizes) == [71] * 4 + [72] * 3


def test_dirichlet_small_alpha_skews_labels_more_than_large_alpha() -> None:
    # Execute
    skewed = dirichlet_partition(LABELS, 10, alpha=0.1, seed=0, min_samples=1)
    mild = dirichlet_partition(LABELS, 10, alpha=100.0, seed=0, min_samples=1)

    # Assert: share of each client's most frequent class
    def top_share(p: Partition) -> float:
        hist = p.label_histogram(LABELS, 10)
        return float((hist.max(axis=1) / hist.sum(axis=1)).mean())

    assert top_share(skewed) > 0.5
    assert top_share(mild) < 0.25


def test_dirichlet_gives_up_with_advice_when_min_samples_unreachable() -> None:
    with pytest.raises(PartitionError) as info:
        dirichlet_partition(LABELS, 20, alpha=0.01, seed=0, min_samples=20, max_attempts=5)
    assert str(info.value) == (
        "dirichlet(alpha=0.01) gave some client fewer than 20 samples in 5 attempts; "
        "raise alpha, use fewer clients or lower min_samples"
    )


def test_shard_partition_gives_each_client_exactly_k_classes() -> None:
    # Execute
    partition = shard_partition(LABELS, 10, classes_per_client=2, seed=4)

    # Assert
    hist = partition.label_histogram(LABELS, 10)
    assert ((hist > 0).sum(axis=1) == 2).all()
    assert hist.sum(axis=0).tolist() == [50] * 10
    assert sorted(partition.sizes) == [50] * 10


def test_shard_partition_refuses_uncoverable_classes() -> None:
    with pytest.raises(PartitionError, match="3 clients x 2 classes cannot cover all 10 classes"):
        shard_partition(LABELS, 3, classes_per_client=2, seed=0)


def test_shard_partition_rejects_k_out_of_range() -> None:
    with pytest.raises(ConfigError, match=r"classes_per_client must be in \[1, 10\], got 11"):
        shard_partition(LABELS, 3, classes_per_client=11, seed=0)


def test_quantity_skew_keeps_labels_mixed_and_sizes_unequal() -> None:
    # Execute
    by_dirichlet = quantity_dirichlet_partition(LABELS, 10, alpha=0.3, seed=1, min_samples=10)
    by_power = quantity_power_law_partition(LABELS, 10, exponent=1.5, seed=1, min_samples=10)

    # Assert
    for partition in (by_dirichlet, by_power):
        assert min(partition.sizes) >= 10
        assert max(partition.sizes) > 3 * min(partition.sizes)
        assert sum(partition.sizes) == 500
    power_sizes = sorted(by_power.sizes, reverse=True)
    assert power_sizes[0] > power_sizes[1] > power_sizes[4]


def test_too_few_samples_for_clients_is_a_partition_error() -> None:
    with pytest.raises(PartitionError) as info:
        iid_partition(np.zeros(30, dtype=np.int64), 10, seed=0, min_samples=4)
    assert str(info.value) == (
        "cannot give each of 10 clients at least 4 samples from 30; "
        "use fewer clients or a smaller min_samples"
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: iid_partition(LABELS, 0, seed=0), "num_clients must be >= 1, got 0"),
        (lambda: iid_partition(LABELS, 2, seed=0, min_samples=0), "min_samples must be >= 1"),
        (lambda: dirichlet_partition(LABELS, 2, alpha=0.0, seed=0), "alpha must be > 0"),
        (lambda: iid_partition(np.array([[0, 1]]), 1, seed=0), "labels must be one-dimensional"),
        (lambda: iid_partition(np.array([0.5, 1.0]), 1, seed=0), "non-negative integers"),
        (lambda: iid_partition(np.array([-1, 1]), 1, seed=0), "non-negative integers"),
        (
            lambda: quantity_power_law_partition(LABELS, 2, exponent=-1.0, seed=0),
            "exponent must be >= 0",
        ),
    ],
)
def test_bad_parameters_are_config_errors(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        call()


def test_partition_labels_rejects_unknown_scheme_and_parameter() -> None:
    with pytest.raises(ConfigError, match="unknown partition scheme 'zipf'; known: dirichlet, iid"):
        partition_labels("zipf", LABELS, 2, seed=0)
    with pytest.raises(ConfigError, match="partition scheme 'dirichlet': missing a required"):
        partition_labels("dirichlet", LABELS, 2, seed=0)
    with pytest.raises(ConfigError, match="unexpected keyword argument 'beta'"):
        partition_labels("iid", LABELS, 2, seed=0, beta=1)


def test_label_histogram_rejects_labels_beyond_num_classes() -> None:
    partition = iid_partition(LABELS, 2, seed=0)

    with pytest.raises(ConfigError, match="label 9 out of range for 5 classes"):
        partition.label_histogram(LABELS, 5)
