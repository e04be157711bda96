"""Krum (Blanchard et al., 2017): Multi-Krum that keeps exactly one update.

The aggregate is the selected update itself, on the grid.
"""

from __future__ import annotations

import torch

from aggregator.fixedpoint import FixedPointGrid
from aggregator.rules.base import JSONScalar
from aggregator.rules.multikrum import MultiKrum, select_multikrum


def krum(updates: torch.Tensor, num_malicious: int) -> int:
    """Index of the update Krum selects."""
    return select_multikrum(updates, num_malicious, 1)[0]


class Krum(MultiKrum):
    """Krum: the single update with the lowest score."""

    name = "krum"

    def __init__(self, grid: FixedPointGrid | None = None, num_malicious: int = 0) -> None:
        super().__init__(grid, num_malicious=num_malicious, num_selected=1, weighted=True)

    @property
    def params(self) -> dict[str, JSONScalar]:
        return {"num_malicious": self.num_malicious}
