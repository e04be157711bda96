"""MNIST and Fashion-MNIST from the user's folder of standard IDX files.

Both datasets use the same four files (`train-images-idx3-ubyte`,
`train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`,
each optionally `.gz`), so one loader serves both. The folder may hold the files
directly or in the layout torchvision leaves behind (`MNIST/raw/`,
`FashionMNIST/raw/`), so a user can point at an existing download.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch

from node.data.dataset import Dataset
from node.data.errors import DatasetFormatError, DatasetNotFoundError
from node.data.idx import read_idx

MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
IDX_STEMS = {
    ("train", "images"): "train-images-idx3-ubyte",
    ("train", "labels"): "train-labels-idx1-ubyte",
    ("test", "images"): "t10k-images-idx3-ubyte",
    ("test", "labels"): "t10k-labels-idx1-ubyte",
}


def _candidates(stem: str) -> tuple[str, ...]:
    # Some mirrors spell the stem with a dot before "idx" (train-images.idx3-ubyte).
    dotted = stem.replace("-idx", ".idx")
    return (stem, stem + ".gz", dotted, dotted + ".gz")


def find_idx_file(root: Path, stem: str, subfolders: tuple[str, ...]) -> Path:
    """Locate one IDX file under `root` or one of its known subfolders."""
    searched = [root, *(root / sub for sub in subfolders)]
    for folder in searched:
        for name in _candidates(stem):
            path = folder / name
            if path.is_file():
                return path
    where = ", ".join(str(f) for f in searched)
    raise DatasetNotFoundError(
        f"no {stem}[.gz] in {where}; download the four IDX files into {root}"
    )


def _read_split(
    root: Path, split: str, subfolders: tuple[str, ...], num_classes: int
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8]]:
    image_path = find_idx_file(root, IDX_STEMS[(split, "images")], subfolders)
    label_path = find_idx_file(root, IDX_STEMS[(split, "labels")], subfolders)
    images = read_idx(image_path)
    labels = read_idx(label_path)
    if images.dtype != np.uint8 or images.ndim != 3:
        raise DatasetFormatError(
            image_path, f"expected a 3-d uint8 image array, got {images.ndim}-d {images.dtype}"
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DatasetFormatError(
            label_path, f"expected a 1-d uint8 label array, got {labels.ndim}-d {labels.dtype}"
        )
    if labels.shape[0] != images.shape[0]:
        raise DatasetFormatError(
            label_path,
            f"{labels.shape[0]} labels for {images.shape[0]} images in {image_path.name}",
        )
    if labels.size and int(labels.max()) >= num_classes:
        raise DatasetFormatError(
            label_path, f"label {int(labels.max())} out of range for {num_classes} classes"
        )
    return images.astype(np.uint8), labels.astype(np.uint8)


def load_idx_dataset(
    root: Path | str, name: str, class_names: tuple[str, ...], subfolders: tuple[str, ...]
) -> Dataset:
    """Load a four-file IDX dataset with 28x28 grey images scaled to [0, 1]."""
    folder = Path(root).expanduser()
    if not folder.is_dir():
        raise DatasetNotFoundError(f"{name}: {folder} is not a folder")
    splits = {
        split: _read_split(folder, split, subfolders, len(class_names))
        for split in ("train", "test")
    }
    shapes = {tuple(images.shape[1:]) for images, _ in splits.values()}
    if len(shapes) != 1:
        raise DatasetFormatError(folder, f"train and test images differ in size: {sorted(shapes)}")
    height, width = shapes.pop()

    def as_tensors(split: str) -> tuple[torch.Tensor, torch.Tensor]:
        images, labels = splits[split]
        x = torch.from_numpy(images).to(torch.float32).div_(255.0).unsqueeze(1)
        return x, torch.from_numpy(labels.astype(np.int64))

    x_train, y_train = as_tensors("train")
    x_test, y_test = as_tensors("test")
    return Dataset(
        name=name,
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        num_classes=len(class_names),
        input_shape=(1, height, width),
        class_names=class_names,
    )


def load_mnist(root: Path | str) -> Dataset:
    """Load MNIST from a folder holding the four standard IDX files."""
    return load_idx_dataset(root, "mnist", MNIST_CLASSES, ("raw", "MNIST/raw"))


def load_fashion_mnist(root: Path | str) -> Dataset:
    """Load Fashion-MNIST from a folder holding the four standard IDX files."""
    return load_idx_dataset(
        root, "fashion-mnist", FASHION_MNIST_CLASSES, ("raw", "FashionMNIST/raw")
    )
