"""One served network for the service tests: round 0 finalized and claimed, round 1 open.

Built once per session (per xdist worker) on its own embedded chain and store, with a
service context whose loop is driven by explicit `step()` calls (no thread), so every
test sees the same chain state. Tests that change the chain do it inside a snapshot and
through a context of their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from aggregator.service.bootstrap import assemble
from aggregator.service.context import ServiceContext
from aggregator.service.loop import StepResult
from aggregator.service.settings import AdminToken, ServiceSettings
from ledger.chain.embedded import EmbeddedChain
from ledger.store.disk import DiskStore
from tests.aggregator.network_harness import NetworkHarness

ADMIN_TOKEN = "operator-token-0123456789abcdef"


@dataclass
class ServedNetwork:
    chain: EmbeddedChain
    store: DiskStore
    harness: NetworkHarness
    context: ServiceContext
    claims: dict[str, int]
    workdir: Path

    def new_context(self, **settings: object) -> ServiceContext:
        """Another service context on the same chain and store (its own caches and loop)."""
        values: dict[str, object] = {"run_loop": False, **settings}
        return assemble(ServiceSettings(**values),  # type: ignore[arg-type]
                        self.harness.network, self.store, self.harness.aggregator,
                        evaluator=self.harness.evaluator, initial=self.harness.initial,
                        task=self.harness.task)


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
