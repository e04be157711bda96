"""Label flipping: train honestly on wrongly labelled data.

Tolpegin, Truex, Gursoy & Liu, "Data Poisoning Attacks Against Federated Learning
Systems", ESORICS 2020; also Fung, Yoon & Beschastnikh, "The Limitations of
Federated Learning in Sybil Settings" (FoolsGold), RAID 2020.
EVALUATION TOOL ONLY.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from ledger.errors import ConfigError, FormatError
from node.attacks.attack_base import DataAttack

LABEL_FLIP_MODES = ("reverse", "permutation")


def derangement(num_classes: int, seed: int) -> torch.Tensor:
    """A seeded permutation of ``range(num_classes)`` that moves every class.

    A random order of the classes is shifted by one place, so class ``order[i]``
    maps to ``order[i + 1]``: no class keeps its label.
    """
    order = torch.randperm(num_classes, generator=torch.Generator().manual_seed(seed))
    mapping = torch.empty(num_classes, dtype=torch.int64)
    mapping[order] = order.roll(-1)
    return mapping


@dataclass(frozen=True)
class LabelFlip(DataAttack):
    """``reverse``: y -> C - 1 - y; ``permutation``: y -> a seeded derangement of y."""

    name: ClassVar[str] = "label-flip"
    mode: str = "reverse"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.mode not in LABEL_FLIP_MODES:
            raise ConfigError(
                f"attack 'label-flip': mode must be one of {LABEL_FLIP_MODES}, got {self.mode!r}"
            )
        if self.seed < 0:
            raise ConfigError(f"attack 'label-flip': seed must be >= 0, got {self.seed}")

    def mapping(self, num_classes: int) -> torch.Tensor:
        """The label map as a tensor: ``new_label = mapping[old_label]``."""
        if num_classes < 2:
            raise ConfigError(f"attack 'label-flip' needs >= 2 classes, got {num_classes}")
        if self.mode == "reverse":
            return torch.arange(num_classes - 1, -1, -1, dtype=torch.int64)
        return derangement(num_classes, self.seed)

    def poison(
        self, x: torch.Tensor, y: torch.Tensor, num_classes: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Relabel every sample; inputs are returned unchanged."""
        labels = y.to(torch.int64)
        if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
            raise FormatError(f"attack 'label-flip': labels outside [0, {num_classes - 1}]")
        return x, self.mapping(num_classes)[labels]
