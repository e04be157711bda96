"""Bulyan: Krum-based selection, then the closest-to-median coordinate stage."""

from __future__ import annotations

import pytest
import torch
from rule_inputs import honest_updates

from aggregator.rules import AggregationMismatch, Bulyan, build_rule
from aggregator.rules.base import AggregationInputError, RuleConfigError
from aggregator.rules.bulyan import bulyan, bulyan_sizes
from aggregator.rules.exact import GridView, closest_to_median_mean


def attacked(n: int, f: int, d: int, seed: int) -> torch.Tensor:
    """Honest updates with the last ``f`` replaced by distinct far-away vectors.

    (Identical attackers would be each other's nearest neighbour and can win the last
    iterated Krum rounds, where each score sums a single distance: the algorithm's
    behaviour, left to the coordinate stage.)
    """
    updates = honest_updates(n, d, seed)
    gen = torch.Generator().manual_seed(seed + 1)
    updates[-f:] = 40.0 * torch.sign(torch.randn((f, d), generator=gen))
    return updates


@pytest.mark.parametrize("selection", ["krum", "multikrum"])
def test_attackers_are_never_selected_and_the_stage_two_is_exact(
    selection: str, backend: str
) -> None:
    # Prepare
    updates = attacked(11, 2, 300, seed=10)
    rule = Bulyan(num_malicious=2, selection=selection)

    # Execute
    result = rule.aggregate(updates, [1] * 11)
    chosen = sorted(result.decision["selected"])
    expected = closest_to_median_mean(GridView(updates, rule.grid), chosen, 3)

    # Assert
    assert result.decision["theta"] == 7 and result.decision["beta"] == 3
    assert len(chosen) == 7 and not set(chosen) & {9, 10}
    assert torch.equal(result.aggregate, expected)
    assert result.reasons[9] == f"not selected by Bulyan's {selection} stage"
    assert torch.equal(bulyan(updates, 2, rule.grid, selection), result.aggregate)
    rule.verify(result, updates, [1] * 11)


def test_verify_refuses_an_attacker_in_the_selection_order() -> None:
    # Prepare
    updates = attacked(11, 2, 100, seed=11)
    rule = Bulyan(num_malicious=2)
    decision = dict(rule.aggregate(updates, [1] * 11).decision)
    decision["selected"] = [10] + decision["selected"][1:]

    # Execute
    with pytest.raises(AggregationMismatch) as err:
        rule.verify(decision, updates, [1] * 11)

    # Assert
    assert str(err.value).startswith("selected update ")
    assert "beaten by unselected update" in str(err.value)


def test_too_few_updates_and_bad_params_are_refused() -> None:
    # Execute
    with pytest.raises(AggregationInputError) as few:
        Bulyan(num_malicious=2).aggregate(torch.ones((10, 3)), [1] * 10)
    with pytest.raises(RuleConfigError) as selection:
        build_rule("bulyan", {"selection": "median"})

    # Assert
    assert str(few.value) == "bulyan needs at least 4f+3 = 11 updates for f=2, got 10"
    assert str(selection.value) == (
        "bulyan: parameter 'selection' must be one of ('krum', 'multikrum'), got 'median'"
    )
    assert bulyan_sizes(7, 1) == (5, 3)
