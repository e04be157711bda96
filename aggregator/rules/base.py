"""The interface every aggregation rule implements, and what it hands back.

A rule is split in two on purpose (DESIGN.md, "Determinism"):

* :meth:`AggregationRule.decide` may use fast floating point (Gram products, cosines,
  Weiszfeld iterations). Its output, the *decision*, is published in the round report
  as JSON scalars and lists of scalars, rounded to a stated precision.
* :meth:`AggregationRule.apply` turns a decision into the aggregate with exact integer
  arithmetic on the fixed-point grid, so the model hash follows bit for bit.

:meth:`AggregationRule.verify` is the auditor's side: it recomputes the decision,
accepts the published one when it is optimal within the rule's tolerance, re-applies
the *published* decision and compares the aggregate bytes.
"""

from __future__ import annotations

import inspect
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, TypeAlias

import torch

from aggregator.fixedpoint import FixedPointGrid
from aggregator.rules.exact import GridView, RowScaling
from ledger.errors import ConfigError, FormatError, IntegrityError

JSONScalar: TypeAlias = str | int | float | bool | None
DecisionValue: TypeAlias = JSONScalar | Sequence[JSONScalar]
Decision: TypeAlias = dict[str, DecisionValue]


class RuleConfigError(ConfigError):
    """A rule name or parameter is unknown or out of range."""


class AggregationInputError(FormatError):
    """The updates, sample counts or reference handed to a rule are malformed."""


class AggregationMismatch(IntegrityError):
    """An auditor's recomputation disagrees with a published decision or aggregate."""


@dataclass(frozen=True)
class Batch:
    """One round's inputs to a rule, checked for shape and type.

    ``updates`` rows are ordered by participant address (the caller orders them);
    ``scaling`` is an exact per-row rescaling fixed by an outer decision (clipping).
    """

    updates: torch.Tensor
    num_samples: tuple[int, ...]
    reference: torch.Tensor | None = None
    scaling: RowScaling | None = None

    @property
    def n(self) -> int:
        return int(self.updates.shape[0])

    @property
    def d(self) -> int:
        return int(self.updates.shape[1])

    def view(self, grid: FixedPointGrid) -> GridView:
        return GridView(self.updates, grid, self.scaling)

    def row_factors(self) -> torch.Tensor | None:
        return None if self.scaling is None else self.scaling.factors()

    def with_scaling(self, scaling: RowScaling) -> Batch:
        return replace(self, scaling=scaling)


@dataclass(frozen=True)
class Outcome:
    """What :meth:`AggregationRule.apply` computes from a decision."""

    aggregate: torch.Tensor
    accepted: tuple[bool, ...]
    reasons: tuple[str | None, ...]


@dataclass(frozen=True)
class AggregationResult:
    """A rule's answer for one round.

    ``aggregate`` is the float32 [d] aggregate delta; ``accepted[i]``/``reasons[i]`` say
    whether update ``i`` contributed and, if not, why; ``decision`` is what the round
    report publishes so an auditor can check the float-side choices.
    """

    rule: str
    aggregate: torch.Tensor
    accepted: tuple[bool, ...]
    reasons: tuple[str | None, ...]
    decision: Mapping[str, DecisionValue] = field(default_factory=dict)

    def aggregate_bytes(self) -> bytes:
        """The aggregate's exact little-endian float32 bytes (what gets hashed)."""
        return self.aggregate.contiguous().numpy().astype("<f4", copy=False).tobytes()


