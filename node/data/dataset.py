"""The one record every loader returns, so training never cares where data came from.

Loaders differ in file formats; everything after them (partitioners, training,
evaluation) sees the same shape: float32 image-like tensors `(N, *input_shape)` in
[0, 1] (or the user's own scale for CSV data) and int64 labels in `[0, num_classes)`.
The record checks those invariants once, at construction, so a loader bug surfaces
as a clear error instead of a silent shape mismatch rounds later.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ledger.errors import FormatError


@dataclass(frozen=True)
class Dataset:
    """A labelled train/test split ready for training.

    Attributes
    ----------
    name:
        Loader name plus any qualifier (for example ``"digits"``, ``"csv:iris.csv"``).
    x_train, x_test:
        float32 tensors of shape ``(N, *input_shape)``.
    y_train, y_test:
        int64 tensors of shape ``(N,)`` with values in ``[0, num_classes)``.
    num_classes:
        Number of classes the model must output.
    input_shape:
        Shape of one sample, ``(C, H, W)`` for images or ``(F,)`` for tables.
    class_names:
        Human-readable name of each class index.
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int
    input_shape: tuple[int, ...]
    class_names: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.num_classes < 2:
            raise FormatError(
                f"dataset {self.name!r}: needs at least 2 classes, has {self.num_classes}"
            )
        if len(self.class_names) != self.num_classes:
            raise FormatError(
                f"dataset {self.name!r}: {len(self.class_names)} class names for "
                f"{self.num_classes} classes"
            )
        for split, x, y in (
            ("train", self.x_train, self.y_train),
            ("test", self.x_test, self.y_test),
        ):
            self._check_split(split, x, y)

    def _check_split(self, split: str, x: torch.Tensor, y: torch.Tensor) -> None:
        where = f"dataset {self.name!r} {split} split"
        if x.dtype != torch.float32:
            raise FormatError(f"{where}: inputs must be float32, got {x.dtype}")
        if y.dtype != torch.int64:
            raise FormatError(f"{where}: labels must be int64, got {y.dtype}")
        if tuple(x.shape[1:]) != self.input_shape:
            raise FormatError(
                f"{where}: sample shape {tuple(x.shape[1:])} differs from input_shape "
                f"{self.input_shape}"
            )
        if y.ndim != 1 or y.shape[0] != x.shape[0]:
            raise FormatError(f"{where}: {x.shape[0]} inputs but labels of shape {tuple(y.shape)}")
        if x.shape[0] == 0:
            raise FormatError(f"{where}: is empty")
        if not bool(torch.isfinite(x).all()):
            raise FormatError(f"{where}: inputs contain NaN or Inf")
        low, high = int(y.min()), int(y.max())
        if low < 0 or high >= self.num_classes:
            raise FormatError(
                f"{where}: labels span [{low}, {high}], outside [0, {self.num_classes - 1}]"
            )

    @property
    def num_train(self) -> int:
        """Number of training samples."""
        return int(self.x_train.shape[0])

    @property
    def num_test(self) -> int:
        """Number of test samples."""
        return int(self.x_test.shape[0])
