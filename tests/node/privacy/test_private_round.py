"""A whole DP round with encrypted updates: participants, aggregator and auditor on a chain.

Two participants of the small digits task train, clip to the task's DP bound and seal their
updates and proofs to the reader set registered on chain; the aggregator opens them with its
reader key, runs the DP round (server noise from a sealed seed) and finalizes; an auditor
with a reader key verifies everything, one without a key gets "unverifiable: encrypted".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from aggregator.orchestrator import RoundOrchestrator
from aggregator.rewards import allocate_rewards
from aggregator.round_compute import compute_round
from ledger.audit import Auditor, AuditRules, Verdict
from ledger.audit import findings as F
from ledger.chain.base import TestChainBackend
from ledger.contracts.deploy import bootstrap_dev_network
from ledger.keys import Signer
from ledger.privacy.envelope import is_envelope
from ledger.privacy.params import DpParams
from ledger.privacy.readers import ReaderSecret
from ledger.privacy.registry_readers import RegistryReaderKeys
from ledger.store.disk import DiskStore
from node.bootstrap import journal_path, load_local_data
from node.journal import Journal
from node.participant import Participant
from tests.node.node_kit import NODE_PARAMS, data_settings, set_task, small_task

DP = DpParams(clip_side="client", noise_side="server", clipping="fixed",
              clipping_norm=Decimal("0.5"), noise_multiplier=Decimal("1.1"),
              delta=Decimal("0.00001"))
RULES = AuditRules(compute_round=compute_round, allocate_rewards=allocate_rewards)


@pytest.fixture
def chain(embedded_chain: TestChainBackend) -> Iterator[TestChainBackend]:
    """The embedded chain, reverted after the test."""
    snapshot = embedded_chain.snapshot()
    yield embedded_chain
    embedded_chain.revert(snapshot)


def test_encrypted_dp_round_end_to_end(chain: TestChainBackend, tmp_path: Path) -> None:
    # Prepare: a DP task on its own network (events of no other test can mix in), reader
    # keys on chain, two participants sealing to them
    store = DiskStore(tmp_path / "store")
    dev = bootstrap_dev_network(chain, chain.dev_accounts(), NODE_PARAMS, participants=2)
    plain, initial = small_task()
    task = replace(plain, aggregation_params={"weighted": False}, privacy=DP)
    set_task(dev, task.task_hash(), store.put_bytes(task.canonical_bytes()))
    registry = dev.registry
    aggregator_key = ReaderSecret(bytes(dev.aggregator.key))  # type: ignore[attr-defined]
    auditor_key = ReaderSecret(bytes(dev.auditor.key))  # type: ignore[attr-defined]
    registry.register_reader_key(aggregator_key.reader.public_key, sender=dev.aggregator)
    registry.register_reader_key(auditor_key.reader.public_key, sender=dev.auditor)
    readers = RegistryReaderKeys(registry)
    orchestrator = RoundOrchestrator(dev.network, dev.aggregator, store, task,
                                     reader=aggregator_key, readers=readers)
    orchestrator.open_next_round(initial)
    nodes = []
    for i in range(2):
        signer = Signer(dev.participants[i])  # type: ignore[arg-type]
        journal = Journal(journal_path(tmp_path / "journals", dev.network.info, signer.address),
                          signer.address, registry.address)
        nodes.append(Participant(dev.network, signer, store, task,
                                 load_local_data(data_settings(i), task), journal,
                                 readers=readers))
    # Execute
    entries = [node.prepare_round(0) for node in nodes]
    for node in nodes:
        node.commit(0)
    info = registry.round_info(0)
    chain.mine(info.commit_deadline + 1)
    for node in nodes:
        node.reveal(0)
    chain.mine(info.reveal_deadline + 1)
    finalized = orchestrator.finalize_round(0)
    with_key = Auditor(dev.network, store, RULES, reader=auditor_key).audit().round(0)
    without = Auditor(dev.network, store, RULES).audit().round(0)
    # Assert
    assert all(is_envelope(store.get_bytes(e.update_cid)) for e in entries)
    assert all(is_envelope(store.get_bytes(e.proof_cid)) for e in entries)
    assert [(s.verification, s.accepted) for s in finalized.report.submissions] == [
        ("ok", True), ("ok", True)]
    record = finalized.report.privacy
    assert record is not None and record.aggregated == 2 and record.noise_seed_cid is not None
    assert (with_key.verdict, with_key.findings) == (Verdict.VERIFIED, ())
    assert without.verdict is Verdict.UNVERIFIABLE
    assert {f.code for f in without.findings} == {F.CONTENT_ENCRYPTED}
