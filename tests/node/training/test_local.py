"""train_local(): bitwise reproducibility, exact deltas, convergence, FedProx and bad inputs."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import pytest
import torch
from rich.console import Console

from ledger.errors import FormatError
from ledger.formats.layout import ParameterLayout
from node.data.dataset import Dataset
from node.models.factory import ModelSpec, initial_state
from node.training.errors import DeviceUnavailableError, TrainingDivergedError
from node.training.evaluation import evaluate
from node.training.local import split_holdout, train_local
from node.training.train_config import TrainConfig


def _flat(state: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """The state as one float32 vector in layout order (the task's `ParameterLayout`)."""
    return ParameterLayout.from_state_dict(state).flatten(state)


def state_bytes(state: Mapping[str, torch.Tensor]) -> bytes:
    """The state's float32 bytes in layout order."""
    return _flat(state).numpy().tobytes()


QUICK = TrainConfig(epochs=1, batch_size=32, lr=0.05, momentum=0.9, seed=3)


def _subset(digits: Dataset, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    return digits.x_train[:n], digits.y_train[:n]


def test_same_inputs_give_bitwise_identical_state(
    digits: Dataset, cnn_spec: ModelSpec, cnn_kwargs: dict[str, Any]
) -> None:
    # Prepare
    x, y = _subset(digits, 300)
    start = cnn_spec.initial_state(0)

    # Execute
    first = train_local("cnn", cnn_kwargs, start, x, y, QUICK, progress=False)
    second = train_local("cnn", cnn_kwargs, start, x, y, QUICK, progress=False)
    reseeded = train_local(
        "cnn", cnn_kwargs, start, x, y, TrainConfig(epochs=1, seed=4), progress=False
    )

    # Assert
    assert state_bytes(first.state) == state_bytes(second.state)
    assert state_bytes(first.delta) == state_bytes(second.delta)
    assert first.metrics.loss_after == second.metrics.loss_after
    assert state_bytes(first.state) != state_bytes(reseeded.state)


def test_result_is_cpu_float32_with_exact_delta(
    digits: Dataset, cnn_spec: ModelSpec, cnn_kwargs: dict[str, Any]
) -> None:
    # Prepare
    x, y = _subset(digits, 200)
    start = cnn_spec.initial_state(1)
    before = state_bytes(start)

    # Execute
    result = train_local("cnn", cnn_kwargs, start, x, y, QUICK, progress=False)

    # Assert
    assert list(result.state) == list(start) == list(result.delta)
    for name, tensor in result.state.items():
        assert tensor.dtype == torch.float32 and tensor.device.type == "cpu"
        assert torch.equal(result.delta[name], tensor - start[name])
    assert state_bytes(start) == before  # the caller's global state is untouched
    assert result.num_samples == 180  # 10% of 200 held out
    assert result.metrics.eval_split == "holdout" and result.metrics.eval_samples == 20
    assert result.metrics.steps == 6  # ceil(180 / 32)
    assert result.metrics.wall_time_s > 0


def test_a_few_epochs_on_digits_clearly_improve_accuracy(
    digits: Dataset, cnn_spec: ModelSpec, cnn_kwargs: dict[str, Any]
) -> None:
    # Prepare
    start = cnn_spec.initial_state(0)
    config = TrainConfig(epochs=3, batch_size=32, lr=0.05, momentum=0.9, seed=0)

    # Execute
    result = train_local(
        "cnn", cnn_kwargs, start, digits.x_train, digits.y_train, config, progress=False
    )
    test_before = evaluate("cnn", cnn_kwargs, start, digits.x_test, digits.y_test)
    test_after = evaluate("cnn", cnn_kwargs, result.state, digits.x_test, digits.y_test)

    # Assert
    assert result.metrics.accuracy_after - result.metrics.accuracy_before > 0.5
    assert result.metrics.loss_after < result.metrics.loss_before / 4
    assert test_before.accuracy < 0.3
    assert test_after.accuracy > 0.85


def test_fedprox_term_keeps_the_update_closer_to_the_global_model(
    digits: Dataset, cnn_spec: ModelSpec, cnn_kwargs: dict[str, Any]
) -> None:
    # Prepare
    x, y = _subset(digits, 300)
    start = cnn_spec.initial_state(2)
    plain_config = TrainConfig(epochs=2, seed=0)
    prox_config = TrainConfig(epochs=2, seed=0, prox_mu=1.0)

    # Execute
    plain = train_local("cnn", cnn_kwargs, start, x, y, plain_config, progress=False)
    prox = train_local("cnn", cnn_kwargs, start, x, y, prox_config, progress=False)

    # Assert
    assert _flat(prox.delta).norm() < _flat(plain.delta).norm()


def test_progress_bar_does_not_change_the_result(
    digits: Dataset, cnn_spec: ModelSpec, cnn_kwargs: dict[str, Any]
) -> None:
    # Prepare
    x, y = _subset(digits, 100)
    start = cnn_spec.initial_state(0)
    console = Console(file=io.StringIO(), force_terminal=True, width=100)

    # Execute
    shown = train_local("cnn", cnn_kwargs, start, x, y, QUICK, progress=True, console=console)
    hidden = train_local("cnn", cnn_kwargs, start, x, y, QUICK, progress=False)

    # Assert
    assert state_bytes(shown.state) == state_bytes(hidden.state)
    assert "local training" in console.file.getvalue()  # type: ignore[attr-defined]


def test_zero_holdout_measures_on_training_samples(
    digits: Dataset, cnn_spec: ModelSpec, cnn_kwargs: dict[str, Any]
) -> None:
    x, y = _subset(digits, 64)
    config = TrainConfig(epochs=1, holdout_fraction=0.0)

    result = train_local("cnn", cnn_kwargs, cnn_spec.initial_state(0), x, y, config, progress=False)

    assert result.num_samples == 64
    assert (result.metrics.eval_split, result.metrics.eval_samples) == ("train", 64)


def test_split_holdout_is_seeded_and_needs_two_samples() -> None:
    # Execute
    train, held = split_holdout(10, 0.3, torch.Generator().manual_seed(1))
    again_train, _ = split_holdout(10, 0.3, torch.Generator().manual_seed(1))

    # Assert
    assert held.numel() == 3 and train.numel() == 7
    assert sorted(torch.cat([train, held]).tolist()) == list(range(10))
    assert torch.equal(train, again_train)
    with pytest.raises(FormatError, match="needs at least 2 local samples, have 1"):
        split_holdout(1, 0.1, torch.Generator())


def test_rejects_global_state_that_does_not_fit(
    digits: Dataset, cnn_kwargs: dict[str, Any]
) -> None:
    # Prepare
    x, y = _subset(digits, 20)
    wrong = initial_state("cnn", (1, 8, 8), 10, seed=0, hidden=32)
    poisoned = initial_state("cnn", (1, 8, 8), 10, seed=0)
    poisoned["classifier.1.bias"][0] = float("inf")

    # Execute / Assert
    with pytest.raises(
        FormatError, match=r"global model: tensor 'classifier.1.weight' has shape \[32, 512\]"
    ):
        train_local("cnn", cnn_kwargs, wrong, x, y, QUICK, progress=False)
    with pytest.raises(FormatError, match="global model: tensor 'classifier.1.bias' holds NaN or Inf"):
        train_local("cnn", cnn_kwargs, poisoned, x, y, QUICK, progress=False)


def test_rejects_samples_of_the_wrong_shape(
    cnn_spec: ModelSpec, cnn_kwargs: dict[str, Any]
) -> None:
    x = torch.zeros(10, 1, 28, 28)
    y = torch.zeros(10, dtype=torch.long)

    with pytest.raises(
        FormatError, match=r"sample shape \(1, 28, 28\), the model expects \(1, 8, 8\)"
    ):
        train_local("cnn", cnn_kwargs, cnn_spec.initial_state(0), x, y, QUICK, progress=False)


def test_diverging_loss_is_reported_not_returned(
    cnn_spec: ModelSpec, cnn_kwargs: dict[str, Any]
) -> None:
    # Prepare: finite inputs so large that the first step's gradient overflows float32.
    x = torch.full((8, 1, 8, 8), 3e38)
    y = torch.zeros(8, dtype=torch.long)
    config = TrainConfig(epochs=1, batch_size=2, holdout_fraction=0.0)

    # Execute / Assert
    with pytest.raises(TrainingDivergedError) as info:
        train_local("cnn", cnn_kwargs, cnn_spec.initial_state(0), x, y, config, progress=False)
    assert str(info.value) == "loss became nan at epoch 1, step 2; lower lr (now 0.05)"


def test_cuda_requested_without_cuda_fails_before_training(
    monkeypatch: pytest.MonkeyPatch, cnn_spec: ModelSpec, cnn_kwargs: dict[str, Any]
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    x, y = torch.zeros(4, 1, 8, 8), torch.zeros(4, dtype=torch.long)

    with pytest.raises(DeviceUnavailableError, match="CUDA is not available"):
        train_local("cnn", cnn_kwargs, cnn_spec.initial_state(0), x, y, QUICK, device="cuda")