class AggregationRule(ABC):
    """A Byzantine-robust aggregation rule: a pure function of the batch and its params."""

    name: ClassVar[str]
    #: Whether the rule needs a trusted reference update (FLTrust's server update).
    uses_reference: ClassVar[bool] = False

    def __init__(self, grid: FixedPointGrid | None = None) -> None:
        self.grid = grid if grid is not None else FixedPointGrid()

    # ---------------------------------------------------------------- construction
    @classmethod
    def from_params(
        cls, params: Mapping[str, JSONScalar], grid: FixedPointGrid | None = None
    ) -> AggregationRule:
        """Build the rule from a task spec's JSON-scalar parameters, rejecting unknown keys."""
        accepted = [
            p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "grid")
        ]
        for key, value in params.items():
            if key not in accepted:
                raise RuleConfigError(
                    f"unknown parameter {key!r} for rule {cls.name!r}; expected one of {accepted}"
                )
            if value is not None and not isinstance(value, (str, int, float, bool)):
                raise RuleConfigError(
                    f"parameter {key!r} of rule {cls.name!r} must be a JSON scalar, "
                    f"got {type(value).__name__}"
                )
        return cls(grid=grid, **params)

    @property
    @abstractmethod
    def params(self) -> dict[str, JSONScalar]:
        """The parameters as published in the task spec and round report."""

    # --------------------------------------------------------------------- use
    def aggregate(
        self,
        updates: torch.Tensor,
        num_samples: Sequence[int],
        *,
        reference: torch.Tensor | None = None,
    ) -> AggregationResult:
        """Aggregate ``updates`` [N, d] float32 with per-update ``num_samples``."""
        batch = self.prepare(updates, num_samples, reference)
        decision = self.decide(batch)
        outcome = self.apply(decision, batch)
        return AggregationResult(
            rule=self.name,
            aggregate=outcome.aggregate,
            accepted=outcome.accepted,
            reasons=outcome.reasons,
            decision=decision,
        )

    def verify(
        self,
        published: AggregationResult | Mapping[str, Any],
        updates: torch.Tensor,
        num_samples: Sequence[int],
        *,
        reference: torch.Tensor | None = None,
    ) -> None:
        """Check a published result (or bare decision) against a recomputation.

        Raises :class:`AggregationMismatch` naming the first discrepancy.
        """
        batch = self.prepare(updates, num_samples, reference)
        if isinstance(published, AggregationResult):
            if published.rule != self.name:
                raise AggregationMismatch(
                    f"result is from rule {published.rule!r}, verifier runs {self.name!r}"
                )
            decision = dict(published.decision)
        elif isinstance(published, Mapping):
            decision = dict(published)
        else:
            raise AggregationMismatch(
                f"expected an AggregationResult or a decision mapping, got "
                f"{type(published).__name__}"
            )
        if decision.get("rule") != self.name:
            raise AggregationMismatch(
                f"decision names rule {decision.get('rule')!r}, verifier runs {self.name!r}"
            )
        self.check_decision(decision, self.decide(batch), batch)
        if not isinstance(published, AggregationResult):
            return
        outcome = self.apply(decision, batch)
        if outcome.accepted != tuple(published.accepted):
            raise AggregationMismatch(
                f"accepted flags differ: published {list(published.accepted)}, "
                f"recomputed {list(outcome.accepted)}"
            )
        if outcome.reasons != tuple(published.reasons):
            raise AggregationMismatch("rejection reasons differ from the recomputation")
        ours = AggregationResult(self.name, outcome.aggregate, (), (), {}).aggregate_bytes()
        if published.aggregate.shape != outcome.aggregate.shape:
            raise AggregationMismatch(
                f"aggregate shape {tuple(published.aggregate.shape)} != "
                f"{tuple(outcome.aggregate.shape)}"
            )
        if published.aggregate_bytes() != ours:
            diff = (published.aggregate != outcome.aggregate).nonzero()
            raise AggregationMismatch(
                f"aggregate bytes differ at {diff.numel()} coordinate(s), first at "
                f"index {int(diff[0, 0])}"
            )

    def prepare(
        self,
        updates: torch.Tensor,
        num_samples: Sequence[int],
        reference: torch.Tensor | None,
    ) -> Batch:
        """Check shapes and types (not values: the grid checks those as it reads)."""
        if not isinstance(updates, torch.Tensor):
            raise AggregationInputError(
                f"updates must be a torch.Tensor, got {type(updates).__name__}"
            )
        if updates.dim() != 2:
            raise AggregationInputError(
                f"updates must be 2-D [N, d], got shape {tuple(updates.shape)}"
            )
        if updates.dtype != torch.float32:
            raise AggregationInputError(f"updates must be float32, got {updates.dtype}")
        if updates.device.type != "cpu":
            raise AggregationInputError(
                f"updates must be on the CPU (the audited path), got {updates.device}"
            )
        n, d = updates.shape
        if n == 0 or d == 0:
            raise AggregationInputError(f"need at least one non-empty update, got {n} x {d}")
        if not updates.is_contiguous():
            updates = updates.contiguous()
        samples = tuple(num_samples)
        if len(samples) != n:
            raise AggregationInputError(f"{n} updates but {len(samples)} sample counts")
        for i, s in enumerate(samples):
            if isinstance(s, bool) or not isinstance(s, int) or s <= 0:
                raise AggregationInputError(f"num_samples[{i}] must be a positive int, got {s!r}")
        if self.needs_reference():
            if reference is None:
                raise AggregationInputError(f"rule {self.name!r} needs a reference update")
            if not isinstance(reference, torch.Tensor) or reference.dtype != torch.float32:
                raise AggregationInputError("reference must be a float32 torch.Tensor")
            if tuple(reference.shape) != (d,):
                raise AggregationInputError(
                    f"reference must have shape ({d},), got {tuple(reference.shape)}"
                )
            if not bool(torch.isfinite(reference).all()):
                raise AggregationInputError("reference holds NaN or Inf")
            reference = reference.contiguous()
        elif reference is not None:
            raise AggregationInputError(f"rule {self.name!r} takes no reference update")
        return Batch(updates=updates, num_samples=samples, reference=reference)

    # ------------------------------------------------------------ rule-specific
    def needs_reference(self) -> bool:
        """Whether :meth:`aggregate` requires ``reference`` (a wrapper defers to its inner rule)."""
        return self.uses_reference

    @abstractmethod
    def decide(self, batch: Batch) -> Decision:
        """The float-side decision, rounded for publication (includes ``rule``)."""

    @abstractmethod
    def apply(self, decision: Mapping[str, Any], batch: Batch) -> Outcome:
        """The exact aggregate implied by ``decision`` (which may be a published one)."""

    def check_decision(
        self, published: Mapping[str, Any], recomputed: Decision, batch: Batch
    ) -> None:
        """Default: the decision is exact, so it must equal the recomputation."""
        if dict(published) != recomputed:
            keys = sorted(set(published) | set(recomputed))
            bad = [k for k in keys if published.get(k) != recomputed.get(k)]
            raise AggregationMismatch(
                f"decision field(s) {bad} differ: published "
                f"{ {k: published.get(k) for k in bad} }, recomputed "
                f"{ {k: recomputed.get(k) for k in bad} }"
            )

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({args})"


