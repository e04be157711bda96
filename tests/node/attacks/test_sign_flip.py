"""Sign flip negates exactly and leaves the input alone."""

from __future__ import annotations

import pytest
import torch

from ledger.errors import FormatError
from node.attacks.attack_base import AttackContext
from node.attacks.sign_flip import SignFlip


def test_sign_flip_negates_every_tensor(own_delta: dict[str, torch.Tensor]) -> None:
    # Prepare
    original = {k: v.clone() for k, v in own_delta.items()}

    # Execute
    flipped = SignFlip().apply(own_delta, AttackContext())

    # Assert
    assert flipped["w"].tolist() == [[-1.0, 2.0], [-0.5, -0.0]]
    assert flipped["b"].tolist() == [-3.0]
    assert all(torch.equal(own_delta[k], original[k]) for k in original)


def test_attacks_refuse_a_non_finite_delta() -> None:
    delta = {"w": torch.tensor([1.0, float("nan")])}

    with pytest.raises(FormatError, match="attacked delta: tensor 'w' holds NaN or Inf"):
        SignFlip().apply(delta, AttackContext())
