"""A DP round: the clipping bound enforced or applied, reproducible noise, exact accounting."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
import torch
from eth_utils.crypto import keccak

from aggregator.privacy.server_dp import check_dp_rule, private_round
from aggregator.round_compute import compute_round
from ledger.errors import ConfigError
from ledger.formats.task import TaskSpec
from ledger.privacy.accountant import participant_budget
from ledger.privacy.clipping import next_clipping_norm, noised_fraction
from ledger.privacy.noise import gaussian_scalar, gaussian_vector
from ledger.privacy.params import DpParams
from ledger.submissions import RevealedSubmission, SubmissionCheck
from tests.ledger.submission_kit import ACCOUNTS, LAYOUT, ROUND, make_task

SEED = bytes(range(32))
SEED_CID = "bafkreiseedenvelope"
FIXED = DpParams(clip_side="client", noise_side="server", clipping="fixed",
                 clipping_norm=Decimal(1), noise_multiplier=Decimal("1.1"),
                 delta=Decimal("0.00001"))


def dp_task(params: DpParams, rule: str = "fedavg",
            rule_params: dict[str, object] | None = None) -> TaskSpec:
    return replace(make_task(rule, {"weighted": False} if rule_params is None else rule_params),
                   privacy=params)


def check(index: int, norm: float) -> SubmissionCheck:
    generator = torch.Generator().manual_seed(50 + index)
    vector = torch.randn(LAYOUT.numel, generator=generator)
    vector = (vector / vector.norm() * norm).to(torch.float32)
    account = ACCOUNTS[index]
    sub = RevealedSubmission(ROUND, account.address, f"cid{index}", keccak(b"u%d" % index),
                             f"proof{index}", keccak(b"p%d" % index), 10)
    return SubmissionCheck(sub, "ok", "", vector)


def publisher(published: list[bytes]):  # type: ignore[no-untyped-def]
    def publish(seed: bytes) -> str:
        published.append(seed)
        return SEED_CID
    return publish


def test_client_side_clipping_refuses_an_update_above_the_bound() -> None:
    # Prepare
    task = dp_task(FIXED)
    checks = [check(0, 0.5), check(1, 0.999), check(2, 1.001)]
    # Execute
    result = private_round(task, torch.zeros(LAYOUT.numel), checks, 10**18, previous=None,
                           publish_seed=publisher([]), noise_seed=SEED)
    # Assert
    verdicts = {s.participant: (s.verification, s.accepted) for s in result.outcome.submissions}
    assert verdicts[ACCOUNTS[2].address] == ("privacy.clip_bound", False)
    assert verdicts[ACCOUNTS[0].address] == ("ok", True)
    assert verdicts[ACCOUNTS[1].address] == ("ok", True)
    refused = next(s for s in result.outcome.submissions if not s.accepted)
    assert refused.reason.startswith("update L2 norm 1.00099")
    assert refused.reason.endswith("exceeds the round's DP clipping bound 1")
    assert result.record.aggregated == 2


def test_server_noise_is_the_seeded_gaussian_on_the_clipped_mean() -> None:
    # Prepare
    params = replace(FIXED, clip_side="server")
    task = dp_task(params)
    checks = [check(0, 0.5), check(1, 3.0)]
    seeds: list[bytes] = []
    plain = compute_round(dp_task(params), torch.zeros(LAYOUT.numel),
                          [checks[0], replace(checks[1], vector=checks[1].vector / 3)],
                          10**18)
    # Execute
    result = private_round(task, torch.zeros(LAYOUT.numel), checks, 10**18, previous=None,
                           publish_seed=publisher(seeds), noise_seed=SEED)
    # Assert
    noise = gaussian_vector(SEED, LAYOUT.numel, 1.1 * 1.0 / 2)
    assert seeds == [SEED]
    assert torch.allclose(result.outcome.new_vector, plain.new_vector + noise, atol=1e-6)
    assert result.record.noise_seed_cid == SEED_CID
    assert result.record.noise_seed_hash == keccak(SEED)


def test_the_record_accounts_every_aggregated_participant() -> None:
    # Prepare
    task = dp_task(FIXED)
    first = private_round(task, torch.zeros(LAYOUT.numel), [check(0, 0.5), check(1, 0.5)],
                          10**18, previous=None, publish_seed=publisher([]), noise_seed=SEED)
    # Execute
    second = private_round(task, torch.zeros(LAYOUT.numel), [check(0, 0.5), check(2, 0.5)],
                           10**18, previous=first.record, publish_seed=publisher([]),
                           noise_seed=SEED)
    # Assert
    rounds = second.record.rounds_by_participant()
    assert rounds == {ACCOUNTS[0].address: 2, ACCOUNTS[1].address: 1, ACCOUNTS[2].address: 1}
    by_participant = {b.participant: b.epsilon for b in second.record.budgets}
    assert by_participant[ACCOUNTS[0].address] == participant_budget(FIXED, 2)
    assert second.record.total_epsilon == participant_budget(FIXED, 2)
    assert second.record.delta == Decimal("0.00001")


def test_adaptive_clipping_moves_the_norm_by_the_noised_unclipped_fraction() -> None:
    # Prepare
    params = DpParams(clip_side="server", noise_side="server", clipping="adaptive",
                      clipping_norm=Decimal(1), noise_multiplier=Decimal(1),
                      delta=Decimal("0.00001"), target_quantile=Decimal("0.5"),
                      clip_learning_rate=Decimal("0.2"), clipped_count_stddev=Decimal(5))
    task = dp_task(params)
    checks = [check(0, 0.5), check(1, 0.7), check(2, 2.0)]
    # Execute
    result = private_round(task, torch.zeros(LAYOUT.numel), checks, 10**18, previous=None,
                           publish_seed=publisher([]), noise_seed=SEED)
    # Assert
    fraction = noised_fraction(2, 3, gaussian_scalar(SEED, 5.0))
    assert result.record.unclipped_fraction == fraction
    assert result.record.next_clipping_norm == next_clipping_norm(params, Decimal(1), fraction)
    assert result.record.clipping_norm == Decimal(1)
    assert result.record.aggregated == 3


def test_local_noise_adds_no_server_noise_and_needs_no_seed() -> None:
    # Prepare
    params = replace(FIXED, noise_side="client")
    task = dp_task(params)
    checks = [check(0, 0.5), check(1, 0.9)]
    plain = compute_round(task, torch.zeros(LAYOUT.numel), checks, 10**18)
    # Execute
    result = private_round(task, torch.zeros(LAYOUT.numel), checks, 10**18, previous=None)
    # Assert
    assert torch.equal(result.outcome.new_vector, plain.new_vector)
    assert result.record.noise_seed_cid is None


@pytest.mark.parametrize(("rule", "params", "message"), [
    ("fedavg", {}, "a DP task needs fedavg with weighted=false"),
    ("multikrum", {"f": 1, "m": 2}, "got rule 'multikrum': its sensitivity"),
    ("norm_clipping", {"inner": "fedmedian"}, "norm_clipping's inner rule is 'fedmedian'"),
])
def test_rules_whose_sensitivity_is_not_the_clip_norm_are_refused(
        rule: str, params: dict[str, object], message: str) -> None:
    # Execute / Assert
    with pytest.raises(ConfigError, match=message):
        check_dp_rule(dp_task(FIXED, rule, params))


def test_server_noise_without_a_seed_publisher_is_a_clear_error() -> None:
    # Execute / Assert
    with pytest.raises(ConfigError, match="server-side DP noise needs a seed publisher"):
        private_round(dp_task(FIXED), torch.zeros(LAYOUT.numel), [check(0, 0.5)], 10**18,
                      previous=None)
