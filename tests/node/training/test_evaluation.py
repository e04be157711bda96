"""evaluate(): exact loss/accuracy on a hand-set model, and refusal of malformed inputs."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch

from ledger.errors import ConfigError, FormatError
from node.models.factory import initial_state
from node.training.evaluation import evaluate

LINEAR = {"input_shape": (2,), "num_classes": 2, "hidden": ()}


def _linear_state(weight: list[list[float]], bias: list[float]) -> dict[str, torch.Tensor]:
    return {"net.1.weight": torch.tensor(weight), "net.1.bias": torch.tensor(bias)}


def test_evaluate_returns_exact_mean_loss_and_accuracy() -> None:
    # Prepare: logits = x @ W.T + b; W picks feature 0 for class 0 and feature 1 for class 1.
    state = _linear_state([[1.0, 0.0], [0.0, 1.0]], [0.0, 0.0])
    x = torch.tensor([[2.0, 0.0], [0.0, 2.0], [2.0, 0.0], [0.0, 0.0]])
    y = torch.tensor([0, 1, 1, 1])

    # Execute
    result = evaluate("mlp", LINEAR, state, x, y)

    # Assert: losses: log(1+e^-2), log(1+e^-2), log(1+e^2), log(2); the tie predicts class 0.
    expected = (2 * math.log1p(math.exp(-2)) + math.log1p(math.exp(2)) + math.log(2)) / 4
    assert result.loss == pytest.approx(expected, rel=1e-6)
    assert result.accuracy == 0.5
    assert result == (result.loss, result.accuracy)


def test_evaluate_batches_do_not_change_the_result() -> None:
    # Prepare
    state = initial_state("mlp", (2,), 2, seed=0, hidden=())
    x = torch.randn(50, 2, generator=torch.Generator().manual_seed(0))
    y = (x[:, 0] > 0).long()

    # Execute
    whole = evaluate("mlp", LINEAR, state, x, y, batch_size=1024)
    pieces = evaluate("mlp", LINEAR, state, x, y, batch_size=7)

    # Assert
    assert pieces.accuracy == whole.accuracy
    assert pieces.loss == pytest.approx(whole.loss, rel=1e-6)


@pytest.mark.parametrize(
    ("x", "y", "message"),
    [
        (
            torch.zeros(3, 3),
            torch.zeros(3, dtype=torch.long),
            r"sample shape \(3,\), the model expects \(2,\)",
        ),
        (
            torch.zeros(3, 2),
            torch.zeros(2, dtype=torch.long),
            r"3 inputs but labels of shape \(2,\)",
        ),
        (torch.zeros(3, 2), torch.tensor([0, 1, 2]), r"labels span \[0, 2\], outside \[0, 1\]"),
        (torch.zeros(3, 2), torch.zeros(3), "labels must be integers, got torch.float32"),
        (
            torch.zeros(3, 2, dtype=torch.long),
            torch.zeros(3, dtype=torch.long),
            "inputs must be floating point",
        ),
        (
            torch.full((3, 2), float("nan")),
            torch.zeros(3, dtype=torch.long),
            "inputs contain NaN or Inf",
        ),
        (torch.zeros(0, 2), torch.zeros(0, dtype=torch.long), "no samples"),
    ],
)
def test_evaluate_rejects_malformed_samples(x: torch.Tensor, y: torch.Tensor, message: str) -> None:
    state = initial_state("mlp", (2,), 2, seed=0, hidden=())

    with pytest.raises(FormatError, match=message):
        evaluate("mlp", LINEAR, state, x, y)


def test_evaluate_rejects_state_of_another_architecture() -> None:
    state = initial_state("mlp", (2,), 2, seed=0, hidden=(4,))

    with pytest.raises(
        FormatError, match=r"evaluated state: unexpected tensor 'net.4.bias'"
    ):
        evaluate("mlp", LINEAR, state, torch.zeros(1, 2), torch.zeros(1, dtype=torch.long))


def test_evaluate_requires_shape_and_classes_in_model_kwargs() -> None:
    kwargs: dict[str, Any] = {"hidden": ()}

    with pytest.raises(ConfigError, match="model_kwargs for 'mlp' lack input_shape, num_classes"):
        evaluate("mlp", kwargs, {}, torch.zeros(1, 2), torch.zeros(1, dtype=torch.long))
