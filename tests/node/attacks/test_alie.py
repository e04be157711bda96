"""ALIE: the paper's z and the exact mean - z * std per coordinate."""

from __future__ import annotations

import pytest
import torch

from ledger.errors import ConfigError, FormatError
from node.attacks.alie import ALittleIsEnough, alie_z
from node.attacks.attack_base import AttackContext

Delta = dict[str, torch.Tensor]


def test_alie_z_matches_the_paper_formula() -> None:
    # n=50, f=24: s = 26 - 24 = 2, z = Phi^-1(48/50) (about 1.75, as in the paper).
    assert alie_z(50, 24) == pytest.approx(1.750686, abs=1e-6)
    # n=10, f=2: s = 6 - 2 = 4, z = Phi^-1(0.6).
    assert alie_z(10, 2) == pytest.approx(0.253347, abs=1e-6)


@pytest.mark.parametrize(("n", "f"), [(10, 0), (10, 10), (4, 3)])
def test_alie_z_rejects_impossible_collusions(n: int, f: int) -> None:
    with pytest.raises(ConfigError, match="ALIE"):
        alie_z(n, f)


def test_alie_sends_mean_minus_z_std(own_delta: Delta, benign_deltas: tuple[Delta, ...]) -> None:
    # Prepare: coordinate 0 of w takes 1, 3, 2 (mean 2, population std sqrt(2/3)).
    context = AttackContext(benign_deltas=benign_deltas)

    # Execute
    crafted = ALittleIsEnough(z=1.5).apply(own_delta, context)

    # Assert
    std = (2.0 / 3.0) ** 0.5
    expected_w = torch.tensor([[2 - 1.5 * std, 2.0], [2 - 1.5 * std, 2 - 1.5 * 2 * std]])
    torch.testing.assert_close(crafted["w"], expected_w)
    torch.testing.assert_close(crafted["b"], torch.tensor([2 - 1.5 * std]))


def test_alie_takes_z_from_n_and_f(own_delta: Delta, benign_deltas: tuple[Delta, ...]) -> None:
    context = AttackContext(benign_deltas=benign_deltas, num_participants=10, num_attackers=2)

    crafted = ALittleIsEnough().apply(own_delta, context)
    explicit = ALittleIsEnough(z=alie_z(10, 2)).apply(own_delta, context)

    assert torch.equal(crafted["w"], explicit["w"])


def test_alie_needs_benign_deltas_and_n_f(
    own_delta: Delta, benign_deltas: tuple[Delta, ...]
) -> None:
    with pytest.raises(ConfigError, match=r"attack 'alie' needs the benign deltas"):
        ALittleIsEnough(z=1.0).apply(own_delta, AttackContext())
    with pytest.raises(ConfigError, match="needs z, or num_participants and num_attackers"):
        ALittleIsEnough().apply(own_delta, AttackContext(benign_deltas=benign_deltas))


def test_alie_rejects_benign_delta_of_another_layout(own_delta: Delta) -> None:
    other = {"w": torch.zeros(3), "b": torch.zeros(1)}

    with pytest.raises(FormatError, match=r"benign delta 0: tensor 'w' has shape \[3\], layout says \[2, 2\]"):
        ALittleIsEnough(z=1.0).apply(own_delta, AttackContext(benign_deltas=(other,)))
