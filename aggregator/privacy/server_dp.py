"""A DP round: clipping, the task's rule on the clipped updates, server noise, accounting.

This is DP-FedAvg (McMahan et al., 2018) on fedledger's audited path, with Flower's four
central-DP variants as parameters of the task (`ledger.privacy.params`): clipping on the
client or the server side, fixed or adaptive. The steps around the rule live in
`ledger.privacy.mechanism` so the auditor runs them too; this module only composes them
with `compute_round`.

The accountant's numbers hold for the unweighted mean of clipped updates (each
participant moves the sum by at most ``C``). A sample-weighted mean or a selecting rule
(Krum, trimmed mean) has another sensitivity, so `check_dp_rule` refuses such a task
rather than publish a budget that does not hold.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import torch

from aggregator.round_compute import RoundOutcome, compute_round
from ledger.errors import ConfigError
from ledger.formats.task import TaskSpec
from ledger.privacy.mechanism import clipping_norm_for, finish_round, prepare_checks
from ledger.privacy.record import PrivacyRecord
from ledger.submissions import SubmissionCheck

__all__ = ["PrivateRoundOutcome", "check_dp_rule", "private_round"]

#: Seals a fresh noise seed to the reader set and stores it; returns the envelope's CID.
SeedPublisher = Callable[[bytes], str]


def check_dp_rule(task: TaskSpec) -> None:
    """Refuse a DP task whose rule is not an unweighted mean (its budget would not hold)."""
    params = dict(task.aggregation_params)
    rule = task.aggregation_rule
    if rule == "norm_clipping":
        if params.get("inner", "fedavg") != "fedavg":
            raise ConfigError(f"a DP task needs an unweighted mean; norm_clipping's inner rule "
                              f"is {params.get('inner')!r}")
        weighted = params.get("inner.weighted", True)
    elif rule == "fedavg":
        weighted = params.get("weighted", True)
    else:
        raise ConfigError(f"a DP task needs the unweighted mean (fedavg with weighted=false), "
                          f"got rule {rule!r}: its sensitivity is not the clipping norm")
    if weighted is not False:
        raise ConfigError("a DP task needs fedavg with weighted=false: a sample-weighted mean "
                          "lets one participant move the model by more than the clipping norm")


@dataclass(frozen=True)
class PrivateRoundOutcome:
    """The round's outcome (noised model) and its privacy record."""

    outcome: RoundOutcome
    record: PrivacyRecord


def private_round(
    task: TaskSpec,
    base_vector: torch.Tensor,
    checks: Sequence[SubmissionCheck],
    reward_pool: int,
    *,
    previous: PrivacyRecord | None,
    publish_seed: SeedPublisher | None = None,
    noise_seed: bytes | None = None,
) -> PrivateRoundOutcome:
    """Run one DP round of `task`.

    `previous` is the privacy record of the previous round's report (None in round 0).
    With server-side noise the aggregator draws a fresh secret seed and `publish_seed`
    seals and stores it (its CID goes into the record); pass `noise_seed` only to
    reproduce a round (tests, benchmarks).
    """
    params = task.privacy
    if params is None:
        raise ConfigError(f"task {task.task_id} has no privacy parameters")
    check_dp_rule(task)
    prepared = prepare_checks(params, checks, clipping_norm_for(params, previous))
    outcome = compute_round(task, base_vector, prepared.checks, reward_pool)
    accepted: dict[str, bool] = {s.participant: s.accepted for s in outcome.submissions}
    seed, seed_cid = None, None
    if params.noise_side == "server" and any(accepted.values()):
        if publish_seed is None:
            raise ConfigError("server-side DP noise needs a seed publisher (the reader set)")
        seed = noise_seed if noise_seed is not None else secrets.token_bytes(32)
        seed_cid = publish_seed(seed)
    finished = finish_round(params, prepared, accepted, outcome.new_vector, previous, seed,
                            seed_cid)
    return PrivateRoundOutcome(replace(outcome, new_vector=finished.new_vector),
                               finished.record)
