"""Property tests of the audited aggregation result, with inputs Hypothesis makes up.

* Permutation invariance: the aggregate's bytes (what is hashed into the model) do not depend
  on the order of the participants, for any updates and sample counts.
* Breakdown: for the rules with a breakdown point, ``f`` *arbitrary* rows (Hypothesis-generated
  float32 values anywhere on the grid, up to its ``max_abs`` of 1024, duplicates, zeros, signs
  mixed) move the aggregate no further than a bound set by the honest rows alone. The bounds
  are those of `test_breakdown.py` (which uses four structured attacks); here the attacker is
  whatever Hypothesis finds.

Values beyond the grid never reach a rule: the task's norm bound refuses them at ingestion
(tests/ledger/test_bad_input_updates.py), and the grid covers that bound.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from aggregator.rules import build_rule

D = 6
GRID_MAX = 1024.0
UNIT = 2.0**-20  # above the default grid's step: a coordinate may round by one step

anywhere = st.floats(-GRID_MAX, GRID_MAX, width=32, allow_nan=False, allow_infinity=False)
moderate = st.floats(-100, 100, width=32, allow_nan=False, allow_infinity=False)


def attackers(f: int) -> st.SearchStrategy[np.ndarray]:
    return arrays(np.float32, (f, D), elements=anywhere)


def honest_rows(seed: int, count: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    centre = torch.randn(D, generator=gen)
    return (centre + 0.3 * torch.randn((count, D), generator=gen)).to(torch.float32)


def stack(bad: np.ndarray, honest: torch.Tensor) -> torch.Tensor:
    return torch.cat([torch.from_numpy(bad.copy()), honest]).contiguous()


PERMUTATION_RULES = [
    ("fedavg", {}, 7),
    ("fedmedian", {}, 7),
    ("trimmed_mean", {"beta": 0.2}, 7),
    ("krum", {"num_malicious": 2}, 7),
    ("multikrum", {"num_malicious": 2, "num_selected": 3}, 7),
    ("bulyan", {"num_malicious": 1}, 7),
]


@pytest.mark.parametrize(("name", "params", "n"), PERMUTATION_RULES,
                         ids=[r[0] for r in PERMUTATION_RULES])
@settings(max_examples=4, deadline=None)
@given(data=st.data())
def test_aggregate_bytes_do_not_depend_on_participant_order(
    name: str, params: dict[str, object], n: int, data: st.DataObject
) -> None:
    # Prepare
    updates = torch.from_numpy(data.draw(arrays(np.float32, (n, D), elements=moderate)))
    samples = data.draw(st.lists(st.integers(1, 1000), min_size=n, max_size=n))
    order = data.draw(st.permutations(range(n)))
    rule = build_rule(name, params)  # type: ignore[arg-type]

    # Execute
    straight = rule.aggregate(updates.contiguous(), samples)
    permuted = rule.aggregate(updates[list(order)].contiguous(), [samples[i] for i in order])

    # Assert
    assert permuted.aggregate_bytes() == straight.aggregate_bytes()


@settings(max_examples=4, deadline=None)
@given(data=st.data())
def test_geometric_median_moves_by_float_noise_only_with_participant_order(
    data: st.DataObject,
) -> None:
    # Weiszfeld's float iterations are order-sensitive: Hypothesis found inputs (samples
    # [818, 1, 98, 275, 1000, 1, 600], last two rows swapped) whose aggregate bytes differ
    # by one unit in the last place. The audit is unaffected (participants are ordered by
    # address and the auditor re-applies the published decision), so the property asserted
    # here is the bound on that difference, not byte equality.
    n = 7
    updates = torch.from_numpy(data.draw(arrays(np.float32, (n, D), elements=moderate)))
    samples = data.draw(st.lists(st.integers(1, 1000), min_size=n, max_size=n))
    order = data.draw(st.permutations(range(n)))
    rule = build_rule("geometric_median", {})

    straight = rule.aggregate(updates.contiguous(), samples).aggregate
    permuted = rule.aggregate(updates[list(order)].contiguous(),
                              [samples[i] for i in order]).aggregate

    assert float((permuted - straight).abs().max()) <= 1e-4 * max(1.0, float(straight.abs().max()))


@pytest.mark.parametrize(
    ("name", "params", "n", "f"),
    [
        ("fedmedian", {}, 7, 3),
        ("trimmed_mean", {"beta": 0.3}, 10, 3),
        ("bulyan", {"num_malicious": 2}, 11, 2),
    ],
)
@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_coordinatewise_rules_stay_in_the_honest_range_whatever_f_rows_hold(
    name: str, params: dict[str, object], n: int, f: int, data: st.DataObject
) -> None:
    # Prepare
    honest = honest_rows(data.draw(st.integers(0, 2**16)), n - f)
    updates = stack(data.draw(attackers(f)), honest)

    # Execute
    result = build_rule(name, params).aggregate(updates, [1] * n)  # type: ignore[arg-type]

    # Assert
    assert bool((result.aggregate >= honest.min(0).values - UNIT).all())
    assert bool((result.aggregate <= honest.max(0).values + UNIT).all())


@pytest.mark.parametrize(("name", "extra"), [("krum", {}), ("multikrum", {"num_selected": 3})])
@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_krum_family_stays_near_the_honest_rows_whatever_f_rows_hold(
    name: str, extra: dict[str, int], data: st.DataObject
) -> None:
    # Prepare
    n, f = 9, 3
    honest = honest_rows(data.draw(st.integers(0, 2**16)), n - f)
    updates = stack(data.draw(attackers(f)), honest)
    mean = honest.mean(0)
    radius = float((honest - mean).norm(dim=1).max())

    # Execute
    result = build_rule(name, {"num_malicious": f, **extra}).aggregate(updates, [1] * n)

    # Assert: a selected row is within 2R sqrt(n-f-2) of an honest one (see test_breakdown.py)
    bound = (1 + 2 * math.sqrt(n - f - 2)) * radius
    assert float((result.aggregate - mean).norm()) <= bound * (1 + 1e-5) + 1e-5


@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_geometric_median_stays_near_the_honest_mean_whatever_f_rows_hold(
    data: st.DataObject,
) -> None:
    # Prepare
    n, f = 7, 3
    honest = honest_rows(data.draw(st.integers(0, 2**16)), n - f)
    updates = stack(data.draw(attackers(f)), honest)
    mean = honest.mean(0)
    radius = float((honest - mean).norm(dim=1).max())

    # Execute
    result = build_rule("geometric_median", {"max_iter": 1000, "tol": 1e-10}).aggregate(
        updates, [1] * n)

    # Assert: (2(n-f)/(n-2f)) R, with Weiszfeld's approximation slack as in test_breakdown.py
    bound = 2 * (n - f) / (n - 2 * f) * radius
    assert float((result.aggregate - mean).norm()) <= 1.1 * bound + 1e-5
