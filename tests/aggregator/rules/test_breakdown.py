"""Breakdown: with f arbitrary (huge, NaN-free) updates out of n, within each rule's
breakdown point, the aggregate stays within a stated bound of the honest updates.

``R`` is the honest radius ``max_h |x_h - mean_h|``. Bounds:
* median / trimmed mean (f <= trim) / Bulyan (n >= 4f+3): every coordinate between
  the honest minimum and maximum of that coordinate (plus one grid unit);
* Krum / Multi-Krum (n >= 2f+3): a selected attacker is within ``2R sqrt(n-f-2)`` of
  some honest update, so ``|agg - mean_h| <= (1 + 2 sqrt(n-f-2)) R``;
* geometric median (f < n/2): ``|agg - mean_h| <= (2(n-f)/(n-2f)) R`` (Weiszfeld is
  approximate: 10% slack);
* FLTrust: ``|agg| <= |g0|`` with ``g0`` the server update (here the honest mean);
* norm clipping + FedAvg: ``|agg - mean_h| <= f/n (|mean_h| + max_norm)`` when no
  honest update is clipped.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator.rules import build_rule

D = 24
ATTACKS = ["constant", "sign_flip", "noise", "mimic_far"]


def make(n: int, f: int, seed: int, attack: str, scale: float) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    honest = (torch.randn(D, generator=gen) + 0.3 * torch.randn((n - f, D), generator=gen)) * 0.1
    mean = honest.mean(0)
    if attack == "constant":
        bad = torch.full((f, D), scale)
    elif attack == "sign_flip":
        bad = (-scale * mean / mean.abs().max()).expand(f, D)
    elif attack == "noise":
        bad = scale * (2 * torch.rand((f, D), generator=gen) - 1)
    else:  # every attacker at the same far point along the honest direction
        bad = (mean + scale * mean / mean.norm()).expand(f, D)
    return torch.cat([bad.clamp(-1000, 1000), honest]).to(torch.float32).contiguous(), honest


cases = st.tuples(st.integers(0, 2**16), st.sampled_from(ATTACKS), st.floats(1.0, 1000.0))


def coordinate_bound(result: torch.Tensor, honest: torch.Tensor) -> None:
    unit = 2.0**-26
    assert bool((result >= honest.min(0).values - unit).all())
    assert bool((result <= honest.max(0).values + unit).all())


@pytest.mark.parametrize(
    ("name", "params", "n", "f"),
    [
        ("fedmedian", {}, 9, 4),
        ("trimmed_mean", {"beta": 0.3}, 10, 3),
        ("bulyan", {"num_malicious": 2}, 11, 2),
        ("bulyan", {"num_malicious": 2, "selection": "multikrum"}, 11, 2),
    ],
)
@settings(max_examples=15, deadline=None)
@given(case=cases)
def test_coordinatewise_rules_stay_in_the_honest_range(
    name: str, params: dict[str, object], n: int, f: int, case: tuple[int, str, float]
) -> None:
    # Prepare
    updates, honest = make(n, f, *case)

    # Execute
    result = build_rule(name, params).aggregate(updates, [1] * n)  # type: ignore[arg-type]

    # Assert
    coordinate_bound(result.aggregate, honest)


@pytest.mark.parametrize(("name", "m"), [("krum", 1), ("multikrum", 4)])
@settings(max_examples=15, deadline=None)
@given(case=cases)
def test_krum_family_stays_near_the_honest_updates(
    name: str, m: int, case: tuple[int, str, float]
) -> None:
    # Prepare
    n, f = 11, 4
    updates, honest = make(n, f, *case)
    params = {"num_malicious": f} | ({"num_selected": m} if name == "multikrum" else {})
    mean = honest.mean(0)
    radius = float((honest - mean).norm(dim=1).max())

    # Execute
    result = build_rule(name, params).aggregate(updates, [1] * n)

    # Assert
    bound = (1 + 2 * math.sqrt(n - f - 2)) * radius
    assert float((result.aggregate - mean).norm()) <= bound * (1 + 1e-5) + 1e-6


@settings(max_examples=15, deadline=None)
@given(case=cases)
def test_geometric_median_stays_near_the_honest_mean(case: tuple[int, str, float]) -> None:
    # Prepare
    n, f = 9, 4
    updates, honest = make(n, f, *case)
    mean = honest.mean(0)
    radius = float((honest - mean).norm(dim=1).max())

    # Execute
    result = build_rule("geometric_median", {"max_iter": 1000, "tol": 1e-10}).aggregate(
        updates, [1] * n
    )

    # Assert
    bound = 2 * (n - f) / (n - 2 * f) * radius
    assert float((result.aggregate - mean).norm()) <= 1.1 * bound + 1e-6


@settings(max_examples=15, deadline=None)
@given(case=cases, f=st.integers(1, 6))
def test_fltrust_is_bounded_by_the_server_update(case: tuple[int, str, float], f: int) -> None:
    # Prepare
    updates, honest = make(8, f, *case)
    reference = honest.mean(0)

    # Execute
    result = build_rule("fltrust").aggregate(updates, [1] * 8, reference=reference)

    # Assert
    assert float(result.aggregate.norm()) <= float(reference.norm()) * (1 + 1e-6) + 1e-6


@settings(max_examples=15, deadline=None)
@given(case=cases, f=st.integers(1, 3))
def test_clipped_fedavg_moves_at_most_f_over_n_clip_norms(
    case: tuple[int, str, float], f: int
) -> None:
    # Prepare
    n = 10
    updates, honest = make(n, f, *case)
    mean = honest.mean(0)
    max_norm = 2 * float(honest.norm(dim=1).max())

    # Execute
    result = build_rule("norm_clipping", {"max_norm": max_norm}).aggregate(updates, [1] * n)

    # Assert
    bound = f / n * (float(mean.norm()) + max_norm)
    assert float((result.aggregate - mean).norm()) <= bound * (1 + 1e-5) + 1e-6
