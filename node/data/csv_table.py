"""Labelled tabular data from a CSV file: one label column, the rest numeric features.

Participants with sensor or clinical tables should not need pandas or a custom
loader. The file is read with the standard `csv` module; each bad row is reported
with its line number, because a table exported from a spreadsheet usually has one
stray cell rather than being wholly wrong. Labels may be integers or names; names
map to indices in sorted order so that every participant with the same label set
agrees on the indices. Features are used as given (no scaling).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import torch

from ledger.errors import ConfigError
from node.data.dataset import Dataset
from node.data.errors import DatasetFormatError, DatasetNotFoundError
from node.data.split import stratified_split


def _label_index(raw_labels: list[str], path: Path) -> tuple[np.ndarray, tuple[str, ...]]:
    """Turn the label column into indices; integer labels keep their values."""
    try:
        ints = [int(v) for v in raw_labels]
    except ValueError:
        names = tuple(sorted(set(raw_labels)))
        lookup = {name: i for i, name in enumerate(names)}
        return np.array([lookup[v] for v in raw_labels], dtype=np.int64), names
    if min(ints) < 0:
        raise DatasetFormatError(path, f"integer labels must be >= 0, found {min(ints)}")
    num_classes = max(ints) + 1
    return np.array(ints, dtype=np.int64), tuple(str(i) for i in range(num_classes))


def load_csv(
    root: Path | str,
    label_column: str | int = "label",
    input_shape: tuple[int, ...] | None = None,
    has_header: bool = True,
    delimiter: str = ",",
    test_fraction: float = 0.2,
    seed: int = 0,
) -> Dataset:
    """Load a CSV file of labelled samples.

    Parameters
    ----------
    root:
        Path of the CSV file.
    label_column:
        Header name of the label column, or its 0-based position.
    input_shape:
        Shape of one sample; default ``(number_of_features,)``. Give for example
        ``(1, 8, 8)`` to feed flattened images to a CNN.
    has_header:
        Whether the first row names the columns.
    delimiter:
        Field separator.
    test_fraction, seed:
        The seeded stratified train/test split.
    """
    path = Path(root).expanduser()
    if not path.is_file():
        raise DatasetNotFoundError(f"csv: {path} is not a file")
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle, delimiter=delimiter))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DatasetFormatError(path, f"unreadable CSV ({exc})") from exc
    first_line = 1
    if has_header:
        if not rows:
            raise DatasetFormatError(path, "file is empty")
        header, rows, first_line = rows[0], rows[1:], 2
    else:
        header = [str(i) for i in range(len(rows[0]) if rows else 0)]
    if isinstance(label_column, int):
        if not 0 <= label_column < len(header):
            raise ConfigError(f"csv: label column {label_column} outside the {len(header)} columns")
        label_at = label_column
    elif label_column in header:
        label_at = header.index(label_column)
    else:
        raise ConfigError(f"csv: no column {label_column!r} in {path} (columns: {header})")
    if len(header) < 2:
        raise DatasetFormatError(path, "needs a label column and at least one feature column")

    features: list[list[float]] = []
    raw_labels: list[str] = []
    for offset, row in enumerate(rows):
        line = first_line + offset
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise DatasetFormatError(
                path, f"line {line}: {len(row)} fields, expected {len(header)}"
            )
        try:
            values = [float(cell) for i, cell in enumerate(row) if i != label_at]
        except ValueError as exc:
            raise DatasetFormatError(path, f"line {line}: non-numeric feature ({exc})") from exc
        if not all(math.isfinite(v) for v in values):
            raise DatasetFormatError(path, f"line {line}: feature is NaN or infinite")
        label = row[label_at].strip()
        if not label:
            raise DatasetFormatError(path, f"line {line}: empty label")
        features.append(values)
        raw_labels.append(label)
    if not features:
        raise DatasetFormatError(path, "no data rows")

    labels, class_names = _label_index(raw_labels, path)
    x_np = np.asarray(features, dtype=np.float32)
    shape = input_shape if input_shape is not None else (x_np.shape[1],)
    if int(np.prod(shape)) != x_np.shape[1]:
        raise ConfigError(f"csv: input_shape {shape} does not hold {x_np.shape[1]} features")
    train_idx, test_idx = stratified_split(labels, test_fraction, seed)
    x = torch.from_numpy(x_np).reshape(-1, *shape)
    y = torch.from_numpy(labels)
    return Dataset(
        name=f"csv:{path.name}",
        x_train=x[train_idx].contiguous(),
        y_train=y[train_idx].contiguous(),
        x_test=x[test_idx].contiguous(),
        y_test=y[test_idx].contiguous(),
        num_classes=len(class_names),
        input_shape=tuple(shape),
        class_names=class_names,
    )
