"""The name -> class registry and the shared rule interface."""

from __future__ import annotations

import pytest
import torch

from aggregator import rules
from aggregator.fixedpoint import FixedPointGrid
from aggregator.rules import RULES, AggregationMismatch, AggregationResult, build_rule
from aggregator.rules.base import RuleConfigError

PARAMS = {
    "fedavg": {"weighted": False},
    "fedmedian": {},
    "trimmed_mean": {"beta": 0.25},
    "krum": {"num_malicious": 1},
    "multikrum": {"num_malicious": 1, "num_selected": 3, "weighted": True},
    "bulyan": {"num_malicious": 1, "selection": "multikrum"},
    "geometric_median": {"smoothing": 1e-5, "max_iter": 50, "tol": 1e-8},
    "fltrust": {},
    "norm_clipping": {"max_norm": 2.0, "inner": "fedmedian"},
}


def test_registry_names_every_rule_and_exports_it() -> None:
    # Assert
    assert sorted(RULES) == sorted(PARAMS)
    assert all(cls.__name__ in rules.__all__ for cls in RULES.values())
    assert all(RULES[name].name == name for name in RULES)


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_params_round_trip_through_json_scalars(name: str) -> None:
    # Prepare
    grid = FixedPointGrid(frac_bits=20, max_abs=64.0)

    # Execute
    rule = build_rule(name, PARAMS[name], grid)
    again = build_rule(name, rule.params, grid)

    # Assert
    assert rule.params == again.params
    assert {k: rule.params[k] for k in PARAMS[name]} == PARAMS[name]
    assert rule.grid == grid
    assert repr(rule).startswith(type(rule).__name__ + "(")


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        (
            "median",
            {},
            "unknown aggregation rule 'median'; known: ['bulyan', 'fedavg', 'fedmedian', 'fltrust', 'geometric_median', 'krum', 'multikrum', 'norm_clipping', 'trimmed_mean']",
        ),
        ("krum", {"num_malicious": 1.0}, "krum: parameter 'num_malicious' must be an int, got 1.0"),
        ("krum", {"num_malicious": -1}, "krum: parameter 'num_malicious' must be >= 0, got -1"),
        (
            "fedmedian",
            {"beta": 0.1},
            "unknown parameter 'beta' for rule 'fedmedian'; expected one of []",
        ),
        (
            "trimmed_mean",
            {"beta": [0.1]},
            "parameter 'beta' of rule 'trimmed_mean' must be a JSON scalar, got list",
        ),
    ],
)
def test_bad_names_and_params_are_refused(
    name: str, params: dict[str, object], message: str
) -> None:
    # Execute
    with pytest.raises(RuleConfigError) as err:
        build_rule(name, params)  # type: ignore[arg-type]

    # Assert
    assert str(err.value) == message


def test_result_bytes_are_little_endian_float32() -> None:
    # Prepare
    result = AggregationResult("fedavg", torch.tensor([1.0, -2.0]), (True,), (None,), {})

    # Execute
    raw = result.aggregate_bytes()

    # Assert
    assert raw == bytes.fromhex("0000803f000000c0")


def test_verify_refuses_results_of_another_rule_and_foreign_objects() -> None:
    # Prepare
    updates = torch.ones((3, 2))
    result = build_rule("fedmedian").aggregate(updates, [1, 1, 1])
    rule = build_rule("fedavg")

    # Execute
    with pytest.raises(AggregationMismatch) as other_rule:
        rule.verify(result, updates, [1, 1, 1])
    with pytest.raises(AggregationMismatch) as foreign:
        rule.verify([1, 2], updates, [1, 1, 1])  # type: ignore[arg-type]

    # Assert
    assert str(other_rule.value) == "result is from rule 'fedmedian', verifier runs 'fedavg'"
    assert str(foreign.value) == "expected an AggregationResult or a decision mapping, got list"


def test_non_contiguous_updates_are_accepted() -> None:
    # Prepare
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)

    # Execute
    result = build_rule("fedmedian").aggregate(base.T, [1, 1, 1, 1])

    # Assert
    assert result.aggregate.tolist() == [1.5, 5.5, 9.5]
