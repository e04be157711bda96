"""The MLP: any sample shape, hidden widths as given, and refusal of bad widths."""

from __future__ import annotations

import pytest
import torch

from ledger.errors import ConfigError
from node.models.mlp import MLP


def test_mlp_flattens_images_and_tables() -> None:
    # Prepare
    image_model = MLP((1, 8, 8), 10)
    table_model = MLP((5,), 3, hidden=())

    # Execute
    image_logits = image_model(torch.zeros(4, 1, 8, 8))
    table_logits = table_model(torch.zeros(4, 5))

    # Assert
    assert image_logits.shape == (4, 10)
    assert table_logits.shape == (4, 3)
    assert sum(p.numel() for p in image_model.parameters()) == 64 * 128 + 128 + 128 * 10 + 10
    assert sum(p.numel() for p in table_model.parameters()) == 5 * 3 + 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"input_shape": ()}, r"non-empty positive input_shape, got \(\)"),
        ({"hidden": (16, 0)}, r"hidden widths must be positive, got \(16, 0\)"),
        ({"num_classes": 0}, "num_classes must be >= 2"),
        ({"dropout": -0.1}, r"dropout must be in \[0, 1\)"),
    ],
)
def test_mlp_rejects_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"input_shape": (4,), "num_classes": 2, **kwargs}

    with pytest.raises(ConfigError, match=message):
        MLP(**arguments)  # type: ignore[arg-type]
