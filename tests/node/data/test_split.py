"""Stratified seeded split: disjoint, complete, per-class, reproducible."""

from __future__ import annotations

import numpy as np
import pytest

from ledger.errors import ConfigError
from node.data.split import stratified_split


def test_stratified_split_is_disjoint_complete_and_per_class() -> None:
    # Prepare
    labels = np.array([0] * 10 + [1] * 5 + [2] * 1)

    # Execute
    train, test = stratified_split(labels, 0.2, seed=3)

    # Assert
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(16))
    assert np.bincount(labels[test], minlength=3).tolist() == [2, 1, 0]
    np.testing.assert_array_equal(stratified_split(labels, 0.2, seed=3)[1], test)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
def test_stratified_split_rejects_fraction_outside_open_interval(fraction: float) -> None:
    with pytest.raises(ConfigError, match=r"test_fraction must be in \(0, 1\)"):
        stratified_split(np.array([0, 1, 0, 1]), fraction, seed=0)


def test_stratified_split_rejects_split_without_test_samples() -> None:
    with pytest.raises(ConfigError, match="leaves no test samples out of 2"):
        stratified_split(np.array([0, 1]), 0.5, seed=0)
