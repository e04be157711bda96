"""A Little Is Enough (ALIE): hide inside the benign spread, coordinate by coordinate.

Baruch, Baruch & Goldberg, "A Little Is Enough: Circumventing Defenses For
Distributed Learning", NeurIPS 2019. Colluding attackers send
``mean_j - z * std_j`` for every coordinate j of the benign updates, with z the
largest value for which enough honest workers still look further from the mean
than the attackers: ``s = floor(n / 2 + 1) - f`` and ``z = Phi^-1((n - s) / n)``
(Phi the standard normal CDF, n all workers, f the attackers).
EVALUATION TOOL ONLY.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import ClassVar

import torch

from ledger.errors import ConfigError
from node.attacks.attack_base import AttackContext, Delta, UpdateAttack, as_float32


def alie_z(num_participants: int, num_attackers: int) -> float:
    """The paper's z_max for n participants of which f collude."""
    n, f = num_participants, num_attackers
    if not 1 <= f < n:
        raise ConfigError(f"ALIE needs 1 <= f < n, got n={n}, f={f}")
    supporters = math.floor(n / 2 + 1) - f
    quantile = (n - supporters) / n
    if not 0 < quantile < 1:
        raise ConfigError(
            f"ALIE z is undefined for n={n}, f={f} (needs 0 < (n - s)/n < 1, s={supporters})"
        )
    return NormalDist().inv_cdf(quantile)


@dataclass(frozen=True)
class ALittleIsEnough(UpdateAttack):
    """Per-coordinate ``mean - z * std`` of the benign deltas (population std).

    `z` overrides the paper's formula; without it the context must give n and f.
    """

    name: ClassVar[str] = "alie"
    z: float | None = None

    def __post_init__(self) -> None:
        if self.z is not None and not math.isfinite(self.z):
            raise ConfigError(f"attack 'alie': z must be finite, got {self.z}")

    def z_for(self, context: AttackContext) -> float:
        """The z used in `context` (given, or from n and f)."""
        if self.z is not None:
            return self.z
        if context.num_participants is None or context.num_attackers is None:
            raise ConfigError(
                "attack 'alie' needs z, or num_participants and num_attackers in the context"
            )
        return alie_z(context.num_participants, context.num_attackers)

    def apply(self, delta: Delta, context: AttackContext) -> dict[str, torch.Tensor]:
        """Craft the ALIE delta from the benign deltas (the attacker's own is ignored)."""
        layout, _ = as_float32(delta)
        benign = context.checked_benign(layout, self.name)
        z = self.z_for(context)
        out: dict[str, torch.Tensor] = {}
        for name in layout.names:
            stack = torch.stack([d[name].detach().to("cpu", torch.float32) for d in benign])
            mean = stack.mean(dim=0)
            std = stack.std(dim=0, correction=0)
            out[name] = mean - z * std
        return out
