"""One round of the client-level DP mechanism, as pure steps shared by aggregator and auditor.

The aggregator runs ``prepare_checks`` -> the round's rule (`compute_round`) ->
``finish_round``; the auditor runs the very same steps on what it fetched and compares,
so both reach the same verdicts, the same model and the same privacy record. `ledger`
cannot import the aggregator, hence the split around the rule.

``prepare_checks``
    Client-side clipping: an update whose exact norm exceeds the round's ``C`` is refused
    (``privacy.clip_bound``). With local noise the published update is clipped *plus*
    noise, so the bound is statistical: ``C * (1 + z * (sqrt(d) + LOCAL_NOISE_SLACK))``,
    which a Gaussian ``N(0, (zC)^2 I_d)`` exceeds with probability below ``e**-40``
    (Laurent and Massart, 2000). Server-side clipping: every valid update is clipped to
    ``C`` (and whether it needed it is remembered for adaptive clipping).
``finish_round``
    Server-side noise ``N(0, (z_delta * C / n)^2)`` on the mean of the ``n`` aggregated
    updates, drawn from the round's secret seed; the noised unclipped fraction and the
    next ``C`` (adaptive); and the cumulative budgets.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction

import torch
from eth_utils.crypto import keccak

from ledger.formats.norm import exact_squared_norm, exceeds_bound
from ledger.privacy.accountant import PrivacyBudget
from ledger.privacy.clipping import (
    clip_vector,
    is_unclipped,
    next_clipping_norm,
    noised_fraction,
    within_clip_bound,
)
from ledger.privacy.errors import ClipBoundError
from ledger.privacy.noise import gaussian_scalar, gaussian_vector
from ledger.privacy.params import DpParams
from ledger.privacy.record import ParticipantBudget, PrivacyRecord, sorted_budgets
from ledger.submissions import SubmissionCheck

__all__ = [
    "LOCAL_NOISE_SLACK",
    "FinishedRound",
    "PreparedChecks",
    "clipping_norm_for",
    "finish_round",
    "local_noise_bound",
    "prepare_checks",
]

LOCAL_NOISE_SLACK = math.sqrt(80.0)
"""``sqrt(2x)`` with ``x = 40``: the chi tail allowance of the statistical bound."""


def clipping_norm_for(params: DpParams, previous: PrivacyRecord | None) -> Decimal:
    """The round's ``C``: fixed, or the previous report's next ``C`` (adaptive)."""
    if params.adaptive and previous is not None:
        return previous.next_clipping_norm
    return params.clipping_norm


def local_noise_bound(params: DpParams, clipping_norm: Decimal, dimension: int) -> Fraction:
    """The statistical norm bound of a clipped update plus local noise (see module doc)."""
    z = Fraction(params.update_noise_multiplier())
    slack = Fraction(math.sqrt(dimension) + LOCAL_NOISE_SLACK)
    return Fraction(clipping_norm) * (1 + z * slack)


@dataclass(frozen=True)
class PreparedChecks:
    """Checks ready for the rule, and which of them were unclipped (adaptive clipping)."""

    checks: tuple[SubmissionCheck, ...]
    clipping_norm: Decimal
    unclipped: frozenset[str]


def prepare_checks(params: DpParams, checks: Sequence[SubmissionCheck],
                   clipping_norm: Decimal) -> PreparedChecks:
    """Enforce (client side) or apply (server side) the round's clipping norm."""
    out: list[SubmissionCheck] = []
    unclipped: set[str] = set()
    for check in checks:
        if not check.ok or check.vector is None:
            out.append(check)
            continue
        who = check.submission.participant
        squared = exact_squared_norm(check.vector)
        if params.clip_side == "server":
            clipped, was_clipped = clip_vector(check.vector, clipping_norm)
            if not was_clipped and is_unclipped(squared, clipping_norm):
                unclipped.add(who)
            out.append(replace(check, vector=clipped))
            continue
        if params.noise_side == "client":
            bound: Fraction | Decimal = local_noise_bound(params, clipping_norm,
                                                          check.vector.numel())
            ok = not exceeds_bound(squared, bound)
        else:
            bound = clipping_norm
            ok = within_clip_bound(squared, clipping_norm)
        if not ok:
            error = ClipBoundError(f"update L2 norm {math.sqrt(squared):.9g} exceeds the "
                                   f"round's DP clipping bound {float(bound):.9g}")
            out.append(SubmissionCheck(check.submission, error.code, str(error)))
            continue
        if is_unclipped(squared, clipping_norm):
            unclipped.add(who)
        out.append(check)
    return PreparedChecks(tuple(out), clipping_norm, frozenset(unclipped))


@dataclass(frozen=True)
class FinishedRound:
    """The noised new model vector and the round's privacy record."""

    new_vector: torch.Tensor
    record: PrivacyRecord


def _budgets(params: DpParams, previous: PrivacyRecord | None,
             aggregated: Sequence[str]) -> PrivacyBudget:
    rounds: dict[str, int] = previous.rounds_by_participant() if previous is not None else {}
    for who in aggregated:
        rounds[who] = rounds.get(who, 0) + 1
    return PrivacyBudget.from_rounds(params, rounds)


def finish_round(
    params: DpParams,
    prepared: PreparedChecks,
    accepted: Mapping[str, bool],
    new_vector: torch.Tensor,
    previous: PrivacyRecord | None,
    noise_seed: bytes | None,
    noise_seed_cid: str | None,
) -> FinishedRound:
    """Add the server noise, run adaptive clipping and account the round.

    `accepted` maps each participant of the round to whether the rule aggregated its
    update; `new_vector` is the rule's noise-free new model. `noise_seed` (32 secret
    bytes, sealed at `noise_seed_cid`) is required for server-side noise whenever an
    update was aggregated, and must be None otherwise.
    """
    aggregated = sorted((who for who, ok in accepted.items() if ok), key=str.lower)
    n = len(aggregated)
    server_noise = params.noise_side == "server" and n > 0
    if server_noise != (noise_seed is not None) or (noise_seed is None) != (noise_seed_cid is None):
        raise ValueError("a noise seed and its CID are needed exactly when the server adds "
                         "noise to a non-empty round")
    noised = new_vector
    if noise_seed is not None:
        std = params.update_noise_multiplier() * float(prepared.clipping_norm) / n
        noise = gaussian_vector(noise_seed, new_vector.numel(), std)
        noised = (new_vector.to(torch.float32) + noise).contiguous()
    fraction: Decimal | None = None
    next_norm = prepared.clipping_norm
    if params.adaptive:
        assert params.clipped_count_stddev is not None
        unclipped = sum(1 for who in aggregated if who in prepared.unclipped)
        count_noise = (gaussian_scalar(noise_seed, float(params.clipped_count_stddev))
                       if noise_seed is not None else 0.0)
        fraction = noised_fraction(unclipped, n, count_noise)
        next_norm = next_clipping_norm(params, prepared.clipping_norm, fraction) if n else (
            prepared.clipping_norm)
    budget = _budgets(params, previous, aggregated)
    record = PrivacyRecord(
        clipping_norm=prepared.clipping_norm,
        next_clipping_norm=next_norm,
        aggregated=n,
        unclipped_fraction=fraction,
        noise_seed_cid=noise_seed_cid,
        noise_seed_hash=keccak(noise_seed) if noise_seed is not None else None,
        budgets=sorted_budgets([ParticipantBudget(who, k, budget.epsilons[who])  # type: ignore[arg-type]
                                for who, k in budget.rounds.items()]),
        total_epsilon=budget.total_epsilon,
        delta=params.delta,
    )
    return FinishedRound(noised, record)
