"""Gram matrices, distances, norms and dot products against float64 numpy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aggregator.rules import geometry


@pytest.fixture
def data() -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(22)
    return torch.randn((6, 70_001), generator=gen), torch.randn(70_001, generator=gen)


@pytest.mark.parametrize("exact_products", [False, True])
def test_gram_with_reference_and_row_factors(
    data: tuple[torch.Tensor, torch.Tensor], exact_products: bool
) -> None:
    # Prepare
    x, ref = data
    factors = torch.tensor([1.0, 0.5, 2.0, 1.0, 0.25, 1.0], dtype=torch.float64)
    stacked = np.vstack([x.double().numpy() * factors.numpy()[:, None], ref.double().numpy()])
    expected = stacked @ stacked.T

    # Execute
    gram = geometry.gram_matrix(x, ref, factors, exact_products=exact_products)

    # Assert
    rtol = 1e-12 if exact_products else 1e-5
    assert np.allclose(gram.numpy(), expected, rtol=rtol, atol=rtol * np.abs(expected).max())


def test_distances_norms_and_dots(data: tuple[torch.Tensor, torch.Tensor]) -> None:
    # Prepare
    x, ref = data
    xn = x.double().numpy()
    expected = ((xn[:, None, :] - xn[None, :, :]) ** 2).sum(-1)

    # Execute
    dist = geometry.squared_distances(geometry.gram_matrix(x, exact_products=True))
    norms = geometry.row_norms(x)
    dots = geometry.dots_with(x, ref)

    # Assert
    assert np.allclose(dist.numpy(), expected, rtol=1e-10)
    assert bool((torch.diagonal(dist) == 0).all())
    assert np.allclose(norms.numpy(), np.linalg.norm(xn, axis=1), rtol=1e-12)
    assert np.allclose(dots.numpy(), xn @ ref.double().numpy(), rtol=1e-10)


def test_distances_never_go_negative() -> None:
    # Prepare: identical rows make the Gram identity cancel to tiny negatives in float32
    x = torch.full((3, 10_000), 0.1)

    # Execute
    dist = geometry.squared_distances(geometry.gram_matrix(x))

    # Assert
    assert bool((dist >= 0).all())
