"""Gaussian noise: perturb the update (or replace it) with seeded N(0, sigma^2) noise.

The Gaussian Byzantine worker of Blanchard, El Mhamdi, Guerraoui & Stainer,
"Machine Learning with Adversaries: Byzantine Tolerant Gradient Descent"
(NeurIPS 2017), used as a baseline attack by most robust-aggregation papers.
EVALUATION TOOL ONLY.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from ledger.errors import ConfigError
from node.attacks.attack_base import AttackContext, Delta, UpdateAttack, as_float32


@dataclass(frozen=True)
class GaussianNoise(UpdateAttack):
    """delta -> delta + noise (or noise alone when `replace`), noise ~ N(0, sigma^2).

    The noise is drawn from a torch generator seeded by ``(seed, round)``, tensor
    by tensor in layout order, so a simulation is reproducible.
    """

    name: ClassVar[str] = "gaussian"
    sigma: float = 1.0
    replace: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.sigma) and self.sigma > 0):
            raise ConfigError(f"attack 'gaussian': sigma must be > 0, got {self.sigma}")
        if self.seed < 0:
            raise ConfigError(f"attack 'gaussian': seed must be >= 0, got {self.seed}")

    def apply(self, delta: Delta, context: AttackContext) -> dict[str, torch.Tensor]:
        """Add (or substitute) seeded Gaussian noise."""
        layout, tensors = as_float32(delta)
        mixed = int(np.random.SeedSequence([self.seed, context.round]).generate_state(1)[0])
        generator = torch.Generator().manual_seed(mixed)
        out: dict[str, torch.Tensor] = {}
        for name, shape in layout:
            noise = torch.randn(shape, generator=generator, dtype=torch.float32) * self.sigma
            out[name] = noise if self.replace else tensors[name] + noise
        return out
