"""Free rider: zero update, or a copy of a named peer's delta."""

from __future__ import annotations

import pytest
import torch

from ledger.errors import ConfigError
from node.attacks.attack_base import AttackContext
from node.attacks.free_rider import FreeRider

Delta = dict[str, torch.Tensor]


def test_zero_mode_sends_zeros(own_delta: Delta) -> None:
    crafted = FreeRider().apply(own_delta, AttackContext())

    assert all(float(t.abs().sum()) == 0.0 for t in crafted.values())
    assert {k: tuple(v.shape) for k, v in crafted.items()} == {"w": (2, 2), "b": (1,)}


def test_copy_mode_copies_the_named_peer(
    own_delta: Delta, benign_deltas: tuple[Delta, ...]
) -> None:
    # Execute
    crafted = FreeRider(mode="copy", source=1).apply(
        own_delta, AttackContext(benign_deltas=benign_deltas)
    )
    crafted["w"][0, 0] = 99.0

    # Assert: an independent copy of peer 1.
    assert crafted["b"].tolist() == [3.0]
    assert benign_deltas[1]["w"][0, 0] == 3.0


def test_copy_mode_needs_an_existing_source(
    own_delta: Delta, benign_deltas: tuple[Delta, ...]
) -> None:
    with pytest.raises(ConfigError, match="source 3 but only 3 benign deltas"):
        FreeRider(mode="copy", source=3).apply(
            own_delta, AttackContext(benign_deltas=benign_deltas)
        )
    with pytest.raises(ConfigError, match="attack 'free-rider' needs the benign deltas"):
        FreeRider(mode="copy").apply(own_delta, AttackContext())


def test_free_rider_rejects_unknown_mode() -> None:
    with pytest.raises(ConfigError, match=r"mode must be one of \('zero', 'copy'\), got 'steal'"):
        FreeRider(mode="steal")
