"""One participant's local training round: global model in, new state and delta out.

This is FedAvg's client step (McMahan et al., AISTATS 2017), optionally with the
FedProx proximal term (Li et al., MLSys 2020): SGD with momentum over the local
training split, the loss plus ``mu/2 * ||w - w_global||^2`` when `prox_mu > 0`.

Everything random (held-out split, batch order, dropout) comes from the config's
seed, and training runs in a deterministic torch scope, so the same inputs on CPU
give bitwise-identical states: a participant can re-derive and defend its update.
The result is always on the CPU in float32, ready to be packaged and hashed,
whatever device trained it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import torch
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from torch import nn

from ledger.errors import FormatError
from ledger.formats.layout import ParameterLayout
from node.models.factory import build_model_from
from node.training.determinism import deterministic_scope
from node.training.device import resolve_device
from node.training.errors import TrainingDivergedError
from node.training.evaluation import check_samples, evaluate_module, load_state
from node.training.train_config import TrainConfig


@dataclass(frozen=True)
class LocalMetrics:
    """What local training measured, for the contribution proof and the operator.

    `*_before` is the received global model, `*_after` the trained one, both on
    the `eval_split` (``"holdout"``, or ``"train"`` when no samples were held out).
    """

    loss_before: float
    accuracy_before: float
    loss_after: float
    accuracy_after: float
    train_loss: float
    eval_split: str
    eval_samples: int
    epochs: int
    steps: int
    wall_time_s: float

    def to_dict(self) -> dict[str, float | int | str]:
        """Plain dictionary form."""
        return asdict(self)


@dataclass(frozen=True)
class LocalResult:
    """The outcome of `train_local`.

    Attributes
    ----------
    state:
        The trained `state_dict`, CPU, floating tensors float32.
    delta:
        ``state - global_state`` for every floating tensor, CPU float32, in layout order.
    num_samples:
        Samples trained on (local samples minus the held-out ones): the FedAvg weight.
    metrics:
        Loss/accuracy before and after, steps and wall time.
    """

    state: dict[str, torch.Tensor]
    delta: dict[str, torch.Tensor]
    num_samples: int
    metrics: LocalMetrics


def split_holdout(
    num_samples: int, fraction: float, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Seeded split of ``range(num_samples)`` into (train, held-out) index tensors."""
    order = torch.randperm(num_samples, generator=generator)
    if fraction == 0:
        return order, order[:0]
    if num_samples < 2:
        raise FormatError(
            f"holdout_fraction {fraction} needs at least 2 local samples, have {num_samples}; "
            "set holdout_fraction=0"
        )
    held = min(max(round(fraction * num_samples), 1), num_samples - 1)
    return order[held:], order[:held]


