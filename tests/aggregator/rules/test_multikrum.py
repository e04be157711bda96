"""Krum and Multi-Krum: scores, selection, published decision and its audit."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from rule_inputs import honest_updates

from aggregator.rules import AggregationMismatch, Krum, MultiKrum, build_rule
from aggregator.rules.base import AggregationInputError, RuleConfigError
from aggregator.rules.krum import krum
from aggregator.rules.multikrum import num_closest, select_multikrum


def reference_scores(x: np.ndarray, f: int) -> list[float]:
    """Scores from explicit float64 differences (no Gram trick)."""
    n = x.shape[0]
    k = max(1, n - f - 2)
    dist = np.array([[np.sum((x[i] - x[j]) ** 2) for j in range(n)] for i in range(n)])
    return [float(np.sort(np.delete(dist[i], i))[:k].sum()) for i in range(n)]


def with_attackers(n: int, f: int, d: int, seed: int) -> torch.Tensor:
    updates = honest_updates(n, d, seed)
    updates[:f] = 50.0 * torch.sign(
        torch.randn((f, d), generator=torch.Generator().manual_seed(seed))
    )
    return updates


def test_scores_match_explicit_distances_and_outliers_are_not_selected(backend: str) -> None:
    # Prepare
    updates = with_attackers(12, 3, 500, seed=4)
    expected = reference_scores(updates.double().numpy(), 3)

    # Execute
    result = MultiKrum(num_malicious=3, num_selected=5).aggregate(updates, list(range(1, 13)))

    # Assert
    assert result.decision["num_closest"] == 7
    # float32 Gram products: within the rule's published tolerance (SCORE_RTOL = 1e-4)
    assert np.allclose(result.decision["scores"], expected, rtol=1e-4)
    selected = result.decision["selected"]
    assert selected == sorted(np.argsort(expected, kind="stable")[:5].tolist())
    assert not set(selected) & {0, 1, 2}
    assert result.accepted == tuple(i in selected for i in range(12))
    assert result.reasons[0] is not None and result.reasons[0].startswith(
        "not among the 5 lowest Krum scores (score "
    )


def test_multikrum_aggregate_is_the_sample_weighted_mean_of_the_selection(backend: str) -> None:
    # Prepare
    updates = with_attackers(9, 2, 64, seed=5)
    samples = [2, 3, 5, 7, 11, 13, 17, 19, 23]
    rule = MultiKrum(num_malicious=2, num_selected=4)

    # Execute
    result = rule.aggregate(updates, samples)
    chosen = result.decision["selected"]
    reference = build_rule("fedavg").aggregate(updates[chosen], [samples[i] for i in chosen])

    # Assert
    assert torch.equal(result.aggregate, reference.aggregate)


def test_krum_returns_the_selected_update_on_the_grid(backend: str) -> None:
    # Prepare
    updates = with_attackers(8, 2, 100, seed=6)

    # Execute
    result = Krum(num_malicious=2).aggregate(updates, [1] * 8)
    index = krum(updates, 2)

    # Assert
    assert result.decision["selected"] == [index]
    grid = Krum().grid
    assert torch.equal(result.aggregate, grid.dequantize(grid.quantize(updates[index])))
    assert Krum(num_malicious=2).params == {"num_malicious": 2}
    assert select_multikrum(updates, 2, 1) == [index]


def test_verify_accepts_a_recomputation_and_refuses_a_worse_selection() -> None:
    # Prepare
    updates = with_attackers(10, 2, 200, seed=7)
    rule = MultiKrum(num_malicious=2, num_selected=3)
    result = rule.aggregate(updates, [1] * 10)
    forged = dict(result.decision)
    forged["selected"] = sorted([0] + result.decision["selected"][1:])

    # Execute
    rule.verify(result, updates, [1] * 10)
    with pytest.raises(AggregationMismatch) as err:
        rule.verify(forged, updates, [1] * 10)

    # Assert
    assert str(err.value).startswith("selected update 0 (Krum score ")
    assert "is beaten by unselected update" in str(err.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"selected": [0, 0, 1]},
            "decision field 'selected' must hold distinct indices in [0, 10), got [0, 0, 1]",
        ),
        (
            {"selected": [1, 2, 10]},
            "decision field 'selected' must hold distinct indices in [0, 10), got [1, 2, 10]",
        ),
        ({"selected": "1,2,3"}, "decision field 'selected' must be a list of ints, got '1,2,3'"),
        ({"num_closest": 3}, "decision field 'num_closest' is 3, expected 6"),
        ({"scores": [1.0]}, "decision field 'scores' must list 10 numbers"),
        ({"rule": "krum"}, "decision names rule 'krum', verifier runs 'multikrum'"),
    ],
)
def test_verify_names_malformed_decisions(change: dict[str, object], message: str) -> None:
    # Prepare
    updates = with_attackers(10, 2, 50, seed=8)
    rule = MultiKrum(num_malicious=2, num_selected=3)
    decision = {**rule.aggregate(updates, [1] * 10).decision, **change}

    # Execute
    with pytest.raises(AggregationMismatch) as err:
        rule.verify(decision, updates, [1] * 10)

    # Assert
    assert str(err.value) == message


def test_verify_refuses_a_forged_score() -> None:
    # Prepare
    updates = with_attackers(10, 2, 50, seed=9)
    rule = MultiKrum(num_malicious=2, num_selected=3)
    decision = dict(rule.aggregate(updates, [1] * 10).decision)
    decision["scores"] = list(decision["scores"])
    decision["scores"][4] = decision["scores"][4] * 0.9

    # Execute
    with pytest.raises(AggregationMismatch) as err:
        rule.verify(decision, updates, [1] * 10)

    # Assert
    assert str(err.value).startswith("published Krum score of update 4 is ")


def test_impossible_selection_and_non_finite_rows_are_refused() -> None:
    # Prepare
    updates = torch.ones((3, 4))
    broken = torch.ones((3, 4))
    broken[1, 2] = float("inf")

    # Execute
    with pytest.raises(AggregationInputError) as too_many:
        MultiKrum(num_selected=4).aggregate(updates, [1, 1, 1])
    with pytest.raises(AggregationInputError) as inf:
        Krum().aggregate(broken, [1, 1, 1])
    with pytest.raises(RuleConfigError) as bad_param:
        build_rule("multikrum", {"num_selected": 0})

    # Assert
    assert str(too_many.value) == "multikrum: cannot select 4 of 3 updates"
    assert str(inf.value) == "update 1 has a non-finite squared norm (NaN/Inf values)"
    assert str(bad_param.value) == "multikrum: parameter 'num_selected' must be >= 1, got 0"


def test_num_closest_edges() -> None:
    # Assert
    assert num_closest(1, 0) == 0
    assert num_closest(2, 0) == 1
    assert num_closest(10, 2) == 6
    assert num_closest(5, 4) == 1
