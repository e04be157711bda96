"""A small simulated network, run once per module, shared by the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fedledger.simulation import Simulation, SimulationConfig, SimulationResult
from ledger.chain.embedded import EmbeddedChain
from ledger.store.disk import DiskStore


class Run:
    def __init__(self, result: SimulationResult, store: DiskStore, chain: EmbeddedChain,
                 workdir: Path) -> None:
        self.result, self.store, self.chain, self.workdir = result, store, chain, workdir


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    workdir = tmp_path_factory.mktemp("sim")
    chain = EmbeddedChain()
    store = DiskStore(workdir / "store")
    cfg = SimulationConfig(participants=6, attacker_share=0.34, attacks=("sign-flip", "free-rider"),
                           rounds=2, rule="multikrum",
                           rule_params=(("num_malicious", 1), ("num_selected", 4)), epochs=1)
    result = Simulation(cfg, chain, store, workdir).run()
    yield Run(result, store, chain, workdir)
    chain.close()
