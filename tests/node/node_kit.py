"""Builders shared by the node runner, CLI and multi-process tests.

A small real task (an MLP on scikit-learn digits, FedAvg, 9,610 parameters) published on
a deployed dev network, the aggregator's orchestrator for it, and participants built from
the network's registered dev accounts with a seeded non-IID share of digits each.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import torch
from eth_account.signers.local import LocalAccount

from aggregator.orchestrator import RoundOrchestrator
from fedledger.simulation import SimulationConfig, build_task
from ledger.chain.base import TestChainBackend
from ledger.contracts.deploy import DevNetwork, bootstrap_dev_network
from ledger.contracts.registry import RegistryParams
from ledger.contracts.token import ONE_TOKEN
from ledger.formats.task import TaskSpec
from ledger.keys import Signer, create_keystore
from ledger.store.base import ContentStore
from node.config import DataSettings
from node.journal import Journal
from node.participant import LocalData, Participant

PASSPHRASE = "correct horse battery staple"
#: scrypt n for test keystores: fast to open, same format as the geth-standard 2**18.
TEST_SCRYPT_N = 2**10
CLIENTS = 4
#: Short challenge window: tests move chain time past it in one block.
NODE_PARAMS = RegistryParams(min_stake=10 * ONE_TOKEN, reward_per_round=1_000 * ONE_TOKEN,
                             challenge_window=60, challenge_bond=5 * ONE_TOKEN)


def small_task(participants: int = CLIENTS) -> tuple[TaskSpec, torch.Tensor]:
    """An MLP-on-digits FedAvg task (600 s commit and reveal phases) and its initial weights."""
    cfg = SimulationConfig(participants=participants, model="mlp", rule="fedavg", epochs=1,
                           batch_size=32, dataset="digits")
    return build_task(cfg, (1, 8, 8), 10)


@dataclass
class TaskNetwork:
    """A dev network with a published task, its store and its aggregator."""

    dev: DevNetwork
    store: ContentStore
    task: TaskSpec
    task_cid: str
    initial: torch.Tensor
    orchestrator: RoundOrchestrator

    @property
    def chain(self) -> TestChainBackend:
        """The test chain the network lives on (tests move its clock)."""
        backend = self.dev.backend
        assert isinstance(backend, TestChainBackend)
        return backend

    def signer(self, index: int) -> Signer:
        """Registered participant `index` as a `Signer`."""
        account = self.dev.participants[index]
        if isinstance(account, Signer):
            return account
        assert isinstance(account, LocalAccount)
        return Signer(account)

    def data_settings(self, index: int) -> DataSettings:
        """Participant `index`'s seeded IID share of digits."""
        return data_settings(index)


def set_task(dev: DevNetwork, task_hash: bytes, task_cid: str) -> None:
    """Set the registry's task: by proposal where a consortium governs the network."""
    if getattr(dev.network, "governance", None) is None:
        dev.registry.set_task(task_hash, task_cid, sender=dev.admin)
        return
    from ledger.contracts.devgov import govern
    from ledger.contracts.proposals import RegistryActions

    backend = dev.backend
    if isinstance(backend, TestChainBackend):
        # The governor weighs the proposer's votes at clock() - 1; on anvil, blocks mined within
        # one second share a timestamp, so membership granted just now would not count yet.
        backend.mine(backend.now() + 1)
    govern(dev, RegistryActions(dev.registry).set_task(task_hash, task_cid))


def publish_task(dev: DevNetwork, store: ContentStore) -> TaskNetwork:
    """Store the small task, set it on the registry, and build the aggregator for it."""
    task, initial = small_task()
    task_bytes = task.canonical_bytes()
    task_cid = store.put_bytes(task_bytes)
    set_task(dev, task.task_hash(), task_cid)
    orchestrator = RoundOrchestrator(dev.network, dev.aggregator, store, task)
    return TaskNetwork(dev, store, task, task_cid, initial, orchestrator)


def dev_signers(chain: TestChainBackend) -> list[Signer]:
    """The chain's funded dev accounts as `Signer`s."""
    return [Signer(account) for account in chain.dev_accounts()]


def deploy_task_network(chain: TestChainBackend, store: ContentStore) -> TaskNetwork:
    """A fresh dev network (`CLIENTS` registered participants) running the small task."""
    dev = bootstrap_dev_network(chain, dev_signers(chain), NODE_PARAMS, participants=CLIENTS)
    return publish_task(dev, store)


def data_settings(index: int) -> DataSettings:
    """Participant `index`'s seeded IID share of digits."""
    return DataSettings(dataset="digits", partition="iid", clients=CLIENTS, client_index=index,
                        seed=0)


@cache
def _local_data(index: int) -> LocalData:
    from node.bootstrap import load_local_data

    return load_local_data(data_settings(index), small_task()[0])


def make_participant(net: TaskNetwork, index: int, journal_dir: Path) -> Participant:
    """Participant `index` with its data share and a journal under `journal_dir`."""
    from node.bootstrap import journal_path

    signer = net.signer(index)
    data = _local_data(index)
    journal = Journal(journal_path(journal_dir, net.dev.network.info, signer.address),
                      signer.address, net.dev.registry.address)
    return Participant(net.dev.network, signer, net.store, net.task, data, journal)


def write_keystore(path: Path, signer: Signer) -> None:
    """An encrypted keystore of `signer`'s key with the test passphrase (cheap scrypt)."""
    create_keystore(path, PASSPHRASE, private_key=signer.local_account().key,
                    work_factor=TEST_SCRYPT_N)
