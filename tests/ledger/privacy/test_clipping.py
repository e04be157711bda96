"""Clipping: exact bound decisions, clip_vector always lands inside, the adaptive norm."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import torch

from ledger.formats.norm import exact_squared_norm
from ledger.privacy.clipping import (
    clip_vector,
    is_unclipped,
    next_clipping_norm,
    noised_fraction,
    within_clip_bound,
)
from ledger.privacy.params import DpParams

ADAPTIVE = DpParams(clip_side="server", noise_side="server", clipping="adaptive",
                    clipping_norm=Decimal(1), noise_multiplier=Decimal(1), delta=Decimal("1e-5"),
                    target_quantile=Decimal("0.5"), clip_learning_rate=Decimal("0.2"),
                    clipped_count_stddev=Decimal(5))


def test_bound_is_decided_exactly_at_the_edge() -> None:
    # Prepare: 3-4-5 triangle, norm exactly 5
    vector = torch.tensor([3.0, 4.0])
    squared = exact_squared_norm(vector)
    # Execute / Assert
    assert squared == Fraction(25)
    assert within_clip_bound(squared, Decimal(5))
    assert not within_clip_bound(squared, Decimal("4.999999999"))
    assert not is_unclipped(squared, Decimal(5))
    assert is_unclipped(squared, Decimal("5.00001"))


def test_clip_vector_lands_inside_the_bound_for_awkward_norms() -> None:
    # Prepare
    generator = torch.Generator().manual_seed(3)
    vectors = [torch.randn(1000, generator=generator) * scale for scale in (0.7, 3.0, 1e4)]
    # Execute
    results = [clip_vector(v, Decimal("0.123456789")) for v in vectors]
    # Assert
    for (clipped, was_clipped), original in zip(results, vectors, strict=True):
        assert was_clipped
        assert within_clip_bound(exact_squared_norm(clipped), Decimal("0.123456789"))
        cosine = torch.nn.functional.cosine_similarity(clipped, original, dim=0)
        assert float(cosine) > 0.99999
        assert float(exact_squared_norm(clipped)) ** 0.5 > 0.123456


def test_clip_vector_leaves_a_small_update_alone() -> None:
    # Prepare
    vector = torch.tensor([0.1, 0.2], dtype=torch.float32)
    # Execute
    clipped, was_clipped = clip_vector(vector, Decimal(1))
    # Assert
    assert not was_clipped and clipped is vector


def test_adaptive_norm_follows_the_geometric_update() -> None:
    # Execute: exp(-0.2 * (0.9 - 0.5)) = exp(-0.08); exp(-0.2 * (0.1 - 0.5)) = exp(0.08)
    shrunk = next_clipping_norm(ADAPTIVE, Decimal(2), Decimal("0.9"))
    grown = next_clipping_norm(ADAPTIVE, Decimal(2), Decimal("0.1"))
    # Assert
    assert shrunk == Decimal("1.846232693")
    assert grown == Decimal("2.166574135")


def test_noised_fraction_is_rounded_half_even_to_nine_places() -> None:
    # Execute / Assert
    assert noised_fraction(3, 4, 0.0) == Decimal("0.75")
    assert noised_fraction(3, 4, -0.5) == Decimal("0.625")
    assert noised_fraction(0, 3, 0.0) == Decimal(0)
    assert noised_fraction(0, 0, 1.0) == Decimal(0)
    assert noised_fraction(1, 3, 0.0) == Decimal("0.333333333")
