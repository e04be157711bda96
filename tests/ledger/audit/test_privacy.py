"""Auditing a DP round with encrypted updates, on a real chain.

One round 0 is played once per module on the embedded chain: a task with client-side
clipping and server-side noise (Flower's client-side fixed clipping), three participants
whose updates and proofs are sealed to the aggregator and a registered auditor, and an
aggregator that opens them with its reader key, runs the DP round and seals the noise
seed. Each test finalizes it (honestly or with one lie) and audits it with a reader key,
without one, or with a key outside the reader set.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal

import pytest
import torch
from eth_utils.crypto import keccak

from aggregator.orchestrator import RoundOrchestrator
from aggregator.privacy.server_dp import private_round
from aggregator.rewards import allocate_rewards
from aggregator.round_compute import RoundOutcome, compute_round
from ledger.audit import Auditor, AuditRules, Verdict
from ledger.audit import findings as F
from ledger.audit.privacy import PRIVACY_BUDGET, PRIVACY_CLIP_BOUND
from ledger.chain.base import TestChainBackend
from ledger.chain.embedded import EmbeddedChain
from ledger.contracts.deploy import Network, deploy_network, enroll_participants
from ledger.contracts.registry import commitment
from ledger.formats.model import encode_model
from ledger.formats.proof import ProofFields, sign_proof
from ledger.formats.report import REPORT_DECIMALS, RoundReport, rewards_root
from ledger.formats.task import TaskSpec
from ledger.formats.update import encode_update
from ledger.keys import Signer
from ledger.privacy.accountant import participant_budget
from ledger.privacy.envelope import seal
from ledger.privacy.params import DpParams
from ledger.privacy.readers import ReaderSecret, StaticReaderKeys
from ledger.privacy.record import ParticipantBudget, PrivacyRecord
from ledger.store.disk import DiskStore
from ledger.submissions import RevealedSubmission, SubmissionCheck, check_submission
from node.privacy.sealing import seal_submission
from tests.conftest import EMBEDDED_ACCOUNTS
from tests.ledger.audit.lying_aggregator import INITIAL, LAYOUT, PARAMS, POOL
from tests.ledger.audit.lying_aggregator import make_task as plain_task

RULES = AuditRules(compute_round=compute_round, allocate_rewards=allocate_rewards)
DP = DpParams(clip_side="client", noise_side="server", clipping="fixed",
              clipping_norm=Decimal(1), noise_multiplier=Decimal("1.1"), delta=Decimal("0.00001"))
#: Norms of the three participants' deltas; the last is above the clipping norm.
NORMS = (0.4, 0.8, 1.5)


def dp_task() -> TaskSpec:
    return replace(plain_task(), task_id="audit-privacy-v1",
                   aggregation_params={"weighted": False}, privacy=DP)


@dataclass
class Round:
    backend: TestChainBackend
    network: Network
    store: DiskStore
    task: TaskSpec
    aggregator: Signer
    reader: ReaderSecret
    auditor_key: ReaderSecret
    base_hash: bytes


def _delta(index: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(300 + index)
    vector = torch.randn(LAYOUT.numel, generator=generator)
    return (vector / vector.norm() * NORMS[index]).to(torch.float32)


@pytest.fixture(scope="module")
def _round(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Round, list[int]]]:
    # Its own chain: see tests/ledger/audit/conftest.py for why the shared one is avoided.
    backend = EmbeddedChain(accounts=EMBEDDED_ACCOUNTS)
    store = DiskStore(tmp_path_factory.mktemp("privacy-audit-store"))
    dev = [Signer(account) for account in backend.dev_accounts()]
    admin, aggregator, auditor, players = dev[0], dev[1], dev[2], dev[3:6]
    reader = ReaderSecret(bytes(aggregator.local_account().key))
    auditor_key = ReaderSecret(bytes(auditor.local_account().key))
    readers = StaticReaderKeys([reader.reader, auditor_key.reader])
    network = deploy_network(backend, admin, PARAMS)
    registry = network.registry
    registry.appoint_aggregator(aggregator.address, sender=admin)
    task = dp_task()
    registry.set_task(task.task_hash(), store.put_bytes(task.canonical_bytes()), sender=admin)
    enroll_participants(network, admin, players, stake=0)
    model = encode_model(LAYOUT.unflatten(INITIAL), 0, task.task_hash(), layout=LAYOUT)
    base_cid, base_hash = store.put_bytes(model), keccak(model)
    now = backend.now()
    registry.open_round(0, base_cid, base_hash, now + 600, now + 1_200, sender=aggregator)
    chain_id, address = network.info.chain_id, registry.address
    reveals = []
    for i, player in enumerate(players):
        update = encode_update(LAYOUT.unflatten(_delta(i)), 0, base_hash, player.address,
                               layout=LAYOUT)

        def signed(update_hash: bytes, player: Signer = player) -> bytes:
            fields = ProofFields(round=0, participant=player.address, base_model_hash=base_hash,
                                 update_hash=update_hash, num_samples=10,
                                 data_commitment=keccak(player.address.encode()),
                                 training_config_hash=task.training.config_hash(), metrics={},
                                 software_version="0.1.0")
            return sign_proof(fields, player.local_account(), chain_id,
                              address).canonical_bytes()

        sealed = seal_submission(update, signed, readers)
        salt = keccak(b"salt %d" % i)
        reveals.append((player, store.put_bytes(sealed.update), sealed.update_hash,
                        store.put_bytes(sealed.proof), sealed.proof_hash, salt))
        registry.commit(0, commitment(0, player.address, sealed.update_hash, sealed.proof_hash,
                                      salt), sender=player)
    info = registry.round_info(0)
    backend.mine(info.commit_deadline + 1)
    for player, ucid, uhash, pcid, phash, salt in reveals:
        registry.reveal(0, ucid, uhash, pcid, phash, 10, salt, sender=player)
    backend.mine(info.reveal_deadline + 1)
    played = Round(backend, network, store, task, aggregator, reader, auditor_key, base_hash)
    yield played, [backend.snapshot()]
    backend.close()


@pytest.fixture
def played(_round: tuple[Round, list[int]]) -> Iterator[Round]:
    r, holder = _round
    yield r
    r.backend.revert(holder[0])
    holder[0] = r.backend.snapshot()


def aggregator_checks(r: Round) -> list[SubmissionCheck]:
    return [check_submission(r.store, RevealedSubmission(
                ev.round, ev.participant, ev.update_cid, ev.update_hash, ev.proof_cid,
                ev.proof_hash, ev.num_samples), r.task, r.base_hash, r.network.info.chain_id,
                r.network.registry.address, reader=r.reader)
            for ev in r.network.registry.events_update_revealed(round=0)]


def finalize(r: Round, outcome: RoundOutcome, record: PrivacyRecord | None) -> None:
    model = encode_model(LAYOUT.unflatten(outcome.new_vector), 1, r.task.task_hash(),
                         layout=LAYOUT)
    model_cid, model_hash = r.store.put_bytes(model), keccak(model)
    leaves = [(s.participant, 0, s.reward) for s in outcome.submissions if s.reward > 0]
    report = RoundReport(
        round=0, task_hash=r.task.task_hash(), base_model_hash=r.base_hash, rule="fedavg",
        rule_params={"weighted": False}, decimals=REPORT_DECIMALS,
        submissions=outcome.submissions, decision={}, validation_metrics={},
        new_model_hash=model_hash, new_model_cid=model_cid, rewards_root=rewards_root(leaves),
        total_reward=outcome.total_reward, privacy=record)
    data = report.canonical_bytes()
    r.network.registry.finalize_round(0, model_cid, model_hash, r.store.put_bytes(data),
                                      keccak(data), rewards_root(leaves), report.total_reward,
                                      sender=r.aggregator)


def honest_round(r: Round) -> tuple[RoundOutcome, PrivacyRecord]:
    readers = [r.reader.reader, r.auditor_key.reader]
    result = private_round(r.task, INITIAL, aggregator_checks(r), POOL, previous=None,
                           publish_seed=lambda seed: r.store.put_bytes(
                               seal(seed, readers, kind="noise_seed")))
    return result.outcome, result.record


def audit(r: Round, reader: ReaderSecret | None):  # type: ignore[no-untyped-def]
    return Auditor(r.network, r.store, RULES, reader=reader).audit().round(0)


def test_the_orchestrators_dp_round_verifies_and_publishes_the_budget(played: Round) -> None:
    # Prepare
    readers = StaticReaderKeys([played.reader.reader, played.auditor_key.reader])
    orchestrator = RoundOrchestrator(played.network, played.aggregator, played.store,
                                     played.task, reader=played.reader, readers=readers)
    # Execute
    finalized = orchestrator.finalize_round(0)
    result = audit(played, played.auditor_key)
    # Assert
    assert (result.verdict, result.findings) == (Verdict.VERIFIED, ())
    record = finalized.report.privacy
    assert record is not None
    assert (record.aggregated, record.clipping_norm, record.delta) == (2, Decimal(1),
                                                                      Decimal("0.00001"))
    assert [b.rounds for b in record.budgets] == [1, 1]
    assert record.total_epsilon == participant_budget(DP, 1)


def test_without_a_reader_key_the_round_is_unverifiable_encrypted(played: Round) -> None:
    # Prepare
    finalize(played, *honest_round(played))
    # Execute
    result = audit(played, None)
    # Assert
    assert result.verdict is Verdict.UNVERIFIABLE
    assert {f.code for f in result.findings} == {F.CONTENT_ENCRYPTED}
    assert len(result.findings) == 3
    assert all(f.message.startswith("unverifiable: encrypted: the update is encrypted to ")
               for f in result.findings)


def test_a_key_outside_the_reader_set_is_named_in_the_findings(played: Round) -> None:
    # Prepare
    finalize(played, *honest_round(played))
    outsider = ReaderSecret(bytes([0] * 31 + [0x77]))
    # Execute
    result = audit(played, outsider)
    # Assert
    assert result.verdict is Verdict.UNVERIFIABLE
    assert {f.code for f in result.findings} == {F.CONTENT_ENCRYPTED}
    assert all(f"the key of {outsider.address} is not among its readers" in f.message
               for f in result.findings)


def test_an_accepted_update_above_the_clipping_norm_is_a_mismatch(played: Round) -> None:
    # Prepare: the aggregator skips the clip-bound check and aggregates all three
    honest_outcome, honest_record = honest_round(played)
    lax = compute_round(played.task, INITIAL, aggregator_checks(played), POOL)
    finalize(played, replace(lax, new_vector=honest_outcome.new_vector), honest_record)
    # Execute
    result = audit(played, played.auditor_key)
    # Assert
    assert result.verdict is Verdict.MISMATCH
    clip = [f for f in result.findings if f.code == PRIVACY_CLIP_BOUND]
    assert len(clip) == 1
    assert "above the round's clipping norm 1, yet the report accepts it" in clip[0].message


def test_an_understated_budget_is_a_mismatch(played: Round) -> None:
    # Prepare
    outcome, record = honest_round(played)
    lie = replace(record, budgets=tuple(ParticipantBudget(b.participant, b.rounds, "0.5")
                                        for b in record.budgets), total_epsilon="0.5")
    finalize(played, outcome, lie)
    # Execute
    result = audit(played, played.auditor_key)
    # Assert
    assert result.verdict is Verdict.MISMATCH
    budget = [f for f in result.findings if f.code == PRIVACY_BUDGET]
    assert len(budget) == 3
    assert budget[-1].message.startswith("the report's total epsilon is 0.5, the participants' "
                                         "budgets give ")
