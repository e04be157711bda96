"""Local training hyper-parameters as one validated, hashable record.

The contribution proof commits to the training configuration by hash, and the
task spec fixes it per round, so the record is frozen, checked at construction
and has one canonical dictionary form (`to_dict`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from ledger.errors import ConfigError


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of one participant's local training in a round.

    Attributes
    ----------
    epochs:
        Passes over the local training split.
    batch_size:
        Samples per SGD step.
    lr, momentum, weight_decay:
        Parameters of `torch.optim.SGD`.
    prox_mu:
        FedProx proximal weight mu (Li et al., "Federated Optimization in
        Heterogeneous Networks", MLSys 2020); 0 gives plain FedAvg local SGD.
    seed:
        Seeds the held-out split, the batch order and any dropout masks.
    holdout_fraction:
        Share of local samples held out to measure loss/accuracy before and after
        training; 0 measures on the training samples instead.
    """

    epochs: int = 1
    batch_size: int = 32
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 0.0
    prox_mu: float = 0.0
    seed: int = 0
    holdout_fraction: float = 0.1

    def __post_init__(self) -> None:
        for name in ("lr", "momentum", "weight_decay", "prox_mu", "holdout_fraction"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
            ):
                raise ConfigError(f"TrainConfig.{name} must be a finite number, got {value!r}")
        for name in ("epochs", "batch_size", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigError(f"TrainConfig.{name} must be an integer, got {value!r}")
        checks = [
            (self.epochs >= 1, f"epochs must be >= 1, got {self.epochs}"),
            (self.batch_size >= 1, f"batch_size must be >= 1, got {self.batch_size}"),
            (self.lr > 0, f"lr must be > 0, got {self.lr}"),
            (0 <= self.momentum < 1, f"momentum must be in [0, 1), got {self.momentum}"),
            (self.weight_decay >= 0, f"weight_decay must be >= 0, got {self.weight_decay}"),
            (self.prox_mu >= 0, f"prox_mu must be >= 0, got {self.prox_mu}"),
            (self.seed >= 0, f"seed must be >= 0, got {self.seed}"),
            (
                0 <= self.holdout_fraction < 1,
                f"holdout_fraction must be in [0, 1), got {self.holdout_fraction}",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(f"TrainConfig.{message}")

    def to_dict(self) -> dict[str, int | float]:
        """Canonical dictionary form (field order as declared)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainConfig:
        """Build from a mapping; unknown keys are a `ConfigError`, missing keys take defaults."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"TrainConfig has no field {', '.join(unknown)}")
        return cls(**dict(data))
