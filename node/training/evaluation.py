"""Loss and accuracy of a model state on labelled data, and the input checks training shares.

Participants report metrics before and after training, the aggregator validates a
new global model, and both must measure the same way: mean cross-entropy and the
fraction of correct arg-max predictions, computed in fixed-size batches in sample
order (so the result does not depend on a shuffle).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import torch
from torch import nn

from ledger.errors import FormatError
from ledger.formats.layout import ParameterLayout
from ledger.formats.payload import tensors_to_arrays
from node.models.factory import build_model_from
from node.training.device import resolve_device

EVAL_BATCH_SIZE = 1024


class Evaluation(NamedTuple):
    """Mean cross-entropy loss and accuracy in [0, 1]."""

    loss: float
    accuracy: float


def check_samples(
    x: torch.Tensor, y: torch.Tensor, input_shape: tuple[int, ...], num_classes: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Validate inputs/labels and return them as float32 / int64 (CPU, contiguous)."""
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise FormatError("samples must be torch tensors (x inputs, y labels)")
    if not x.is_floating_point():
        raise FormatError(f"inputs must be floating point, got {x.dtype}")
    if tuple(x.shape[1:]) != tuple(input_shape):
        raise FormatError(
            f"inputs have sample shape {tuple(x.shape[1:])}, the model expects {tuple(input_shape)}"
        )
    if y.ndim != 1 or y.shape[0] != x.shape[0]:
        raise FormatError(f"{x.shape[0]} inputs but labels of shape {tuple(y.shape)}")
    if x.shape[0] == 0:
        raise FormatError("no samples")
    if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
        raise FormatError(f"labels must be integers, got {y.dtype}")
    if int(y.min()) < 0 or int(y.max()) >= num_classes:
        raise FormatError(
            f"labels span [{int(y.min())}, {int(y.max())}], outside [0, {num_classes - 1}]"
        )
    if not bool(torch.isfinite(x).all()):
        raise FormatError("inputs contain NaN or Inf")
    return x.to("cpu", torch.float32).contiguous(), y.to("cpu", torch.int64).contiguous()


def load_state(model: nn.Module, state: Mapping[str, torch.Tensor], what: str) -> None:
    """Check `state` against the model's layout, then load it (strict)."""
    tensors_to_arrays(state, ParameterLayout.from_state_dict(model.state_dict()), what)
    reference = model.state_dict()
    extra = sorted(set(state) - set(reference))
    if extra:
        raise FormatError(f"{what}: unexpected tensors {extra}")
    model.load_state_dict(
        {k: state[k].to(reference[k].dtype) if k in state else reference[k] for k in reference},
        strict=True,
    )


@torch.no_grad()
def evaluate_module(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = EVAL_BATCH_SIZE
) -> Evaluation:
    """Evaluate a module already on the device of `x`/`y`, in sample order."""
    was_training = model.training
    model.eval()
    total_loss, correct = 0.0, 0
    for start in range(0, x.shape[0], batch_size):
        logits = model(x[start : start + batch_size])
        target = y[start : start + batch_size]
        total_loss += float(nn.functional.cross_entropy(logits, target, reduction="sum"))
        correct += int((logits.argmax(dim=1) == target).sum())
    model.train(was_training)
    count = int(x.shape[0])
    return Evaluation(loss=total_loss / count, accuracy=correct / count)


def evaluate(
    model_name: str,
    model_kwargs: Mapping[str, Any],
    state: Mapping[str, torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    device: str | torch.device = "cpu",
    batch_size: int = EVAL_BATCH_SIZE,
) -> Evaluation:
    """Loss and accuracy of `state` on ``(x, y)``.

    Parameters
    ----------
    model_name, model_kwargs:
        The architecture (`model_kwargs` holds input_shape, num_classes and options).
    state:
        The weights, checked against the architecture's layout.
    x, y:
        Inputs ``(N, *input_shape)`` and integer labels ``(N,)``.
    device:
        ``"auto" | "cpu" | "cuda" | "cuda:N"``.
    """
    target = resolve_device(device)
    model = build_model_from(model_name, model_kwargs)
    load_state(model, state, what="evaluated state")
    inputs, labels = check_samples(
        x, y, tuple(model_kwargs["input_shape"]), int(model_kwargs["num_classes"])
    )
    model.to(target)
    return evaluate_module(model, inputs.to(target), labels.to(target), batch_size)
