"""Inner-product manipulation (IPM): send a small negative multiple of the benign mean.

Xie, Koyejo & Gupta, "Fall of Empires: Breaking Byzantine-tolerant SGD by Inner
Product Manipulation", UAI 2019. With all attackers sending ``-epsilon * mean``
of the benign updates, the aggregate's inner product with the true update can
turn negative while a small epsilon keeps the malicious vectors inside the region
distance-based rules accept.
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
class InnerProductManipulation(UpdateAttack):
    """delta -> -epsilon * mean(benign deltas)."""

    name: ClassVar[str] = "ipm"
    epsilon: float = 0.1

    def __post_init__(self) -> None:
        if not (math.isfinite(self.epsilon) and self.epsilon > 0):
            raise ConfigError(f"attack 'ipm': epsilon must be > 0, got {self.epsilon}")

    def apply(self, delta: Delta, context: AttackContext) -> dict[str, torch.Tensor]:
        """Craft the IPM delta from the benign deltas (the attacker's own is ignored)."""
        layout, _ = as_float32(delta)
        benign = context.checked_benign(layout, self.name)
        out: dict[str, torch.Tensor] = {}
        for name in layout.names:
            stack = torch.stack([d[name].detach().to("cpu", torch.float32) for d in benign])
            out[name] = -self.epsilon * stack.mean(dim=0)
        return out