# ---------------------------------------------------------------- param checks
def int_param(rule: str, name: str, value: object, *, minimum: int | None = None) -> int:
    """Validate an integer parameter (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise RuleConfigError(f"{rule}: parameter {name!r} must be an int, got {value!r}")
    if minimum is not None and value < minimum:
        raise RuleConfigError(f"{rule}: parameter {name!r} must be >= {minimum}, got {value}")
    return value


def float_param(
    rule: str,
    name: str,
    value: object,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Validate a finite float parameter within ``[low, high]`` (ends optionally open)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RuleConfigError(f"{rule}: parameter {name!r} must be a number, got {value!r}")
    out = float(value)
    if not math.isfinite(out):
        raise RuleConfigError(f"{rule}: parameter {name!r} must be finite, got {value!r}")
    if low is not None and (out < low or (low_open and out == low)):
        raise RuleConfigError(
            f"{rule}: parameter {name!r} must be {'>' if low_open else '>='} {low}, got {out}"
        )
    if high is not None and (out > high or (high_open and out == high)):
        raise RuleConfigError(
            f"{rule}: parameter {name!r} must be {'<' if high_open else '<='} {high}, got {out}"
        )
    return out


def index_list(decision: Mapping[str, Any], key: str, n: int) -> list[int]:
    """A published list of distinct row indices in ``[0, n)``, validated."""
    value = decision.get(key)
    if not isinstance(value, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in value
    ):
        raise AggregationMismatch(f"decision field {key!r} must be a list of ints, got {value!r}")
    if len(set(value)) != len(value) or any(not 0 <= i < n for i in value):
        raise AggregationMismatch(
            f"decision field {key!r} must hold distinct indices in [0, {n}), got {value}"
        )
    return list(value)


def int_list(decision: Mapping[str, Any], key: str, length: int) -> list[int]:
    """A published list of ``length`` non-negative ints, validated."""
    value = decision.get(key)
    if (
        not isinstance(value, list)
        or len(value) != length
        or not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in value)
    ):
        raise AggregationMismatch(
            f"decision field {key!r} must be a list of {length} non-negative ints, got {value!r}"
        )
    return list(value)


def round_sig(value: float, digits: int = 9) -> float:
    """Round to ``digits`` significant digits (how float decisions are published)."""
    if value == 0.0 or not math.isfinite(value):
        return float(value)
    return float(f"{value:.{digits}g}")
