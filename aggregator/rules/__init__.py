"""Robust aggregation rules: one module per rule, a pure function and a thin class each.

``RULES`` maps a task spec's rule name to its class; :func:`build_rule` constructs one
from JSON-scalar parameters. Every rule aggregates on the fixed-point grid of
:mod:`aggregator.fixedpoint`, so its aggregate is reproducible bit for bit.
"""

from __future__ import annotations

from collections.abc import Mapping

from aggregator.fixedpoint import FixedPointGrid
from aggregator.rules.base import (
    AggregationInputError,
    AggregationMismatch,
    AggregationResult,
    AggregationRule,
    Decision,
    JSONScalar,
    RuleConfigError,
)
from aggregator.rules.bulyan import Bulyan
from aggregator.rules.fedavg import FedAvg
from aggregator.rules.fedmedian import FedMedian
from aggregator.rules.fltrust import FLTrust
from aggregator.rules.geometric_median import GeometricMedian
from aggregator.rules.krum import Krum
from aggregator.rules.multikrum import MultiKrum
from aggregator.rules.norm_clipping import NormClipping
from aggregator.rules.trimmed_mean import TrimmedMean

RULES: dict[str, type[AggregationRule]] = {
    cls.name: cls
    for cls in (
        FedAvg,
        FedMedian,
        TrimmedMean,
        Krum,
        MultiKrum,
        Bulyan,
        GeometricMedian,
        FLTrust,
        NormClipping,
    )
}


def build_rule(
    name: str,
    params: Mapping[str, JSONScalar] | None = None,
    grid: FixedPointGrid | None = None,
) -> AggregationRule:
    """Construct the rule ``name`` from JSON-scalar ``params`` on ``grid``."""
    if name not in RULES:
        raise RuleConfigError(f"unknown aggregation rule {name!r}; known: {sorted(RULES)}")
    try:
        return RULES[name].from_params(dict(params or {}), grid)
    except TypeError as err:  # a required argument missing or a wrong keyword
        raise RuleConfigError(f"rule {name!r}: {err}") from None


__all__ = [
    "RULES",
    "AggregationInputError",
    "AggregationMismatch",
    "AggregationResult",
    "AggregationRule",
    "Bulyan",
    "Decision",
    "FLTrust",
    "FedAvg",
    "FedMedian",
    "FixedPointGrid",
    "GeometricMedian",
    "JSONScalar",
    "Krum",
    "MultiKrum",
    "NormClipping",
    "RuleConfigError",
    "TrimmedMean",
    "build_rule",
]
