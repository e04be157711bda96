"""A user's own images, one subfolder per class, decoded with Pillow.

This is how most participants hold private image data. The layout is either
`root/<class>/<image>` (split here with a seed) or `root/train/<class>/...` plus
`root/test/<class>/...` (kept as given). Class indices follow the sorted class
folder names, so every participant with the same classes agrees on them. Pillow
is optional for the project; without it this loader says how to install it.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from ledger.errors import ConfigError
from node.data.dataset import Dataset
from node.data.errors import DatasetFormatError, DatasetNotFoundError, MissingDependencyError
from node.data.split import stratified_split

IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}
)
GREY_MODES = frozenset({"1", "L", "LA", "I", "I;16", "F"})


def _pillow() -> ModuleType:
    try:
        return importlib.import_module("PIL.Image")
    except ImportError as exc:
        raise MissingDependencyError(
            "dataset 'image-folder' needs Pillow to decode images: pip install pillow"
        ) from exc


def _scan(folder: Path) -> dict[str, list[Path]]:
    """Map each class subfolder name to its sorted image files."""
    classes: dict[str, list[Path]] = {}
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        files = sorted(
            p for p in sub.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        )
        if files:
            classes[sub.name] = files
    return classes


def _open(image_module: ModuleType, path: Path) -> Any:
    try:
        with image_module.open(path) as handle:
            handle.load()
            return handle.copy()
    except (OSError, ValueError, SyntaxError) as exc:  # Pillow's errors for undecodable files
        raise DatasetFormatError(path, f"cannot decode image ({exc})") from exc


def _to_array(
    image_module: ModuleType, files: list[Path], channels: int, size: tuple[int, int] | None
) -> npt.NDArray[np.float32]:
    mode = "L" if channels == 1 else "RGB"
    arrays = []
    expected: tuple[int, int] | None = None
    for path in files:
        image = _open(image_module, path).convert(mode)
        if size is not None:
            image = image.resize((size[1], size[0]))
        hw = (image.height, image.width)
        if expected is None:
            expected = hw
        elif hw != expected:
            raise DatasetFormatError(
                path,
                f"image is {hw[0]}x{hw[1]} but {files[0].name} is {expected[0]}x{expected[1]}; "
                "pass size=(H, W) to resize all images",
            )
        pixels = np.asarray(image, dtype=np.float32) / 255.0
        arrays.append(pixels[None] if channels == 1 else pixels.transpose(2, 0, 1))
    return np.stack(arrays)


def _infer_channels(image_module: ModuleType, files: list[Path]) -> int:
    for path in files:
        if _open(image_module, path).mode not in GREY_MODES:
            return 3
    return 1


def load_image_folder(
    root: Path | str,
    size: tuple[int, int] | int | None = None,
    channels: int | None = None,
    test_fraction: float = 0.2,
    seed: int = 0,
) -> Dataset:
    """Load a class-per-subfolder image tree as float images in [0, 1].

    Parameters
    ----------
    root:
        Folder with one subfolder per class, or with `train/` and `test/` folders
        that each hold one subfolder per class.
    size:
        Resize every image to ``(H, W)`` (an int means square). Without it all
        images must already share one size.
    channels:
        1 (grey) or 3 (RGB). Default: 3 when any image has colour, else 1.
    test_fraction, seed:
        The seeded stratified split used when the tree has no `train/`/`test/`.
    """
    folder = Path(root).expanduser()
    if not folder.is_dir():
        raise DatasetNotFoundError(f"image-folder: {folder} is not a folder")
    if channels not in (None, 1, 3):
        raise ConfigError(f"image-folder: channels must be 1 or 3, got {channels}")
    hw = (size, size) if isinstance(size, int) else size
    if hw is not None and (len(hw) != 2 or min(hw) < 1):
        raise ConfigError(f"image-folder: size must be positive (H, W), got {size}")
    image_module = _pillow()

    presplit = (folder / "train").is_dir() and (folder / "test").is_dir()
    trees = (
        {"train": _scan(folder / "train"), "test": _scan(folder / "test")}
        if presplit
        else {"all": _scan(folder)}
    )
    class_names = tuple(sorted(set().union(*trees.values())))
    if len(class_names) < 2:
        raise DatasetNotFoundError(
            f"image-folder: {folder} needs at least two class subfolders with images, "
            f"found {list(class_names)}"
        )
    index = {name: i for i, name in enumerate(class_names)}
    all_files = [p for tree in trees.values() for files in tree.values() for p in files]
    n_channels = channels if channels is not None else _infer_channels(image_module, all_files)

    def load(tree: dict[str, list[Path]]) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
        files = [p for name in sorted(tree) for p in tree[name]]
        labels = np.array(
            [index[name] for name in sorted(tree) for _ in tree[name]], dtype=np.int64
        )
        return _to_array(image_module, files, n_channels, hw), labels

    if presplit:
        x_train, y_train = load(trees["train"])
        x_test, y_test = load(trees["test"])
    else:
        x_all, y_all = load(trees["all"])
        train_idx, test_idx = stratified_split(y_all, test_fraction, seed)
        x_train, y_train, x_test, y_test = (
            x_all[train_idx],
            y_all[train_idx],
            x_all[test_idx],
            y_all[test_idx],
        )
    if x_train.shape[1:] != x_test.shape[1:]:
        raise DatasetFormatError(
            folder,
            f"train images are {x_train.shape[1:]} but test images {x_test.shape[1:]}; pass size=",
        )
    return Dataset(
        name=f"image-folder:{folder.name}",
        x_train=torch.from_numpy(np.ascontiguousarray(x_train)),
        y_train=torch.from_numpy(np.ascontiguousarray(y_train)),
        x_test=torch.from_numpy(np.ascontiguousarray(x_test)),
        y_test=torch.from_numpy(np.ascontiguousarray(y_test)),
        num_classes=len(class_names),
        input_shape=tuple(int(d) for d in x_train.shape[1:]),
        class_names=class_names,
    )
