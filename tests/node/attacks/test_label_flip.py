"""Label flipping: reverse map, seeded derangement, inputs untouched."""

from __future__ import annotations

import pytest
import torch

from ledger.errors import ConfigError, FormatError
from node.attacks.label_flip import LabelFlip, derangement


def test_reverse_mode_maps_y_to_c_minus_one_minus_y() -> None:
    # Prepare
    x = torch.rand(4, 3)
    y = torch.tensor([0, 1, 8, 9])

    # Execute
    x_out, y_out = LabelFlip().poison(x, y, 10)

    # Assert
    assert y_out.tolist() == [9, 8, 1, 0]
    assert x_out is x
    assert y.tolist() == [0, 1, 8, 9]


def test_permutation_mode_is_a_seeded_derangement() -> None:
    # Execute
    mapping = derangement(10, seed=3)
    again = derangement(10, seed=3)
    other = derangement(10, seed=4)
    _, flipped = LabelFlip(mode="permutation", seed=3).poison(
        torch.zeros(10, 1), torch.arange(10), 10
    )

    # Assert
    assert sorted(mapping.tolist()) == list(range(10))
    assert all(mapping[i] != i for i in range(10))
    assert torch.equal(mapping, again) and not torch.equal(mapping, other)
    assert torch.equal(flipped, mapping)


def test_label_flip_rejects_bad_labels_and_modes() -> None:
    with pytest.raises(FormatError, match=r"labels outside \[0, 2\]"):
        LabelFlip().poison(torch.zeros(1, 1), torch.tensor([3]), 3)
    with pytest.raises(ConfigError, match="mode must be one of"):
        LabelFlip(mode="random")
    with pytest.raises(ConfigError, match="needs >= 2 classes"):
        LabelFlip().mapping(1)
