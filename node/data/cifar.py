"""CIFAR-10 from the standard "python version" batches, read without trusting pickle.

The official distribution is a folder `cifar-10-batches-py/` (`data_batch_1` .. `_5`,
`test_batch`, `batches.meta`), each a pickled dict with `data` (N x 3072 uint8, the
red, green and blue planes of 32x32 images) and `labels`. The folder may also be
given as the original `cifar-10-python.tar.gz`. Unpickling a file executes whatever
callables it names, so a participant's loader restricts the unpickler to the few
numpy reconstructors a genuine batch uses; anything else is a `DatasetFormatError`.
"""

from __future__ import annotations

import io
import pickle
import tarfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from node.data.dataset import Dataset
from node.data.errors import DatasetFormatError, DatasetNotFoundError

CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
META_FILE = "batches.meta"
CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
IMAGE_SHAPE = (3, 32, 32)

# The only globals a genuine batch (written by Python 2 numpy, or re-pickled by
# Python 3 numpy) refers to.
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
}


class _BatchUnpickler(pickle.Unpickler):
    """Unpickler that refuses every global but numpy's array reconstructors."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"refusing to load global {module}.{name}")
        return super().find_class(module, name)


def _text_key(key: object) -> object:
    return key.decode("latin1") if isinstance(key, bytes) else key


def unpickle_batch(data: bytes, path: Path) -> dict[object, Any]:
    """Safely unpickle one CIFAR batch file; keys come back as `str`."""
    try:
        loaded = _BatchUnpickler(io.BytesIO(data), encoding="bytes").load()
    except Exception as exc:  # pickle raises many types on garbage; all mean "corrupt".
        raise DatasetFormatError(
            path, f"not a CIFAR python batch ({type(exc).__name__}: {exc})"
        ) from exc
    if not isinstance(loaded, dict):
        raise DatasetFormatError(path, f"expected a pickled dict, got {type(loaded).__name__}")
    return {_text_key(k): v for k, v in loaded.items()}


def decode_batch(
    batch: Mapping[object, Any], path: Path, num_classes: int
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """Check one unpickled batch and return `(images N x 3 x 32 x 32, labels)`."""
    if "data" not in batch or "labels" not in batch:
        raise DatasetFormatError(
            path, f"batch lacks 'data' or 'labels' (keys: {sorted(map(str, batch))})"
        )
    data = batch["data"]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2:
        raise DatasetFormatError(path, "'data' must be a 2-d uint8 array")
    pixels = int(np.prod(IMAGE_SHAPE))
    if data.shape[1] != pixels:
        raise DatasetFormatError(
            path, f"'data' rows have {data.shape[1]} values, expected {pixels}"
        )
    try:
        labels = np.asarray(batch["labels"], dtype=np.int64)
    except (TypeError, ValueError) as exc:
        raise DatasetFormatError(path, f"'labels' are not integers ({exc})") from exc
    if labels.ndim != 1 or labels.shape[0] != data.shape[0]:
        raise DatasetFormatError(path, f"{labels.size} labels for {data.shape[0]} images")
    if labels.size and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise DatasetFormatError(path, f"labels outside [0, {num_classes - 1}]")
    return data.reshape(-1, *IMAGE_SHAPE), labels


def _folder_reader(folder: Path) -> Callable[[str], tuple[bytes, Path]]:
    def read(name: str) -> tuple[bytes, Path]:
        path = folder / name
        if not path.is_file():
            raise DatasetNotFoundError(
                f"cifar10: {path} is missing; the batches folder is incomplete"
            )
        return path.read_bytes(), path

    return read


def _archive_reader(archive: Path) -> Callable[[str], tuple[bytes, Path]]:
    try:
        with tarfile.open(archive, "r:*") as tar:
            members: dict[str, bytes] = {}
            for member in tar.getmembers():
                if not member.isfile() or Path(member.name).parent.name != CIFAR10_FOLDER:
                    continue
                handle = tar.extractfile(member)
                if handle is not None:
                    members[Path(member.name).name] = handle.read()
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise DatasetFormatError(archive, f"corrupt or truncated archive ({exc})") from exc

    def read(name: str) -> tuple[bytes, Path]:
        if name not in members:
            raise DatasetFormatError(archive, f"archive has no {CIFAR10_FOLDER}/{name}")
        return members[name], archive / CIFAR10_FOLDER / name

    return read


def _reader_for(root: Path) -> Callable[[str], tuple[bytes, Path]]:
    if root.is_file():
        return _archive_reader(root)
    for folder in (root, root / CIFAR10_FOLDER):
        if (folder / TEST_BATCH).is_file() or (folder / TRAIN_BATCHES[0]).is_file():
            return _folder_reader(folder)
    if (root / CIFAR10_ARCHIVE).is_file():
        return _archive_reader(root / CIFAR10_ARCHIVE)
    raise DatasetNotFoundError(
        f"cifar10: no {CIFAR10_FOLDER}/ or {CIFAR10_ARCHIVE} under {root}; download the "
        "'CIFAR-10 python version' there"
    )


def _class_names(read: Callable[[str], tuple[bytes, Path]]) -> tuple[str, ...]:
    try:
        data, path = read(META_FILE)
    except (DatasetNotFoundError, DatasetFormatError):
        return CIFAR10_CLASSES  # batches.meta only names the classes; the standard names stand in.
    meta = unpickle_batch(data, path)
    names = meta.get("label_names")
    if not isinstance(names, list) or len(names) != len(CIFAR10_CLASSES):
        raise DatasetFormatError(path, "'label_names' must list 10 class names")
    return tuple(n.decode("utf-8") if isinstance(n, bytes) else str(n) for n in names)


def load_cifar10(root: Path | str) -> Dataset:
    """Load CIFAR-10 as 3x32x32 float images in [0, 1].

    Parameters
    ----------
    root:
        The `cifar-10-batches-py` folder, a folder containing it, or the
        `cifar-10-python.tar.gz` archive (or a folder containing that).
    """
    folder = Path(root).expanduser()
    if not folder.exists():
        raise DatasetNotFoundError(f"cifar10: {folder} does not exist")
    read = _reader_for(folder)
    class_names = _class_names(read)

    def load(names: tuple[str, ...]) -> tuple[torch.Tensor, torch.Tensor]:
        images, labels = [], []
        for name in names:
            data, path = read(name)
            batch_images, batch_labels = decode_batch(
                unpickle_batch(data, path), path, len(class_names)
            )
            images.append(batch_images)
            labels.append(batch_labels)
        x = torch.from_numpy(np.concatenate(images)).to(torch.float32).div_(255.0)
        return x, torch.from_numpy(np.concatenate(labels))

    x_train, y_train = load(TRAIN_BATCHES)
    x_test, y_test = load((TEST_BATCH,))
    return Dataset(
        name="cifar10",
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        num_classes=len(class_names),
        input_shape=IMAGE_SHAPE,
        class_names=class_names,
    )
