"""A small real network for aggregator tests: contracts, task, participants that train.

Three participants on non-IID digits (one of them a zero-update free-rider, so every
round has a rejection with a reason), FedAvg, one local epoch: a finalized round costs a
few seconds on the embedded chain. The aggregator side is left to the test (service,
orchestrator, crash harness); the harness only plays the participants' part and moves
chain time, as `fedledger.simulation` does.
"""

from __future__ import annotations

from pathlib import Path

import torch

from fedledger.simulation import SimulationConfig, build_task
from ledger.chain.base import TestChainBackend
from ledger.contracts.deploy import Network, deploy_network, enroll_participants
from ledger.contracts.registry import RegistryParams
from ledger.contracts.token import ONE_TOKEN
from ledger.formats.task import TaskSpec
from ledger.keys import Signer
from ledger.store.base import ContentStore
from node.data.catalog import load_dataset
from node.data.partition import partition_labels
from node.journal import Journal
from node.participant import LocalData, Participant
from node.training.evaluation import evaluate

STAKE = 10 * ONE_TOKEN
REWARD = 1_000 * ONE_TOKEN


class NetworkHarness:
    """Deploys a network with a task and registered participants on `backend`."""

    def __init__(self, backend: TestChainBackend, store: ContentStore, workdir: Path, *,
                 participants: int = 3, rounds: int = 3) -> None:
        self.backend = backend
        self.store = store
        self.config = SimulationConfig(participants=participants, attacker_share=1 / participants,
                                       attacks=("free-rider",), rounds=rounds, rule="fedavg",
                                       epochs=1, reward_per_round=REWARD)
        self.dataset = load_dataset("digits")
        task, initial = build_task(self.config, tuple(self.dataset.input_shape),
                                   self.dataset.num_classes)
        self.task: TaskSpec = task
        self.initial: torch.Tensor = initial
        dev = backend.dev_accounts()
        self.admin, self.aggregator = Signer(dev[0]), Signer(dev[1])
        keys = [Signer(dev[2 + i]) for i in range(participants)]
        params = RegistryParams(min_stake=STAKE, reward_per_round=REWARD, challenge_window=3600,
                                challenge_bond=5 * ONE_TOKEN)
        self.network: Network = deploy_network(backend, self.admin, params)
        self.network.registry.appoint_aggregator(self.aggregator.address, sender=self.admin)
        self.task_cid = store.put_bytes(task.canonical_bytes())
        self.network.registry.set_task(task.task_hash(), self.task_cid, sender=self.admin)
        enroll_participants(self.network, self.admin, keys, STAKE)
        split = partition_labels("dirichlet", self.dataset.y_train, participants, seed=0,
                                 alpha=0.5)
        self.participants: list[Participant] = []
        for i, key in enumerate(keys):
            idx = torch.as_tensor(split.client_indices[i], dtype=torch.long)
            data = LocalData(self.dataset.x_train[idx], self.dataset.y_train[idx])
            journal = Journal(workdir / "journals" / f"{key.address}.json", key.address,
                              self.network.registry.address)
            self.participants.append(Participant(self.network, key, store, task, data, journal,
                                                 attack=self.config.attack_for(i)))

    @property
    def free_rider(self) -> Participant:
        return next(p for p in self.participants if not p.attack.is_honest)

    def is_honest(self, address: str) -> bool:
        return next(p for p in self.participants if p.address == address).attack.is_honest

    def evaluator(self, state: dict[str, torch.Tensor]) -> tuple[float, float]:
        """The aggregator's validation: the digits test split."""
        result = evaluate(self.task.model, dict(self.task.model_kwargs), state,
                          self.dataset.x_test, self.dataset.y_test)
        return result.loss, result.accuracy

    def play(self, round_: int) -> None:
        """Every participant trains, commits and reveals; chain time ends past the reveals."""
        for p in self.participants:
            p.prepare_round(round_)
            p.commit(round_)
        info = self.network.registry.round_info(round_)
        self.backend.mine(info.commit_deadline + 1)
        for p in self.participants:
            p.reveal(round_)
        self.backend.mine(info.reveal_deadline + 1)

    def claim_all(self, round_: int) -> dict[str, int]:
        """After the challenge window, every participant claims; address -> amount."""
        info = self.network.registry.round_info(round_)
        if self.backend.now() <= info.claimable_at:
            self.backend.mine(info.claimable_at + 1)
        return {p.address: p.claim(round_) for p in self.participants}


__all__ = ["REWARD", "STAKE", "NetworkHarness"]
