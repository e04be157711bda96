"""Client-side DP: the published delta is clipped to C, plus local noise when asked."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import torch

from ledger.formats.norm import exact_squared_norm
from ledger.privacy.clipping import within_clip_bound
from ledger.privacy.params import DpParams
from node.privacy.client_dp import privatize_update
from tests.ledger.submission_kit import LAYOUT, honest_delta

PARAMS = DpParams(clip_side="client", noise_side="server", clipping="fixed",
                  clipping_norm=Decimal("0.1"), noise_multiplier=Decimal("1.1"),
                  delta=Decimal("0.00001"))


def test_client_clipping_brings_the_delta_within_the_bound() -> None:
    # Prepare
    delta = honest_delta(0)
    # Execute
    result = privatize_update(delta, LAYOUT, PARAMS, Decimal("0.1"))
    # Assert
    vector = LAYOUT.flatten(result.delta)
    assert result.clipped and result.noise_std == 0.0
    assert within_clip_bound(exact_squared_norm(vector), Decimal("0.1"))
    assert list(result.delta) == [name for name, _ in LAYOUT.entries]


def test_server_side_mechanism_leaves_the_delta_unchanged() -> None:
    # Prepare
    delta = honest_delta(0)
    # Execute
    result = privatize_update(delta, LAYOUT, replace(PARAMS, clip_side="server"), Decimal("0.1"))
    # Assert
    assert not result.clipped
    assert all(torch.equal(result.delta[k], delta[k]) for k in delta)


def test_local_noise_has_the_calibrated_standard_deviation() -> None:
    # Prepare
    params = replace(PARAMS, noise_side="client")
    zero = {name: torch.zeros(shape) for name, shape in LAYOUT.entries}
    generator = torch.Generator().manual_seed(0)
    # Execute
    draws = torch.stack([LAYOUT.flatten(privatize_update(zero, LAYOUT, params, Decimal("0.1"),
                                                         generator).delta)
                         for _ in range(400)])
    # Assert: z * C = 0.11; 3600 draws estimate it to about 1.2 %
    assert abs(float(draws.std()) - 0.11) < 0.006
    assert privatize_update(zero, LAYOUT, params, Decimal("0.1")).noise_std == 1.1 * 0.1


def test_default_local_noise_differs_between_calls() -> None:
    # Prepare
    params = replace(PARAMS, noise_side="client")
    delta = honest_delta(1)
    # Execute
    first = privatize_update(delta, LAYOUT, params, Decimal("0.1"))
    second = privatize_update(delta, LAYOUT, params, Decimal("0.1"))
    # Assert
    assert not torch.equal(LAYOUT.flatten(first.delta), LAYOUT.flatten(second.delta))
