"""Norm clipping in front of any rule."""

from __future__ import annotations

import pytest
import torch
from rule_inputs import honest_updates

from aggregator.rules import AggregationMismatch, NormClipping, build_rule
from aggregator.rules.base import RuleConfigError
from aggregator.rules.norm_clipping import clip_bits, clip_numerators


def test_clipped_fedavg_bounds_every_contribution(backend: str) -> None:
    # Prepare
    updates = torch.tensor([[3.0, 4.0], [0.3, 0.4], [0.0, 0.0]], dtype=torch.float32)
    rule = build_rule("norm_clipping", {"max_norm": 1.0, "inner": "fedavg"})

    # Execute
    result = rule.aggregate(updates, [1, 1, 1])

    # Assert: [0.6, 0.8] + [0.3, 0.4] + 0, over 3
    assert torch.allclose(result.aggregate, torch.tensor([0.3, 0.4]), atol=1e-6)
    assert result.decision["clipped"] == [0]
    assert result.decision["clip_numerators"][1:] == [2**24, 2**24]
    assert result.decision["inner.rule"] == "fedavg"
    rule.verify(result, updates, [1, 1, 1])


def test_inner_params_and_reference_pass_through() -> None:
    # Prepare
    updates = honest_updates(6, 40, seed=17)
    reference = updates.mean(0)

    # Execute
    trimmed = build_rule(
        "norm_clipping", {"max_norm": 0.5, "inner": "trimmed_mean", "inner.beta": 0.2}
    )
    trusted = NormClipping(max_norm=0.5, inner="fltrust")
    result = trusted.aggregate(updates, [1] * 6, reference=reference)

    # Assert
    assert trimmed.params == {"max_norm": 0.5, "inner": "trimmed_mean", "inner.beta": 0.2}
    assert trusted.needs_reference()
    assert float(result.aggregate.norm()) <= float(reference.norm()) * (1 + 1e-6)
    trusted.verify(result, updates, [1] * 6, reference=reference)


def test_clipped_krum_sees_clipped_geometry() -> None:
    # Prepare: one huge update; after clipping to 0.1 every update has norm <= 0.1
    updates = honest_updates(7, 60, seed=18)
    updates[0] *= 1000
    rule = build_rule("norm_clipping", {"max_norm": 0.1, "inner": "krum", "inner.num_malicious": 1})

    # Execute
    result = rule.aggregate(updates, [1] * 7)

    # Assert
    assert float(result.aggregate.norm()) <= 0.1 + 1e-6
    assert max(result.decision["inner.scores"]) < 4 * 0.1**2 * 4
    rule.verify(result, updates, [1] * 7)


def test_verify_refuses_a_forged_clip_factor() -> None:
    # Prepare
    updates = honest_updates(4, 30, seed=19) * 10
    rule = NormClipping(max_norm=1.0)
    decision = dict(rule.aggregate(updates, [1] * 4).decision)
    decision["clip_numerators"] = [decision["clip_numerators"][0] * 2] + decision[
        "clip_numerators"
    ][1:]

    # Execute
    with pytest.raises(AggregationMismatch) as err:
        rule.verify(decision, updates, [1] * 4)

    # Assert
    assert str(err.value).startswith("published clip factor of update 0 is ")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"max_norm": 0.0}, "norm_clipping: parameter 'max_norm' must be > 0.0, got 0.0"),
        (
            {"clip": 1.0},
            "unknown parameter(s) ['clip'] for rule 'norm_clipping'; expected max_norm, inner and inner.<param>",
        ),
        ({"inner": "norm_clipping"}, "norm_clipping: the inner rule cannot be norm_clipping"),
        (
            {"inner": "nope"},
            "unknown aggregation rule 'nope'; known: ['bulyan', 'fedavg', 'fedmedian', 'fltrust', 'geometric_median', 'krum', 'multikrum', 'norm_clipping', 'trimmed_mean']",
        ),
        (
            {"inner": "krum", "inner.f": 1},
            "unknown parameter 'f' for rule 'krum'; expected one of ['num_malicious']",
        ),
    ],
)
def test_bad_params_are_refused(params: dict[str, object], message: str) -> None:
    # Execute
    with pytest.raises(RuleConfigError) as err:
        build_rule("norm_clipping", params)  # type: ignore[arg-type]

    # Assert
    assert str(err.value) == message


def test_numerators_round_down_and_keep_small_updates() -> None:
    # Execute
    numerators = clip_numerators(torch.tensor([3.0, 0.5, 0.0], dtype=torch.float64), 1.0, 4)

    # Assert: 16/3 = 5.33 -> 5
    assert numerators == [5, 16, 16]
    assert clip_bits(NormClipping().grid) == 24
