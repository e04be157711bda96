"""Scaled (boosted) update: multiply the delta so it dominates a plain average.

Explicit boosting from Bhagoji, Chakraborty, Mittal & Calo, "Analyzing Federated
Learning through an Adversarial Lens", ICML 2019; the model-replacement scaling of
Bagdasaryan et al., "How To Backdoor Federated Learning", AISTATS 2020.
EVALUATION TOOL ONLY.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch

from ledger.errors import ConfigError
from node.attacks.attack_base import AttackContext, Delta, UpdateAttack, as_float32


@dataclass(frozen=True)
class ScaledUpdate(UpdateAttack):
    """delta -> factor * delta."""

    name: ClassVar[str] = "scale"
    factor: float = 10.0

    def __post_init__(self) -> None:
        if not math.isfinite(self.factor):
            raise ConfigError(f"attack 'scale': factor must be finite, got {self.factor}")

    def apply(self, delta: Delta, context: AttackContext) -> dict[str, torch.Tensor]:
        """Multiply every tensor by `factor`."""
        _, tensors = as_float32(delta)
        return {name: t * self.factor for name, t in tensors.items()}
