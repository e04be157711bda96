"""Differential-privacy parameters of a task: part of the TaskSpec, so pinned on chain.

A participant decides whether to join a network by reading what privacy it will get, and
an auditor checks the budget a round report claims against the same numbers, so these
parameters are fixed in advance with everything else the round's outcome depends on.
Like every fractional number in the task spec they are exact decimals (canonical decimal
strings in JSON), never floats.

Client-level DP (McMahan et al., 2018, "Learning Differentially Private Recurrent Language
Models") protects a participant's whole contribution to a round: each update is clipped
to an L2 norm ``C`` and Gaussian noise of standard deviation ``z * C`` is added to the sum
of the clipped updates (``z`` is the noise multiplier). Where each step happens:

``clip_side``
    ``"client"``: participants clip their own update, and an update whose norm exceeds
    the round's ``C`` is rejected (the auditor checks it). ``"server"``: the aggregator
    clips every accepted update (the scaling is part of the published decision).
``noise_side``
    ``"server"``: the aggregator adds the noise to the aggregate (central DP, as Flower's
    ``DifferentialPrivacy{Client,Server}Side{Fixed,Adaptive}Clipping``): protects the
    published model, not the updates themselves, so pair it with encrypted updates.
    ``"client"``: every participant adds ``N(0, (z * C)**2)`` to its own clipped update
    (local DP, Flower's ``LocalDpMod``): protects each published update on its own.
``clipping``
    ``"fixed"``: ``C`` is constant. ``"adaptive"`` (Andrew et al., NeurIPS 2021,
    "Differentially Private Learning with Adaptive Clipping"): after each round
    ``C <- C * exp(-clip_learning_rate * (b - target_quantile))`` where ``b`` is the noised
    fraction of updates whose norm was at most ``C`` (count noise ``clipped_count_stddev``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ledger.formats.canonical import format_decimal
from ledger.formats.errors import FieldError
from ledger.formats.fields import ObjectReader

__all__ = ["ACCOUNTANTS", "CLIPPING_MODES", "SIDES", "DpParams"]

SIDES = ("client", "server")
CLIPPING_MODES = ("fixed", "adaptive")
ACCOUNTANTS = ("rdp", "prv")


def _choice(value: object, where: str, options: tuple[str, ...]) -> None:
    if value not in options:
        raise FieldError(where, f"{value!r} is not one of {', '.join(options)}")


def _decimal(value: object, where: str, *, low: Decimal, high: Decimal | None = None,
             low_open: bool = False, high_open: bool = False) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise FieldError(where, f"expected a finite Decimal, got {value!r}")
    if value < low or (low_open and value == low):
        raise FieldError(where, f"{value} must be {'>' if low_open else '>='} {low}")
    if high is not None and (value > high or (high_open and value == high)):
        raise FieldError(where, f"{value} must be {'<' if high_open else '<='} {high}")


@dataclass(frozen=True)
class DpParams:
    """A task's client-level DP mechanism and how its budget is accounted.

    Attributes
    ----------
    clip_side, noise_side
        ``"client"`` or ``"server"`` (see the module docstring).
    clipping
        ``"fixed"`` or ``"adaptive"``.
    clipping_norm
        ``C`` (the initial ``C`` when adaptive), > 0.
    noise_multiplier
        ``z``: the noise on the sum of clipped updates has standard deviation ``z * C``.
        0 adds no noise (epsilon is then infinite, and reported so).
    delta
        The delta of the reported (epsilon, delta) guarantee, in (0, 1).
    accountant
        ``"rdp"`` (Opacus' Renyi-DP accountant) or ``"prv"`` (Opacus' PRV accountant).
    target_quantile, clip_learning_rate, clipped_count_stddev
        Adaptive clipping only (``gamma``, ``eta_C``, ``sigma_b`` in Andrew et al.);
        must be None for fixed clipping. ``clipped_count_stddev`` must exceed
        ``noise_multiplier / 2`` so that the update noise can make up the total.
    """

    clip_side: str
    noise_side: str
    clipping: str
    clipping_norm: Decimal
    noise_multiplier: Decimal
    delta: Decimal
    accountant: str = "rdp"
    target_quantile: Decimal | None = None
    clip_learning_rate: Decimal | None = None
    clipped_count_stddev: Decimal | None = None

    def __post_init__(self) -> None:
        """Refuse inconsistent or out-of-range parameters, naming the field."""
        _choice(self.clip_side, "privacy.clip_side", SIDES)
        _choice(self.noise_side, "privacy.noise_side", SIDES)
        _choice(self.clipping, "privacy.clipping", CLIPPING_MODES)
        _choice(self.accountant, "privacy.accountant", ACCOUNTANTS)
        _decimal(self.clipping_norm, "privacy.clipping_norm", low=Decimal(0), low_open=True)
        _decimal(self.noise_multiplier, "privacy.noise_multiplier", low=Decimal(0),
                 high=Decimal(1000))
        _decimal(self.delta, "privacy.delta", low=Decimal(0), high=Decimal(1),
                 low_open=True, high_open=True)
        adaptive = (self.target_quantile, self.clip_learning_rate, self.clipped_count_stddev)
        if self.clipping == "adaptive" and self.noise_side == "client":
            raise FieldError("privacy.clipping", "adaptive clipping needs server-side noise: "
                             "the unclipped count is noised by the aggregator")
        if self.clipping == "fixed":
            if any(v is not None for v in adaptive):
                raise FieldError("privacy.clipping", "fixed clipping takes no target_quantile, "
                                 "clip_learning_rate or clipped_count_stddev")
            return
        if any(v is None for v in adaptive):
            raise FieldError("privacy.clipping", "adaptive clipping needs target_quantile, "
                             "clip_learning_rate and clipped_count_stddev")
        _decimal(self.target_quantile, "privacy.target_quantile", low=Decimal(0),
                 high=Decimal(1))
        _decimal(self.clip_learning_rate, "privacy.clip_learning_rate", low=Decimal(0),
                 low_open=True, high=Decimal(10))
        _decimal(self.clipped_count_stddev, "privacy.clipped_count_stddev", low=Decimal(0),
                 low_open=True)
        assert self.clipped_count_stddev is not None
        if self.noise_multiplier > 0 and 2 * self.clipped_count_stddev <= self.noise_multiplier:
            raise FieldError(
                "privacy.clipped_count_stddev",
                f"must exceed noise_multiplier / 2 = {self.noise_multiplier / 2}: the count "
                "noise alone would use up the whole budget",
            )

    @property
    def adaptive(self) -> bool:
        """True when the clipping norm follows the target quantile from round to round."""
        return self.clipping == "adaptive"

    def update_noise_multiplier(self) -> float:
        """The noise multiplier applied to the updates' sum.

        Fixed clipping: ``z``. Adaptive clipping spends part of the budget on the noised
        unclipped count, so the updates get ``(z**-2 - (2 * sigma_b)**-2) ** -0.5``
        (Andrew et al., Theorem 1), which keeps the composed mechanism at ``z``.
        """
        z = float(self.noise_multiplier)
        if not self.adaptive or z == 0:
            return z
        assert self.clipped_count_stddev is not None
        sigma_b = float(self.clipped_count_stddev)
        return float((z**-2 - (2 * sigma_b) ** -2) ** -0.5)

    def to_json_value(self) -> dict[str, object]:
        """The JSON object written into the task spec under ``privacy``."""
        value: dict[str, object] = {
            "accountant": self.accountant,
            "clip_side": self.clip_side,
            "clipping": self.clipping,
            "clipping_norm": format_decimal(self.clipping_norm),
            "delta": format_decimal(self.delta),
            "noise_multiplier": format_decimal(self.noise_multiplier),
            "noise_side": self.noise_side,
        }
        if self.adaptive:
            assert self.target_quantile is not None and self.clip_learning_rate is not None
            assert self.clipped_count_stddev is not None
            value["clip_learning_rate"] = format_decimal(self.clip_learning_rate)
            value["clipped_count_stddev"] = format_decimal(self.clipped_count_stddev)
            value["target_quantile"] = format_decimal(self.target_quantile)
        return value

    @classmethod
    def from_json_value(cls, value: object, path: str = "privacy") -> DpParams:
        """Read the JSON object form, refusing wrong types and unknown fields."""
        reader = ObjectReader(value, path)
        clipping = reader.string("clipping")
        adaptive: dict[str, Decimal] = {}
        if clipping == "adaptive":
            for key in ("target_quantile", "clip_learning_rate", "clipped_count_stddev"):
                adaptive[key] = reader.decimal(key)
        params = cls(
            clip_side=reader.string("clip_side"),
            noise_side=reader.string("noise_side"),
            clipping=clipping,
            clipping_norm=reader.decimal("clipping_norm"),
            noise_multiplier=reader.decimal("noise_multiplier"),
            delta=reader.decimal("delta"),
            accountant=reader.string("accountant"),
            **adaptive,
        )
        reader.finish()
        return params
