"""Gaussian noise: seeded by (seed, round), additive or replacing, with the right spread."""

from __future__ import annotations

import pytest
import torch

from ledger.errors import ConfigError
from node.attacks.attack_base import AttackContext
from node.attacks.gaussian_noise import GaussianNoise


def test_noise_is_reproducible_per_seed_and_round() -> None:
    # Prepare
    delta = {"w": torch.zeros(20_000)}
    attack = GaussianNoise(sigma=2.0, seed=5)

    # Execute
    first = attack.apply(delta, AttackContext(round=1))
    again = attack.apply(delta, AttackContext(round=1))
    next_round = attack.apply(delta, AttackContext(round=2))

    # Assert
    assert torch.equal(first["w"], again["w"])
    assert not torch.equal(first["w"], next_round["w"])
    assert float(first["w"].std()) == pytest.approx(2.0, rel=0.05)
    assert abs(float(first["w"].mean())) < 0.1


def test_additive_noise_keeps_the_update_and_replace_drops_it(
    own_delta: dict[str, torch.Tensor],
) -> None:
    # Execute
    added = GaussianNoise(sigma=1.0, seed=0).apply(own_delta, AttackContext())
    replaced = GaussianNoise(sigma=1.0, seed=0, replace=True).apply(own_delta, AttackContext())

    # Assert: same noise draw, so the difference is exactly the honest delta.
    for name, honest in own_delta.items():
        torch.testing.assert_close(added[name] - replaced[name], honest)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"sigma": 0.0}, "sigma must be > 0, got 0.0"), ({"seed": -1}, "seed must be >= 0, got -1")],
)
def test_gaussian_rejects_bad_parameters(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        GaussianNoise(**kwargs)  # type: ignore[arg-type]