def _progress(enabled: bool, console: Console | None) -> Progress:
    return Progress(
        TextColumn("[bold]local training[/] epoch {task.fields[epoch]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]:.4f}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not enabled,
        transient=True,
    )


def _prox_term(model: nn.Module, anchor: dict[str, torch.Tensor]) -> torch.Tensor:
    terms = [(p - anchor[name]).pow(2).sum() for name, p in model.named_parameters()]
    return torch.stack(terms).sum()


def train_local(
    model_name: str,
    model_kwargs: Mapping[str, Any],
    global_state: Mapping[str, torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    config: TrainConfig,
    device: str | torch.device = "cpu",
    progress: bool = True,
    console: Console | None = None,
) -> LocalResult:
    """Train the global model on local data and return the new state and its delta.

    Parameters
    ----------
    model_name, model_kwargs:
        The architecture; `model_kwargs` holds ``input_shape``, ``num_classes`` and
        any options (`ModelSpec.build_kwargs()`).
    global_state:
        The round's global weights; checked against the architecture's layout
        (names, shapes, finite values) before use.
    x, y:
        Local inputs ``(N, *input_shape)`` and integer labels ``(N,)``.
    config:
        Hyper-parameters and seed.
    device:
        ``"auto" | "cpu" | "cuda" | "cuda:N"`` or a `torch.device`.
    progress:
        Show a rich progress bar.
    console:
        Where the progress bar draws (default: rich's stdout console).

    Raises
    ------
    FormatError
        The global state or the samples do not fit the architecture.
    TrainingDivergedError
        The loss became NaN or infinite (lower the learning rate).
    """
    started = time.perf_counter()
    target = resolve_device(device)
    model = build_model_from(model_name, model_kwargs)
    load_state(model, global_state, what="global model")
    inputs, labels = check_samples(
        x, y, tuple(model_kwargs["input_shape"]), int(model_kwargs["num_classes"])
    )
    names = ParameterLayout.from_state_dict(model.state_dict()).names
    reference = {
        name: global_state[name].detach().to("cpu", torch.float32) for name in names
    }

    generator = torch.Generator().manual_seed(config.seed)
    train_idx, held_idx = split_holdout(inputs.shape[0], config.holdout_fraction, generator)
    model.to(target)
    x_dev, y_dev = inputs.to(target), labels.to(target)
    eval_idx = held_idx if held_idx.numel() else train_idx
    eval_x, eval_y = x_dev[eval_idx.to(target)], y_dev[eval_idx.to(target)]

    optimizer = torch.optim.SGD(
        model.parameters(),
        lr=config.lr,
        momentum=config.momentum,
        weight_decay=config.weight_decay,
    )
    anchor = {name: p.detach().clone() for name, p in model.named_parameters()}
    steps_per_epoch = math.ceil(train_idx.numel() / config.batch_size)
    steps, epoch_loss = 0, 0.0

    with deterministic_scope(config.seed, target), _progress(progress, console) as bar:
        before = evaluate_module(model, eval_x, eval_y)
        task = bar.add_task(
            "train", total=config.epochs * steps_per_epoch, epoch=1, loss=before.loss
        )
        model.train()
        for epoch in range(1, config.epochs + 1):
            order = train_idx[torch.randperm(train_idx.numel(), generator=generator)].to(target)
            loss_sum, seen = 0.0, 0
            for start in range(0, order.numel(), config.batch_size):
                batch = order[start : start + config.batch_size]
                optimizer.zero_grad(set_to_none=True)
                loss = nn.functional.cross_entropy(model(x_dev[batch]), y_dev[batch])
                if config.prox_mu > 0:
                    loss = loss + 0.5 * config.prox_mu * _prox_term(model, anchor)
                value = float(loss.detach())
                if not math.isfinite(value):
                    raise TrainingDivergedError(
                        f"loss became {value} at epoch {epoch}, step {steps + 1}; "
                        f"lower lr (now {config.lr})"
                    )
                torch.autograd.backward(loss)
                optimizer.step()
                steps += 1
                loss_sum += value * batch.numel()
                seen += batch.numel()
                bar.update(task, advance=1, epoch=epoch, loss=value)
            epoch_loss = loss_sum / seen
        after = evaluate_module(model, eval_x, eval_y)

    state = {
        key: (t.detach().to("cpu", torch.float32) if t.is_floating_point() else t.detach().cpu())
        .clone()
        .contiguous()
        for key, t in model.state_dict().items()
    }
    delta = {name: state[name] - reference[name] for name in names}
    metrics = LocalMetrics(
        loss_before=before.loss,
        accuracy_before=before.accuracy,
        loss_after=after.loss,
        accuracy_after=after.accuracy,
        train_loss=epoch_loss,
        eval_split="holdout" if held_idx.numel() else "train",
        eval_samples=int(eval_idx.numel()),
        epochs=config.epochs,
        steps=steps,
        wall_time_s=time.perf_counter() - started,
    )
    return LocalResult(
        state=state, delta=delta, num_samples=int(train_idx.numel()), metrics=metrics
    )
