"""The served network the service tests share (built by the `served` fixture in conftest)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aggregator.service.bootstrap import assemble
from aggregator.service.context import ServiceContext
from aggregator.service.settings import ServiceSettings
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
