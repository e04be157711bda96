"""The small CNN: output shape and parameter budget for each supported input size."""

from __future__ import annotations

import pytest
import torch

from ledger.errors import ConfigError
from node.models.cnn import SmallCNN


@pytest.mark.parametrize(
    ("input_shape", "params"),
    [((1, 8, 8), 38_282), ((1, 28, 28), 38_282), ((3, 32, 32), 38_570)],
)
def test_small_cnn_fits_each_input_size(input_shape: tuple[int, int, int], params: int) -> None:
    # Prepare
    model = SmallCNN(input_shape, 10)

    # Execute
    logits = model(torch.zeros(2, *input_shape))

    # Assert
    assert logits.shape == (2, 10)
    assert sum(p.numel() for p in model.parameters()) == params


def test_small_cnn_accepts_custom_width() -> None:
    model = SmallCNN((1, 8, 8), 3, channels=(4,), hidden=8)

    assert model(torch.zeros(1, 1, 8, 8)).shape == (1, 3)
    assert sum(p.numel() for p in model.parameters()) == (9 * 4 + 4) + (64 * 8 + 8) + (8 * 3 + 3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"input_shape": (64,)}, r"needs input_shape \(channels, height, width\), got \(64,\)"),
        ({"num_classes": 1}, "num_classes must be >= 2, got 1"),
        ({"channels": ()}, r"channels must be positive, got \(\)"),
        ({"hidden": 0}, "hidden must be >= 1, got 0"),
        ({"dropout": 1.0}, r"dropout must be in \[0, 1\), got 1.0"),
    ],
)
def test_small_cnn_rejects_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"input_shape": (1, 8, 8), "num_classes": 10, **kwargs}

    with pytest.raises(ConfigError, match=message):
        SmallCNN(**arguments)  # type: ignore[arg-type]
