"""Class-per-subfolder images: grey and colour, pre-split trees, resizing and bad files."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from ledger.errors import ConfigError
from node.data.errors import DatasetFormatError, DatasetNotFoundError, MissingDependencyError
from node.data.image_folder import load_image_folder

Image = pytest.importorskip("PIL.Image", reason="Pillow decodes the images")


def _write_tree(root: Path, per_class: int = 5, mode: str = "L", side: int = 6) -> None:
    rng = np.random.default_rng(0)
    for name in ("cat", "dog"):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            shape = (side, side) if mode == "L" else (side, side, 3)
            pixels = rng.integers(0, 256, size=shape, dtype=np.uint8)
            Image.fromarray(pixels, mode=mode).save(root / name / f"{i}.png")


def test_load_image_folder_reads_grey_pixels_and_sorted_classes(tmp_path: Path) -> None:
    # Prepare
    _write_tree(tmp_path)
    expected = np.asarray(Image.open(tmp_path / "dog" / "0.png"), dtype=np.float32) / 255.0

    # Execute
    dataset = load_image_folder(tmp_path, test_fraction=0.2, seed=0)

    # Assert
    assert dataset.class_names == ("cat", "dog")
    assert dataset.input_shape == (1, 6, 6)
    assert (dataset.num_train, dataset.num_test) == (8, 2)
    both = torch.cat([dataset.x_train, dataset.x_test])
    assert bool((both[:, 0] == torch.from_numpy(expected)).all(dim=(1, 2)).any())


def test_load_image_folder_infers_rgb_and_resizes(tmp_path: Path) -> None:
    _write_tree(tmp_path, mode="RGB", side=10)

    dataset = load_image_folder(tmp_path, size=4)

    assert dataset.input_shape == (3, 4, 4)


def test_load_image_folder_keeps_a_given_train_test_split(tmp_path: Path) -> None:
    _write_tree(tmp_path / "train", per_class=3)
    _write_tree(tmp_path / "test", per_class=1)

    dataset = load_image_folder(tmp_path)

    assert (dataset.num_train, dataset.num_test) == (6, 2)
    assert dataset.y_test.tolist() == [0, 1]


def test_load_image_folder_names_a_corrupt_image(tmp_path: Path) -> None:
    # Prepare
    _write_tree(tmp_path)
    bad = tmp_path / "dog" / "3.png"
    bad.write_bytes(bad.read_bytes()[:30])

    # Execute / Assert
    with pytest.raises(DatasetFormatError) as info:
        load_image_folder(tmp_path)
    assert info.value.path == bad
    assert "cannot decode image" in str(info.value)


def test_load_image_folder_requires_one_size_or_resize(tmp_path: Path) -> None:
    _write_tree(tmp_path)
    Image.fromarray(np.zeros((9, 9), np.uint8), mode="L").save(tmp_path / "cat" / "big.png")

    with pytest.raises(DatasetFormatError, match="image is 9x9 but 0.png is 6x6; pass size="):
        load_image_folder(tmp_path)


def test_load_image_folder_needs_two_classes(tmp_path: Path) -> None:
    _write_tree(tmp_path)
    for path in (tmp_path / "dog").iterdir():
        path.unlink()

    with pytest.raises(DatasetNotFoundError, match=r"at least two class subfolders.*\['cat'\]"):
        load_image_folder(tmp_path)


def test_load_image_folder_rejects_bad_channels(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="channels must be 1 or 3, got 2"):
        load_image_folder(tmp_path, channels=2)


def test_load_image_folder_without_pillow_names_the_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "PIL.Image", None)

    with pytest.raises(MissingDependencyError, match="pip install pillow"):
        load_image_folder(tmp_path)
