"""What every attack is: a change to an update delta, or to the local training data.

EVALUATION TOOLS ONLY. Attacks exist so that robust aggregation, scoring and
slashing can be tested against the behaviours the literature describes; an
honest participant never enables one (`AttackConfig()` is honest).

Some attacks need more than the attacker's own update: ALIE and IPM are defined
over the benign updates of the round, which colluding attackers are assumed to
know. In a simulation those are passed explicitly in `AttackContext`, never
fetched behind the caller's back, so a test states exactly what the attacker saw.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import torch

from ledger.errors import ConfigError
from ledger.formats.layout import ParameterLayout
from ledger.formats.payload import tensors_to_arrays

Delta = Mapping[str, torch.Tensor]


@dataclass(frozen=True)
class AttackContext:
    """What the attacker knows in the round it attacks.

    Attributes
    ----------
    benign_deltas:
        Honest participants' deltas of this round (colluders' knowledge, given
        explicitly by a simulation); same layout as the attacker's own delta.
    num_participants:
        n, all participants of the round (honest and malicious).
    num_attackers:
        f, the number of colluding attackers among them.
    round:
        Round number (mixes into seeded randomness).
    """

    benign_deltas: tuple[Delta, ...] = ()
    num_participants: int | None = None
    num_attackers: int | None = None
    round: int = 0

    def checked_benign(self, layout: ParameterLayout, attack: str) -> tuple[Delta, ...]:
        """The benign deltas, required non-empty and checked against `layout`."""
        if not self.benign_deltas:
            raise ConfigError(
                f"attack {attack!r} needs the benign deltas of the round "
                "(AttackContext.benign_deltas)"
            )
        for i, delta in enumerate(self.benign_deltas):
            tensors_to_arrays(delta, layout, f"benign delta {i}")
        return self.benign_deltas


def as_float32(delta: Delta) -> tuple[ParameterLayout, dict[str, torch.Tensor]]:
    """Check a delta (finite float32 tensors) and return its layout and CPU float32 copies."""
    layout = ParameterLayout.from_state_dict(delta)
    tensors_to_arrays(delta, layout, "attacked delta")
    return layout, {name: delta[name].detach().to("cpu", torch.float32) for name in layout.names}


class UpdateAttack(ABC):
    """Replaces an honest update delta with a malicious one."""

    name: ClassVar[str]

    @abstractmethod
    def apply(self, delta: Delta, context: AttackContext) -> dict[str, torch.Tensor]:
        """Return the malicious delta (new CPU float32 tensors, same names and shapes)."""


class DataAttack(ABC):
    """Poisons the local training data before honest training runs on it."""

    name: ClassVar[str]

    @abstractmethod
    def poison(
        self, x: torch.Tensor, y: torch.Tensor, num_classes: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return poisoned ``(x, y)``; the inputs are not modified."""
