"""Many participants' local training at once: `train_local`'s math, vectorised over clients.

The robustness benchmark trains 20 participants for 30 rounds under dozens of
(attack, rule) combinations. Calling `node.training.train_local` once per participant
spends most of its time in per-call overhead (building the model, the deterministic
scope, the before/after evaluation), so this module runs the same client step for all
participants in one batched computation with `torch.func.vmap`:

* the same model (built by `node.models`), the same seeded batch order as
  `train_local` (its hold-out permutation, then one permutation per epoch, from
  ``torch.Generator().manual_seed(seed)``), the same cross-entropy mean per batch,
  the same SGD with momentum and weight decay as `torch.optim.SGD`;
* each step runs only the participants that still have a batch, so uneven non-IID
  shards cost no padding beyond a short last batch (masked out of the mean).

`tests/benchmarks/test_robustness.py` checks it against `train_local` itself. It is a
benchmark tool: it supports models without buffers or dropout (the MLP and the CNN) and
hold-out fraction 0, and says so when asked for anything else.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.func import functional_call, grad, vmap

from ledger.errors import ConfigError
from node.models.factory import build_model_from


@dataclass(frozen=True)
class ClientStep:
    """Hyper-parameters of one local round (``train_local``'s `TrainConfig` subset)."""

    epochs: int = 1
    batch_size: int = 32
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 0.0


class BatchedTrainer:
    """Trains every participant's copy of one model in lock-step.

    Parameters
    ----------
    model_name, model_kwargs:
        The architecture, as `node.models.build_model_from` takes it.
    step:
        Local hyper-parameters shared by all participants.
    """

    def __init__(self, model_name: str, model_kwargs: Mapping[str, Any], step: ClientStep) -> None:
        self.model: nn.Module = build_model_from(model_name, model_kwargs)
        if list(self.model.buffers()):
            raise ConfigError(f"model {model_name!r} has buffers; the batched trainer needs none")
        if any(isinstance(m, nn.Dropout) and m.p > 0 for m in self.model.modules()):
            raise ConfigError(f"model {model_name!r} uses dropout; the batched trainer needs none")
        self.model.train()
        # the parameter layout: the state_dict's floating tensors, in order
        floating = [(k, v) for k, v in self.model.state_dict().items() if v.is_floating_point()]
        self.names = [k for k, _ in floating]
        self.shapes = [tuple(v.shape) for _, v in floating]
        self.sizes = [math.prod(s) for s in self.shapes]
        self.step = step
        self._grad = vmap(grad(self._loss), in_dims=(0, 0, 0, 0))

    @property
    def dim(self) -> int:
        """Number of trainable parameters (the length of a flat update)."""
        return sum(self.sizes)

    def flatten(self, state: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """The layout-ordered float32 vector of a state (or of a stacked [C, ...] state)."""
        lead = state[self.names[0]].shape[: -len(self.shapes[0]) or None]
        return torch.cat([state[n].reshape(*lead, -1) for n in self.names], dim=-1)

    def unflatten(self, vector: torch.Tensor) -> dict[str, torch.Tensor]:
        """Inverse of `flatten` for one vector [d] or a stack [C, d]."""
        lead = vector.shape[:-1]
        parts = torch.split(vector, self.sizes, dim=-1)
        return {n: p.reshape(*lead, *s) for n, p, s in zip(self.names, parts, self.shapes)}

    def _loss(
        self,
        params: dict[str, torch.Tensor],
        x: torch.Tensor,
        y: torch.Tensor,
        mask: torch.Tensor,
    ) -> torch.Tensor:
        logits = functional_call(self.model, params, (x,))
        losses = nn.functional.cross_entropy(logits, y, reduction="none")
        return (losses * mask).sum() / mask.sum().clamp(min=1.0)

    def batch_orders(self, sizes: Sequence[int], seeds: Sequence[int]) -> list[list[torch.Tensor]]:
        """Per client, per epoch, the sample order `train_local` would use (hold-out 0)."""
        orders: list[list[torch.Tensor]] = []
        for n, seed in zip(sizes, seeds):
            generator = torch.Generator().manual_seed(int(seed))
            train_idx = torch.randperm(n, generator=generator)  # split_holdout's draw
            orders.append(
                [train_idx[torch.randperm(n, generator=generator)] for _ in range(self.step.epochs)]
            )
        return orders

    def train(
        self,
        global_vector: torch.Tensor,
        data: Sequence[tuple[torch.Tensor, torch.Tensor]],
        seeds: Sequence[int],
    ) -> torch.Tensor:
        """Train every client from ``global_vector`` [d]; return the deltas [C, d] (float32)."""
        clients = len(data)
        if clients == 0:
            raise ConfigError("no clients to train")
        sizes = [int(y.shape[0]) for _, y in data]
        if min(sizes) < 1:
            raise ConfigError("every client needs at least one sample")
        offsets = torch.tensor([0] + sizes[:-1]).cumsum(0)
        x_all = torch.cat([x for x, _ in data]).to(torch.float32)
        y_all = torch.cat([y for _, y in data]).to(torch.int64)
        batch = self.step.batch_size
        orders = self.batch_orders(sizes, seeds)
        steps = [math.ceil(n / batch) for n in sizes]
        params = {
            k: v.unsqueeze(0).repeat(clients, *([1] * v.dim())).contiguous()
            for k, v in self.unflatten(global_vector.to(torch.float32)).items()
        }
        momentum = {k: torch.zeros_like(v) for k, v in params.items()}
        lr, mu, wd = self.step.lr, self.step.momentum, self.step.weight_decay
        for epoch in range(self.step.epochs):
            for s in range(max(steps)):
                # only the clients that still have a batch this step do any work
                live = [c for c in range(clients) if s < steps[c]]
                rows = torch.tensor(live)
                index = torch.zeros((len(live), batch), dtype=torch.int64)
                mask = torch.zeros((len(live), batch), dtype=torch.float32)
                for i, c in enumerate(live):
                    chunk = orders[c][epoch][s * batch : (s + 1) * batch]
                    index[i, : chunk.numel()] = chunk + offsets[c]
                    mask[i, : chunk.numel()] = 1.0
                sub = {k: v[rows] for k, v in params.items()}
                grads = self._grad(sub, x_all[index], y_all[index], mask)
                with torch.no_grad():
                    for k, grad_k in grads.items():
                        g = grad_k + wd * sub[k] if wd else grad_k
                        buf = mu * momentum[k][rows] + g if mu else g
                        momentum[k][rows] = buf
                        params[k][rows] = sub[k] - lr * buf
        return self.flatten(params) - global_vector.to(torch.float32)

    def accuracy(self, vector: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> float:
        """Test accuracy of the model with flat weights ``vector``."""
        with torch.no_grad():
            logits = functional_call(self.model, self.unflatten(vector), (x.to(torch.float32),))
            return float((logits.argmax(1) == y).to(torch.float32).mean())
