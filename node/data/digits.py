"""scikit-learn's 8x8 handwritten digits: the default dataset because it ships offline.

1,797 real images (10 classes) inside the scikit-learn wheel let every demo, test and
benchmark run with no download. Pixel values 0..16 are scaled to [0, 1]; the split
is stratified and seeded so every participant derives the same test set.
"""

from __future__ import annotations

import numpy as np
import torch

from node.data.dataset import Dataset
from node.data.split import stratified_split

DIGITS_MAX_PIXEL = 16.0


def load_digits(test_fraction: float = 0.2, seed: int = 0) -> Dataset:
    """Load the scikit-learn digits as 1x8x8 float images in [0, 1].

    Parameters
    ----------
    test_fraction:
        Share of each class held out as the test set.
    seed:
        Seed of the stratified split.
    """
    # scikit-learn is imported on use: importing the catalog should not cost its import time.
    from sklearn.datasets import load_digits as sklearn_load_digits

    bunch = sklearn_load_digits()
    images = np.asarray(bunch.images, dtype=np.float32) / DIGITS_MAX_PIXEL
    labels = np.asarray(bunch.target, dtype=np.int64)
    train_idx, test_idx = stratified_split(labels, test_fraction, seed)
    x = torch.from_numpy(images).unsqueeze(1)
    y = torch.from_numpy(labels)
    return Dataset(
        name="digits",
        x_train=x[train_idx].contiguous(),
        y_train=y[train_idx].contiguous(),
        x_test=x[test_idx].contiguous(),
        y_test=y[test_idx].contiguous(),
        num_classes=10,
        input_shape=(1, 8, 8),
        class_names=tuple(str(d) for d in range(10)),
    )
