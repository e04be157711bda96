"""Same inputs, same answer as Flower 1.41 (legacy ``flwr.server.strategy.aggregate``
functions and the newer ``flwr.serverapp.strategy`` strategies).

Tolerance: our inputs are rounded to the grid (half a unit, 2**-27 here) and so is the
integer result (another half unit), and the float32 image adds half an ulp; Flower adds
float32 rounding in its own sums. So we accept
``|ours - flower| <= 2**-26 + 8 * n * 2**-24 * max|x|``. Krum selections must match
exactly.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
from rule_inputs import honest_updates

from aggregator.fixedpoint import FixedPointGrid
from aggregator.rules import build_rule

legacy = pytest.importorskip(
    "flwr.server.strategy.aggregate", reason="flwr is not installed (pip install flwr==1.41.0)"
)
strategies = pytest.importorskip("flwr.serverapp.strategy")

GRID = FixedPointGrid(frac_bits=26, max_abs=1024.0)
N, D = 13, 2003
SAMPLES = [7, 3, 12, 5, 9, 1, 4, 8, 6, 10, 2, 11, 13]


def data(seed: int) -> np.ndarray:
    updates = honest_updates(N, D, seed) * 30
    updates[0] = 200.0 * torch.sign(updates[0])  # one Byzantine-looking update
    return updates.numpy()


def close(ours: torch.Tensor, theirs: np.ndarray, x: np.ndarray) -> None:
    atol = 2.0**-26 + 8 * x.shape[0] * 2.0**-24 * float(np.abs(x).max())
    diff = np.abs(ours.numpy().astype(np.float64) - np.asarray(theirs, dtype=np.float64))
    assert float(diff.max()) <= atol, f"max difference {diff.max():.3g} > {atol:.3g}"


def results(x: np.ndarray) -> list[tuple[list[np.ndarray], int]]:
    return [([x[i].copy()], SAMPLES[i]) for i in range(x.shape[0])]


def ours(name: str, params: dict[str, object], x: np.ndarray) -> torch.Tensor:
    rule = build_rule(name, params, GRID)  # type: ignore[arg-type]
    return rule.aggregate(torch.from_numpy(x), SAMPLES).aggregate


def test_fedavg(flower_new: Callable[..., np.ndarray], backend: str) -> None:
    x = data(30)
    mine = ours("fedavg", {}, x)
    close(mine, legacy.aggregate(results(x))[0], x)
    close(mine, flower_new(strategies.FedAvg(), x, SAMPLES), x)


def test_fedmedian(flower_new: Callable[..., np.ndarray], backend: str) -> None:
    x = data(31)
    mine = ours("fedmedian", {}, x)
    close(mine, legacy.aggregate_median(results(x))[0], x)
    close(mine, flower_new(strategies.FedMedian(), x, SAMPLES), x)


@pytest.mark.parametrize("beta", [0.0, 0.1, 0.2, 0.45])
def test_trimmed_mean(beta: float, flower_new: Callable[..., np.ndarray], backend: str) -> None:
    x = data(32)
    mine = ours("trimmed_mean", {"beta": beta}, x)
    close(mine, legacy.aggregate_trimmed_avg(results(x), beta)[0], x)
    close(mine, flower_new(strategies.FedTrimmedAvg(beta=beta), x, SAMPLES), x)


@pytest.mark.parametrize("f", [0, 2, 4])
def test_krum_selects_what_flower_selects(f: int, flower_new: Callable[..., np.ndarray]) -> None:
    # Prepare
    x = data(33 + f)

    # Execute
    result = build_rule("krum", {"num_malicious": f}, GRID).aggregate(torch.from_numpy(x), SAMPLES)
    legacy_pick = legacy.aggregate_krum(results(x), f, 0)[0]
    new_pick = flower_new(strategies.Krum(num_malicious_nodes=f), x, SAMPLES)

    # Assert
    (index,) = result.decision["selected"]
    assert np.array_equal(legacy_pick, x[index])
    assert np.array_equal(new_pick, x[index])
    close(result.aggregate, x[index], x)


@pytest.mark.parametrize(("f", "m"), [(1, 3), (3, 5), (2, 10)])
def test_multikrum(f: int, m: int, flower_new: Callable[..., np.ndarray]) -> None:
    # Prepare
    x = data(40 + m)
    params = {"num_malicious": f, "num_selected": m}

    # Execute
    result = build_rule("multikrum", params, GRID).aggregate(torch.from_numpy(x), SAMPLES)
    legacy_out = legacy.aggregate_krum(results(x), f, m)[0]
    new_out = flower_new(
        strategies.MultiKrum(num_malicious_nodes=f, num_nodes_to_select=m), x, SAMPLES
    )

    # Assert
    close(result.aggregate, legacy_out, x)
    close(result.aggregate, new_out, x)
    assert 0 not in result.decision["selected"]


@pytest.mark.parametrize("f", [1, 2])
def test_bulyan_iterated_krum_matches_legacy(f: int, backend: str) -> None:
    # Prepare: late Krum rounds sum one distance, so mutual nearest neighbours tie
    # exactly; Flower takes the lower index, we take the smaller norm (a choice that
    # survives reordering). On rows sorted by norm the two rules coincide, and ours
    # does not depend on the order.
    x = data(50 + f)
    by_norm = np.argsort(np.square(x.astype(np.float64)).sum(axis=1), kind="stable")
    sorted_x = np.ascontiguousarray(x[by_norm])
    sorted_results = [([sorted_x[i].copy()], SAMPLES[j]) for i, j in enumerate(by_norm)]

    # Execute
    mine = ours("bulyan", {"num_malicious": f, "selection": "krum"}, x)
    theirs = legacy.aggregate_bulyan(sorted_results, f, legacy.aggregate_krum, to_keep=0)[0]

    # Assert
    close(mine, theirs, x)


@pytest.mark.parametrize("f", [1, 2])
def test_bulyan_multikrum_selection_matches_the_newer_strategy(
    f: int, flower_new: Callable[..., np.ndarray]
) -> None:
    # Prepare: (Flower's newer Bulyan spends seconds per thousand coordinates here)
    x = np.ascontiguousarray(data(60 + f)[:, :301])

    # Execute
    mine = ours("bulyan", {"num_malicious": f, "selection": "multikrum"}, x)
    theirs = flower_new(strategies.Bulyan(num_malicious_nodes=f), x, SAMPLES)

    # Assert
    close(mine, theirs, x)
