"""Norm clipping in front of any rule (Sun et al., 2019, "Can You Really Backdoor
Federated Learning?").

Each update is scaled by ``min(1, max_norm / |x_i|)`` before the inner rule sees it.
The factors come from float norms, so they are part of the published decision, as
integers in units of ``2**-clip_bits`` rounded down (a clipped norm never exceeds
``max_norm`` by more than the grid's rounding); the scaled grid values are then exact
(``round_half_even(q * numerator / 2**clip_bits)``) and the inner rule runs on them,
its own decision nested under ``inner.`` keys.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch

from aggregator.fixedpoint import FixedPointGrid
from aggregator.rules.base import (
    AggregationMismatch,
    AggregationRule,
    Batch,
    Decision,
    JSONScalar,
    Outcome,
    RuleConfigError,
    float_param,
    int_list,
)
from aggregator.rules.exact import RowScaling
from aggregator.rules.geometry import row_norms

#: Units of slack allowed between published and recomputed clip numerators.
NUMERATOR_TOL = 4
_MAX_CLIP_BITS = 24
_PREFIX = "inner."


def clip_bits(grid: FixedPointGrid) -> int:
    """Precision of clip factors: ``q * numerator`` must stay below 2**63."""
    return max(1, min(_MAX_CLIP_BITS, 62 - grid.q_max.bit_length()))


def clip_numerators(norms: torch.Tensor, max_norm: float, bits: int) -> list[int]:
    """``floor(min(1, max_norm / norm) * 2**bits)`` per row (zero norms keep factor 1)."""
    scale = 2**bits
    out = []
    for norm in norms.tolist():
        out.append(scale if norm <= max_norm else math.floor(max_norm / norm * scale))
    return out


class NormClipping(AggregationRule):
    """Clip every update to ``max_norm``, then aggregate with ``inner``."""

    name = "norm_clipping"

    def __init__(
        self,
        grid: FixedPointGrid | None = None,
        max_norm: float = 1.0,
        inner: AggregationRule | str = "fedavg",
    ) -> None:
        super().__init__(grid)
        self.max_norm = float_param(self.name, "max_norm", max_norm, low=0.0, low_open=True)
        if isinstance(inner, str):
            from aggregator.rules import build_rule

            inner = build_rule(inner, {}, self.grid)
        if not isinstance(inner, AggregationRule):
            raise RuleConfigError("norm_clipping: 'inner' must be a rule or a rule name")
        if isinstance(inner, NormClipping):
            raise RuleConfigError("norm_clipping: the inner rule cannot be norm_clipping")
        if inner.grid != self.grid:
            raise RuleConfigError("norm_clipping: the inner rule must use the same grid")
        self.inner = inner

    @classmethod
    def from_params(
        cls, params: Mapping[str, JSONScalar], grid: FixedPointGrid | None = None
    ) -> AggregationRule:
        """``{"max_norm": 5.0, "inner": "trimmed_mean", "inner.beta": 0.2}``."""
        from aggregator.rules import build_rule

        inner_params = {k[len(_PREFIX) :]: v for k, v in params.items() if k.startswith(_PREFIX)}
        own = {k: v for k, v in params.items() if not k.startswith(_PREFIX)}
        unknown = set(own) - {"max_norm", "inner"}
        if unknown:
            raise RuleConfigError(
                f"unknown parameter(s) {sorted(unknown)} for rule 'norm_clipping'; expected "
                "max_norm, inner and inner.<param>"
            )
        inner_name = own.get("inner", "fedavg")
        if not isinstance(inner_name, str):
            raise RuleConfigError("norm_clipping: parameter 'inner' must be a rule name")
        inner = build_rule(inner_name, inner_params, grid)
        return cls(grid=grid, max_norm=own.get("max_norm", 1.0), inner=inner)  # type: ignore[arg-type]

    @property
    def params(self) -> dict[str, JSONScalar]:
        out: dict[str, JSONScalar] = {"max_norm": self.max_norm, "inner": self.inner.name}
        out.update({_PREFIX + k: v for k, v in self.inner.params.items()})
        return out

    def needs_reference(self) -> bool:
        return self.inner.needs_reference()

    def _scaling(self, batch: Batch) -> RowScaling:
        bits = clip_bits(self.grid)
        return RowScaling(
            tuple(clip_numerators(row_norms(batch.updates), self.max_norm, bits)), bits
        )

    def _published_scaling(self, decision: Mapping[str, Any], batch: Batch) -> RowScaling:
        bits = decision.get("clip_bits")
        if bits != clip_bits(self.grid):
            raise AggregationMismatch(
                f"decision field 'clip_bits' is {bits!r}, expected {clip_bits(self.grid)}"
            )
        numerators = int_list(decision, "clip_numerators", batch.n)
        if any(v > 2**bits for v in numerators):
            raise AggregationMismatch("a clip numerator exceeds 2**clip_bits (factor > 1)")
        return RowScaling(tuple(numerators), bits)

    @staticmethod
    def _inner_part(decision: Mapping[str, Any]) -> dict[str, Any]:
        return {k[len(_PREFIX) :]: v for k, v in decision.items() if k.startswith(_PREFIX)}

    def decide(self, batch: Batch) -> Decision:
        scaling = self._scaling(batch)
        inner = self.inner.decide(batch.with_scaling(scaling))
        decision: Decision = {
            "rule": self.name,
            "max_norm": self.max_norm,
            "clip_bits": scaling.bits,
            "clip_numerators": list(scaling.numerators),
            "clipped": [i for i, v in enumerate(scaling.numerators) if v < 2**scaling.bits],
        }
        decision.update({_PREFIX + k: v for k, v in inner.items()})
        return decision

    def check_decision(
        self, published: Mapping[str, Any], recomputed: Decision, batch: Batch
    ) -> None:
        scaling = self._published_scaling(published, batch)
        ours = self._scaling(batch)
        for i, (pub, rec) in enumerate(zip(scaling.numerators, ours.numerators, strict=True)):
            if abs(pub - rec) > NUMERATOR_TOL:
                raise AggregationMismatch(
                    f"published clip factor of update {i} is {pub}/2**{scaling.bits}, "
                    f"recomputed {rec}/2**{scaling.bits}"
                )
        clipped = [i for i, v in enumerate(scaling.numerators) if v < 2**scaling.bits]
        if published.get("clipped") != clipped or published.get("max_norm") != self.max_norm:
            raise AggregationMismatch("decision fields 'clipped'/'max_norm' are inconsistent")
        scaled = batch.with_scaling(scaling)
        self.inner.check_decision(self._inner_part(published), self.inner.decide(scaled), scaled)

    def apply(self, decision: Mapping[str, Any], batch: Batch) -> Outcome:
        scaled = batch.with_scaling(self._published_scaling(decision, batch))
        return self.inner.apply(self._inner_part(decision), scaled)
