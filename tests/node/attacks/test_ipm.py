"""IPM: exactly -epsilon times the benign mean."""

from __future__ import annotations

import pytest
import torch

from ledger.errors import ConfigError
from node.attacks.attack_base import AttackContext
from node.attacks.ipm import InnerProductManipulation

Delta = dict[str, torch.Tensor]


def test_ipm_sends_negative_scaled_benign_mean(
    own_delta: Delta, benign_deltas: tuple[Delta, ...]
) -> None:
    crafted = InnerProductManipulation(epsilon=0.5).apply(
        own_delta, AttackContext(benign_deltas=benign_deltas)
    )

    assert crafted["w"].tolist() == [[-1.0, -1.0], [-1.0, -1.0]]
    assert crafted["b"].tolist() == [-1.0]


def test_ipm_needs_benign_deltas_and_positive_epsilon(own_delta: Delta) -> None:
    with pytest.raises(ConfigError, match="attack 'ipm' needs the benign deltas"):
        InnerProductManipulation().apply(own_delta, AttackContext())
    with pytest.raises(ConfigError, match="epsilon must be > 0, got -1.0"):
        InnerProductManipulation(epsilon=-1.0)
