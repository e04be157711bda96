"""Free-riding: claim rewards without training, by a zero update or a copied one.

Lin, Du & Liu, "Free-riders in Federated Learning: Attacks and Defenses" (2019),
and Fraboni, Vidal & Lorenzi, "Free-rider Attacks on Model Aggregation in
Federated Learning", AISTATS 2021. fedledger's commit-reveal round is meant to
stop copying a peer's update of the same round; this attack lets tests show it.
EVALUATION TOOL ONLY.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from ledger.errors import ConfigError
from node.attacks.attack_base import AttackContext, Delta, UpdateAttack, as_float32

FREE_RIDER_MODES = ("zero", "copy")


@dataclass(frozen=True)
class FreeRider(UpdateAttack):
    """``zero``: an all-zero delta; ``copy``: a copy of ``benign_deltas[source]``."""

    name: ClassVar[str] = "free-rider"
    mode: str = "zero"
    source: int = 0

    def __post_init__(self) -> None:
        if self.mode not in FREE_RIDER_MODES:
            raise ConfigError(
                f"attack 'free-rider': mode must be one of {FREE_RIDER_MODES}, got {self.mode!r}"
            )
        if self.source < 0:
            raise ConfigError(f"attack 'free-rider': source must be >= 0, got {self.source}")

    def apply(self, delta: Delta, context: AttackContext) -> dict[str, torch.Tensor]:
        """Zero the delta, or copy another participant's."""
        layout, tensors = as_float32(delta)
        if self.mode == "zero":
            return {name: torch.zeros_like(t) for name, t in tensors.items()}
        benign = context.checked_benign(layout, self.name)
        if self.source >= len(benign):
            raise ConfigError(
                f"attack 'free-rider': source {self.source} but only {len(benign)} benign deltas"
            )
        victim = benign[self.source]
        return {
            name: victim[name].detach().to("cpu", torch.float32).clone() for name in layout.names
        }
