"""Record-level DP for one participant: local training with DP-SGD through Opacus.

Client-level DP (the task's mechanism) bounds what a participant's whole contribution
reveals to the public. A participant who also wants each of its *records* protected from
whoever reads its update (the aggregator and auditors, who hold reader keys) trains with
DP-SGD (Abadi et al., CCS 2016): per-example gradients clipped to `max_grad_norm`,
Gaussian noise of `noise_multiplier * max_grad_norm` per batch, Poisson sampling, and
Opacus' accountant for the record-level (epsilon, delta) it has spent. This is the
participant's own choice: nothing on chain can see local training, so it is reported to
the operator and not audited.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from opacus import PrivacyEngine
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from ledger.errors import ConfigError
from node.models.factory import build_model_from
from node.training.device import resolve_device
from node.training.evaluation import check_samples, load_state

__all__ = ["DpSgdConfig", "DpSgdResult", "train_local_dp_sgd"]


@dataclass(frozen=True)
class DpSgdConfig:
    """DP-SGD hyper-parameters (per-record clipping, noise, accounting)."""

    epochs: int
    batch_size: int
    lr: float
    noise_multiplier: float
    max_grad_norm: float
    delta: float
    seed: int
    accountant: str = "rdp"

    def __post_init__(self) -> None:
        """Refuse values Opacus would accept but that void the guarantee or the run."""
        if self.epochs < 1 or self.batch_size < 1 or not self.lr > 0:
            raise ConfigError("dp-sgd: epochs and batch_size must be >= 1 and lr > 0")
        if not self.noise_multiplier > 0 or not self.max_grad_norm > 0:
            raise ConfigError("dp-sgd: noise_multiplier and max_grad_norm must be > 0")
        if not 0 < self.delta < 1:
            raise ConfigError(f"dp-sgd: delta must be in (0, 1), got {self.delta}")
        if self.accountant not in ("rdp", "prv"):
            raise ConfigError(f"dp-sgd: accountant must be 'rdp' or 'prv', got "
                              f"{self.accountant!r}")


@dataclass(frozen=True)
class DpSgdResult:
    """The delta to publish and the record-level budget spent producing it."""

    delta: dict[str, torch.Tensor]
    num_samples: int
    epsilon: float
    steps: int


def train_local_dp_sgd(model_name: str, model_kwargs: Mapping[str, Any],
                       global_state: Mapping[str, torch.Tensor], x: torch.Tensor,
                       y: torch.Tensor, config: DpSgdConfig,
                       device: str | torch.device = "cpu") -> DpSgdResult:
    """Train the global model with DP-SGD on local data; return the delta and epsilon."""
    target = resolve_device(device)
    torch.manual_seed(config.seed)
    model = build_model_from(model_name, model_kwargs)
    load_state(model, dict(global_state), what="global model")
    inputs, labels = check_samples(x, y, tuple(model_kwargs["input_shape"]),
                                   int(model_kwargs["num_classes"]))
    reference = {k: v.detach().to("cpu", torch.float32).clone()
                 for k, v in model.state_dict().items() if v.is_floating_point()}
    model.to(target)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr)
    loader = DataLoader(TensorDataset(inputs, labels), batch_size=config.batch_size,
                        generator=torch.Generator().manual_seed(config.seed))
    steps = 0
    with warnings.catch_warnings():
        # Advisories, not faults: Opacus' note that its RNG is not a CSPRNG (pass
        # secure_mode for production), and torch's note on hooks over input-free modules.
        warnings.filterwarnings("ignore", message="Secure RNG turned off")
        warnings.filterwarnings("ignore", message="Full backward hook is firing")
        engine = PrivacyEngine(accountant=config.accountant)
        private_model, private_optimizer, private_loader = engine.make_private(
            module=model, optimizer=optimizer, data_loader=loader,
            noise_multiplier=config.noise_multiplier, max_grad_norm=config.max_grad_norm)
        private_model.train()
        for _ in range(config.epochs):
            for batch_x, batch_y in private_loader:
                if batch_x.numel() == 0:
                    continue
                private_optimizer.zero_grad(set_to_none=True)
                loss = nn.functional.cross_entropy(private_model(batch_x.to(target)),
                                                   batch_y.to(target))
                loss.backward()  # type: ignore[no-untyped-call]
                private_optimizer.step()
                steps += 1
    state = {k: v.detach().to("cpu", torch.float32) for k, v in model.state_dict().items()
             if v.is_floating_point()}
    delta = {k: (state[k] - reference[k]).contiguous() for k in reference}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        epsilon = float(engine.get_epsilon(config.delta))
    return DpSgdResult(delta, int(inputs.shape[0]), epsilon, steps)
