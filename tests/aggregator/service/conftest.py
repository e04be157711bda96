"""One served network for the service tests: round 0 finalized and claimed, round 1 open.

Built once per session (per xdist worker) on its own embedded chain and store, with a
service context whose loop is driven by explicit `step()` calls (no thread), so every
test sees the same chain state. Tests that change the chain do it inside a snapshot and
through a context of their own.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from aggregator.service.bootstrap import assemble
from aggregator.service.loop import StepResult
from aggregator.service.settings import AdminToken, ServiceSettings
from ledger.chain.embedded import EmbeddedChain
from ledger.store.disk import DiskStore
from tests.aggregator.network_harness import NetworkHarness
from tests.aggregator.service.served import ADMIN_TOKEN, ServedNetwork


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedNetwork]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    workdir = tmp_path_factory.mktemp("served")
    chain = EmbeddedChain()
    store = DiskStore(workdir / "store")
    harness = NetworkHarness(chain, store, workdir)
    context = assemble(
        ServiceSettings(run_loop=False, admin_token=AdminToken(ADMIN_TOKEN), poll_seconds=0.05),
        harness.network, store, harness.aggregator, evaluator=harness.evaluator,
        initial=harness.initial, task=harness.task)
    assert context.loop.step() is StepResult.OPENED
    harness.play(0)
    assert context.loop.step() is StepResult.FINALIZED
    claims = harness.claim_all(0)
    assert context.loop.step() is StepResult.OPENED
    yield ServedNetwork(chain, store, harness, context, claims, workdir)
    torch.set_num_threads(threads)
    chain.close()
