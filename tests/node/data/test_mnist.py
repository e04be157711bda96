"""MNIST / Fashion-MNIST loading from generated IDX folders, good and broken."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from ledger.errors import FormatError
from node.data.errors import DatasetFormatError, DatasetNotFoundError
from node.data.idx import read_idx
from node.data.mnist import FASHION_MNIST_CLASSES, load_fashion_mnist, load_mnist

MnistWriter = Callable[..., dict[str, Path]]
IdxWriter = Callable[..., Path]


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_reads_exact_pixels_and_labels(
    tmp_path: Path, write_mnist_folder: MnistWriter, gz: bool
) -> None:
    # Prepare
    paths = write_mnist_folder(tmp_path, gz=gz)
    raw_train = read_idx(paths["train_images"])

    # Execute
    dataset = load_mnist(tmp_path)

    # Assert
    assert dataset.name == "mnist"
    assert dataset.input_shape == (1, 28, 28)
    assert (dataset.num_train, dataset.num_test) == (20, 10)
    assert dataset.x_train.dtype == torch.float32
    torch.testing.assert_close(
        dataset.x_train[:, 0], torch.from_numpy(raw_train).float() / 255.0, rtol=0, atol=0
    )
    assert dataset.y_test.tolist() == list(range(10))
    assert dataset.class_names == tuple("0123456789")


def test_load_fashion_mnist_finds_torchvision_layout(
    tmp_path: Path, write_mnist_folder: MnistWriter
) -> None:
    # Prepare
    write_mnist_folder(tmp_path / "FashionMNIST" / "raw", gz=True)

    # Execute
    dataset = load_fashion_mnist(tmp_path)

    # Assert
    assert dataset.name == "fashion-mnist"
    assert dataset.class_names == FASHION_MNIST_CLASSES
    assert dataset.num_train == 20


def test_load_mnist_names_the_missing_file(tmp_path: Path, write_mnist_folder: MnistWriter) -> None:
    # Prepare
    paths = write_mnist_folder(tmp_path)
    paths["test_labels"].unlink()

    # Execute / Assert
    with pytest.raises(DatasetNotFoundError, match=r"no t10k-labels-idx1-ubyte\[\.gz\] in"):
        load_mnist(tmp_path)


def test_load_mnist_names_the_truncated_image_file(
    tmp_path: Path, write_mnist_folder: MnistWriter
) -> None:
    # Prepare
    paths = write_mnist_folder(tmp_path)
    images = paths["train_images"]
    images.write_bytes(images.read_bytes()[:-100])

    # Execute / Assert
    with pytest.raises(DatasetFormatError) as info:
        load_mnist(tmp_path)
    assert info.value.path == images
    assert isinstance(info.value, FormatError)


def test_load_mnist_rejects_label_count_mismatch(
    tmp_path: Path, write_mnist_folder: MnistWriter, write_idx_file: IdxWriter
) -> None:
    # Prepare
    paths = write_mnist_folder(tmp_path)
    write_idx_file(paths["train_labels"], np.zeros((19,), dtype=np.uint8))

    # Execute / Assert
    with pytest.raises(DatasetFormatError, match="19 labels for 20 images in train-images-idx3"):
        load_mnist(tmp_path)


def test_load_mnist_rejects_out_of_range_label(
    tmp_path: Path, write_mnist_folder: MnistWriter, write_idx_file: IdxWriter
) -> None:
    paths = write_mnist_folder(tmp_path)
    write_idx_file(paths["test_labels"], np.full((10,), 10, dtype=np.uint8))

    with pytest.raises(DatasetFormatError, match="label 10 out of range for 10 classes"):
        load_mnist(tmp_path)


def test_load_mnist_rejects_wrong_array_kind(
    tmp_path: Path, write_mnist_folder: MnistWriter, write_idx_file: IdxWriter
) -> None:
    paths = write_mnist_folder(tmp_path)
    write_idx_file(paths["train_images"], np.zeros((20, 784), dtype=np.uint8))

    with pytest.raises(DatasetFormatError, match="expected a 3-d uint8 image array, got 2-d uint8"):
        load_mnist(tmp_path)


def test_load_mnist_rejects_corrupt_gzip(tmp_path: Path, write_mnist_folder: MnistWriter) -> None:
    # Prepare
    paths = write_mnist_folder(tmp_path, gz=True)
    paths["test_images"].write_bytes(b"\x1f\x8b" + b"garbage" * 10)

    # Execute / Assert
    with pytest.raises(DatasetFormatError, match="corrupt or truncated gzip data"):
        load_mnist(tmp_path)
    assert gzip.decompress(paths["train_images"].read_bytes())  # the other files are untouched


def test_load_mnist_rejects_a_file_as_root(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")

    with pytest.raises(DatasetNotFoundError, match="is not a folder"):
        load_mnist(target)
