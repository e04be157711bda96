"""The deterministic scope seeds torch privately and restores the caller's settings."""

from __future__ import annotations

import torch

from node.training.determinism import deterministic_scope


def test_scope_seeds_rng_and_restores_global_state() -> None:
    # Prepare
    torch.use_deterministic_algorithms(False)
    torch.manual_seed(99)
    expected_outside = torch.rand(3)
    torch.manual_seed(99)

    # Execute
    with deterministic_scope(7, torch.device("cpu")):
        inside_first = torch.rand(3)
        enabled_inside = torch.are_deterministic_algorithms_enabled()
    with deterministic_scope(7, torch.device("cpu")):
        inside_second = torch.rand(3)
    outside = torch.rand(3)

    # Assert
    assert enabled_inside is True
    assert torch.equal(inside_first, inside_second)
    assert torch.equal(outside, expected_outside)
    assert torch.are_deterministic_algorithms_enabled() is False
