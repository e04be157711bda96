"""Local DP-SGD through Opacus: a delta in the model's layout and Opacus' own epsilon."""

from __future__ import annotations

import pytest
import torch
from opacus.accountants import RDPAccountant

from ledger.errors import ConfigError
from node.models import ModelSpec
from node.privacy.dp_sgd import DpSgdConfig, train_local_dp_sgd


def test_dp_sgd_trains_and_reports_the_accountants_epsilon() -> None:
    # Prepare
    spec = ModelSpec.create("mlp", (1, 4, 4), 3, hidden=())
    state = spec.initial_state(0)
    generator = torch.Generator().manual_seed(1)
    x = torch.rand(64, 1, 4, 4, generator=generator)
    y = torch.randint(0, 3, (64,), generator=generator)
    config = DpSgdConfig(epochs=2, batch_size=16, lr=0.1, noise_multiplier=1.0,
                         max_grad_norm=1.0, delta=1e-5, seed=0)
    # Execute
    result = train_local_dp_sgd(spec.name, spec.build_kwargs(), state, x, y, config)
    # Assert: Poisson sampling at q = 16/64 for the steps taken
    reference = RDPAccountant()
    for _ in range(result.steps):
        reference.step(noise_multiplier=1.0, sample_rate=16 / 64)
    assert result.epsilon == pytest.approx(reference.get_epsilon(delta=1e-5), rel=1e-12)
    assert set(result.delta) == {k for k, v in state.items() if v.is_floating_point()}
    assert all(torch.isfinite(t).all() for t in result.delta.values())
    assert any(bool(t.any()) for t in result.delta.values())
    assert result.num_samples == 64


def test_dp_sgd_refuses_a_zero_noise_multiplier() -> None:
    # Execute / Assert
    with pytest.raises(ConfigError, match="noise_multiplier and max_grad_norm must be > 0"):
        DpSgdConfig(epochs=1, batch_size=8, lr=0.1, noise_multiplier=0.0, max_grad_norm=1.0,
                    delta=1e-5, seed=0)
