"""CIFAR-10 python batches: folder and tar.gz, exact pixels, and refusal of hostile pickles."""

from __future__ import annotations

import io
import os
import pickle
import tarfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from node.data.cifar import decode_batch, load_cifar10, unpickle_batch
from node.data.errors import DatasetFormatError, DatasetNotFoundError

CifarWriter = Callable[[Path], Path]


def test_load_cifar10_reads_folder_with_exact_layout(
    tmp_path: Path, write_cifar_folder: CifarWriter
) -> None:
    # Prepare
    folder = write_cifar_folder(tmp_path)
    with (folder / "data_batch_1").open("rb") as handle:
        first = pickle.load(handle, encoding="bytes")[b"data"][0]

    # Execute
    dataset = load_cifar10(tmp_path)

    # Assert
    assert dataset.input_shape == (3, 32, 32)
    assert (dataset.num_train, dataset.num_test) == (20, 6)
    assert dataset.class_names == tuple(f"class{i}" for i in range(10))
    expected = torch.from_numpy(first.reshape(3, 32, 32)).float() / 255.0
    torch.testing.assert_close(dataset.x_train[0], expected, rtol=0, atol=0)
    assert dataset.y_train.tolist() == [0, 1, 2, 3] * 5
    assert dataset.y_test.tolist() == [0, 1, 2, 3, 4, 5]


def test_load_cifar10_reads_the_batches_folder_itself(
    tmp_path: Path, write_cifar_folder: CifarWriter
) -> None:
    folder = write_cifar_folder(tmp_path)

    assert load_cifar10(folder).num_train == 20


def test_load_cifar10_reads_the_tar_gz_archive(
    tmp_path: Path, write_cifar_folder: CifarWriter
) -> None:
    # Prepare
    folder = write_cifar_folder(tmp_path / "src")
    archive = tmp_path / "dl" / "cifar-10-python.tar.gz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname="cifar-10-batches-py")
    from_folder = load_cifar10(folder)

    # Execute
    from_archive = load_cifar10(archive.parent)

    # Assert
    assert torch.equal(from_archive.x_train, from_folder.x_train)
    assert torch.equal(from_archive.y_test, from_folder.y_test)


def test_load_cifar10_names_a_truncated_batch(
    tmp_path: Path, write_cifar_folder: CifarWriter
) -> None:
    # Prepare
    folder = write_cifar_folder(tmp_path)
    batch = folder / "data_batch_3"
    batch.write_bytes(batch.read_bytes()[:500])

    # Execute / Assert
    with pytest.raises(DatasetFormatError) as info:
        load_cifar10(tmp_path)
    assert info.value.path == batch
    assert "not a CIFAR python batch" in str(info.value)


def test_load_cifar10_names_a_truncated_archive(
    tmp_path: Path, write_cifar_folder: CifarWriter
) -> None:
    # Prepare
    folder = write_cifar_folder(tmp_path / "src")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(folder, arcname="cifar-10-batches-py")
    archive = tmp_path / "cifar-10-python.tar.gz"
    archive.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])

    # Execute / Assert
    with pytest.raises(DatasetFormatError) as info:
        load_cifar10(archive)
    assert info.value.path == archive
    assert "corrupt or truncated archive" in str(info.value)


def test_load_cifar10_reports_a_missing_batch(
    tmp_path: Path, write_cifar_folder: CifarWriter
) -> None:
    folder = write_cifar_folder(tmp_path)
    (folder / "data_batch_5").unlink()

    with pytest.raises(DatasetNotFoundError, match="data_batch_5 is missing"):
        load_cifar10(tmp_path)


def test_load_cifar10_reports_an_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match="no cifar-10-batches-py/ or cifar-10-python"):
        load_cifar10(tmp_path)


class _Exploit:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo pwned",))


def test_unpickle_batch_refuses_arbitrary_callables() -> None:
    # Prepare
    data = pickle.dumps({b"data": _Exploit()}, protocol=2)

    # Execute / Assert
    with pytest.raises(DatasetFormatError) as info:
        unpickle_batch(data, Path("data_batch_1"))
    assert "refusing to load global" in str(info.value)
    assert "system" in str(info.value)


@pytest.mark.parametrize(
    ("batch", "problem"),
    [
        ({"labels": [0]}, "batch lacks 'data' or 'labels'"),
        (
            {"data": np.zeros((1, 3072), np.float32), "labels": [0]},
            "'data' must be a 2-d uint8 array",
        ),
        (
            {"data": np.zeros((1, 100), np.uint8), "labels": [0]},
            "rows have 100 values, expected 3072",
        ),
        ({"data": np.zeros((2, 3072), np.uint8), "labels": [0]}, "1 labels for 2 images"),
        ({"data": np.zeros((1, 3072), np.uint8), "labels": [12]}, "labels outside [0, 9]"),
        ({"data": np.zeros((1, 3072), np.uint8), "labels": ["cat"]}, "'labels' are not integers"),
    ],
)
def test_decode_batch_rejects_malformed_content(batch: dict[object, object], problem: str) -> None:
    with pytest.raises(DatasetFormatError) as info:
        decode_batch(batch, Path("test_batch"), 10)
    assert problem in str(info.value)
