"""The privacy budget a participant has spent, from Opacus' accountants.

Each round a participant's update is aggregated in is one run of the Gaussian mechanism
on its contribution with noise multiplier ``z`` (client-level DP: neighbouring datasets
differ by one participant's whole data). The sampling rate is 1: amplification by
subsampling assumes the set of participants in a round is random *and secret*, while on
fedledger every reveal is a public transaction, so no amplification is claimed. The
budget of a participant after ``k`` such rounds is the composition of ``k`` Gaussian
mechanisms, converted to (epsilon, delta) by Opacus' RDP or PRV accountant; the network's
total is the largest budget any participant has spent (the guarantee that holds for all).

Budgets are published in round reports as canonical decimal strings rounded *up* to
`EPSILON_DECIMALS` places, so a report never understates what was spent; the auditor
recomputes them from the task's published parameters and the rounds counted.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from functools import lru_cache
from types import MappingProxyType

import numpy as np
from opacus.accountants import PRVAccountant, RDPAccountant

from ledger.privacy.params import DpParams

__all__ = [
    "EPSILON_DECIMALS",
    "INFINITE",
    "PrivacyBudget",
    "epsilon_for",
    "format_epsilon",
    "noise_multiplier_for",
    "participant_budget",
]

EPSILON_DECIMALS = 6
INFINITE = "inf"
"""How an unbounded epsilon (no noise) is written."""


@lru_cache(maxsize=4096)
def epsilon_for(noise_multiplier: float, rounds: int, delta: float,
                accountant: str = "rdp") -> float:
    """Epsilon of ``rounds`` compositions of the Gaussian mechanism at sampling rate 1.

    Returns 0 for no rounds and ``math.inf`` for a zero noise multiplier.
    """
    if rounds < 0:
        raise ValueError(f"rounds must be >= 0, got {rounds}")
    if rounds == 0:
        return 0.0
    if noise_multiplier <= 0:
        return math.inf
    acc: RDPAccountant | PRVAccountant
    if accountant == "rdp":
        acc = RDPAccountant()
    elif accountant == "prv":
        acc = PRVAccountant()
    else:
        raise ValueError(f"unknown accountant {accountant!r}: expected 'rdp' or 'prv'")
    # One history entry (z, q, k) is what `rounds` calls to `step` leave behind.
    acc.history = [(noise_multiplier, 1.0, rounds)]
    # PRV at q = 1 takes log(0) on a branch it then discards: numpy warns, the value is exact.
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(acc.get_epsilon(delta=delta))


def format_epsilon(epsilon: float) -> str:
    """An epsilon as a canonical decimal string rounded up (``"inf"`` when unbounded)."""
    if math.isinf(epsilon):
        return INFINITE
    step = Decimal(1).scaleb(-EPSILON_DECIMALS)
    rounded = Decimal(epsilon).quantize(step, rounding=ROUND_CEILING).normalize()
    text = format(rounded, "f")
    return text


def noise_multiplier_for(target_epsilon: float, delta: float, rounds: int,
                         accountant: str = "rdp") -> float:
    """The smallest noise multiplier giving at most `target_epsilon` after `rounds` rounds.

    Opacus' own binary search (`get_noise_multiplier`), at sampling rate 1.
    """
    from opacus.accountants.utils import get_noise_multiplier

    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(get_noise_multiplier(target_epsilon=target_epsilon, target_delta=delta,
                                          sample_rate=1.0, steps=rounds,
                                          accountant=accountant, epsilon_tolerance=0.005))


def participant_budget(params: DpParams, rounds: int) -> str:
    """The published epsilon string of a participant aggregated in `rounds` rounds."""
    return format_epsilon(epsilon_for(float(params.noise_multiplier), rounds,
                                      float(params.delta), params.accountant))


@dataclass(frozen=True)
class PrivacyBudget:
    """Budgets spent after some round: per participant and for the whole network.

    `rounds` maps a checksummed address to the number of rounds its update was
    aggregated in; `epsilons` to the published epsilon string of each.
    """

    params: DpParams
    rounds: Mapping[str, int]
    epsilons: Mapping[str, str]

    @classmethod
    def from_rounds(cls, params: DpParams, rounds: Mapping[str, int]) -> PrivacyBudget:
        """Account every participant's rounds under the task's parameters."""
        return cls(params, MappingProxyType(dict(rounds)),
                   MappingProxyType({a: participant_budget(params, k) for a, k in rounds.items()}))

    @property
    def total_epsilon(self) -> str:
        """The largest epsilon any participant has spent (``"0"`` before any round)."""
        worst = max(self.rounds.values(), default=0)
        return participant_budget(self.params, worst)

    @property
    def delta(self) -> Decimal:
        """The delta every epsilon is stated for."""
        return self.params.delta
