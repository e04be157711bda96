"""Scaled update multiplies by the factor; a non-finite factor is refused."""

from __future__ import annotations

import pytest
import torch

from ledger.errors import ConfigError
from node.attacks.attack_base import AttackContext
from node.attacks.scaled_update import ScaledUpdate


def test_scaled_update_multiplies_by_factor(own_delta: dict[str, torch.Tensor]) -> None:
    scaled = ScaledUpdate(factor=4.0).apply(own_delta, AttackContext())

    assert scaled["w"].tolist() == [[4.0, -8.0], [2.0, 0.0]]
    assert scaled["b"].tolist() == [12.0]
    assert scaled["w"].dtype == torch.float32


def test_scaled_update_rejects_infinite_factor() -> None:
    with pytest.raises(ConfigError, match="attack 'scale': factor must be finite, got inf"):
        ScaledUpdate(factor=float("inf"))
