"""Sign flipping: send the negated update, pushing the model uphill.

Li, Xu, Chen, Giannakis & Ling, "RSA: Byzantine-Robust Stochastic Aggregation
Methods for Distributed Learning from Heterogeneous Datasets", AAAI 2019.
EVALUATION TOOL ONLY.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from node.attacks.attack_base import AttackContext, Delta, UpdateAttack, as_float32


@dataclass(frozen=True)
class SignFlip(UpdateAttack):
    """delta -> -delta."""

    name: ClassVar[str] = "sign-flip"

    def apply(self, delta: Delta, context: AttackContext) -> dict[str, torch.Tensor]:
        """Negate every tensor of the delta."""
        _, tensors = as_float32(delta)
        return {name: -t for name, t in tensors.items()}
