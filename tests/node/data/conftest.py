"""Writers of small dataset files in the exact on-disk formats the loaders read."""

from __future__ import annotations

import gzip
import pickle
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

IDX_TYPE_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D}


def idx_bytes(array: npt.NDArray[np.generic]) -> bytes:
    """Encode `array` as IDX: two zero bytes, type code, ndim, big-endian dims, payload."""
    code = IDX_TYPE_CODES[array.dtype]
    header = struct.pack(">BBBB", 0, 0, code, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path: Path, array: npt.NDArray[np.generic], gz: bool = False) -> Path:
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return path


MnistWriter = Callable[..., dict[str, Path]]


@pytest.fixture
def write_mnist_folder() -> MnistWriter:
    """Write the four MNIST IDX files (train 20, test 10 images of 28x28) into a folder."""

    def write(
        folder: Path, gz: bool = False, n_train: int = 20, n_test: int = 10
    ) -> dict[str, Path]:
        folder.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(7)
        suffix = ".gz" if gz else ""
        paths = {}
        for split, prefix, n in (("train", "train", n_train), ("test", "t10k", n_test)):
            images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
            labels = (np.arange(n) % 10).astype(np.uint8)
            paths[f"{split}_images"] = write_idx(
                folder / f"{prefix}-images-idx3-ubyte{suffix}", images, gz
            )
            paths[f"{split}_labels"] = write_idx(
                folder / f"{prefix}-labels-idx1-ubyte{suffix}", labels, gz
            )
        return paths

    return write


def cifar_batch(n: int, seed: int) -> dict[bytes, object]:
    """A batch dict as the official files hold it (keys as bytes, as read with encoding='bytes')."""
    rng = np.random.default_rng(seed)
    return {
        b"batch_label": b"testing batch",
        b"labels": [int(v) for v in np.arange(n) % 10],
        b"data": rng.integers(0, 256, size=(n, 3072), dtype=np.uint8),
        b"filenames": [f"img_{i}.png".encode() for i in range(n)],
    }


@pytest.fixture
def write_cifar_folder() -> Callable[[Path], Path]:
    """Write a `cifar-10-batches-py` folder with 5 train batches of 4 and a test batch of 6."""

    def write(root: Path) -> Path:
        folder = root / "cifar-10-batches-py"
        folder.mkdir(parents=True)
        for i in range(1, 6):
            with (folder / f"data_batch_{i}").open("wb") as handle:
                pickle.dump(cifar_batch(4, seed=i), handle, protocol=2)
        with (folder / "test_batch").open("wb") as handle:
            pickle.dump(cifar_batch(6, seed=0), handle, protocol=2)
        meta = {
            b"label_names": [f"class{i}".encode() for i in range(10)],
            b"num_cases_per_batch": 4,
            b"num_vis": 3072,
        }
        with (folder / "batches.meta").open("wb") as handle:
            pickle.dump(meta, handle, protocol=2)
        return folder

    return write


@pytest.fixture
def encode_idx() -> Callable[[npt.NDArray[np.generic]], bytes]:
    """The IDX encoder, for tests that build files byte by byte."""
    return idx_bytes


@pytest.fixture
def write_idx_file() -> Callable[..., Path]:
    """Write an array as an IDX file (optionally gzip) and return its path."""
    return write_idx
