"""Assembling a participant from its configuration: key, chain, network, store, task, data.

Everything a node trusts is checked here once, before the first round: the network file
really describes the chain at the RPC URL (`attach_network`), the task spec fetched from
the store hashes to the registry's task hash, this key is a registered participant, and
the local examples fit the task's model. A node that cannot take part says why at start,
not after an hour of waiting for a round.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from eth_typing import ChecksumAddress
from eth_utils.crypto import keccak
from rich.console import Console

from ledger.chain.base import ChainBackend
from ledger.chain.rpc import RpcChain
from ledger.contracts.deploy import Network, NetworkInfo, attach_network
from ledger.errors import ConfigError, FedLedgerError, IntegrityError
from ledger.formats.task import TaskSpec
from ledger.keys import KeystoreNotFound, Signer, keystore_address, load_keystore
from ledger.store.base import ContentStore
from ledger.store.factory import open_store
from node.attacks import AttackConfig
from node.config import NO_PARTITION, DataSettings, NodeConfig
from node.data.catalog import load_dataset
from node.data.partition import partition_labels
from node.journal import Journal
from node.participant import LocalData, Participant
from node.training.device import resolve_device

#: Task specs are small JSON documents; refuse to download more than this.
MAX_TASK_BYTES = 1 << 20


class NodeStateError(FedLedgerError):
    """The network is not in a state this node can take part in (no task, not registered)."""


def _no_keystore(path: Path) -> KeystoreNotFound:
    return KeystoreNotFound(
        f"no keystore at {path}: create one with `fedledger node init` (new key) or "
        "`fedledger node import-key` (existing key)"
    )


def load_signer(path: Path, passphrase: str) -> Signer:
    """Decrypt the node's keystore; a missing file says which command creates one."""
    try:
        return load_keystore(path, passphrase)
    except KeystoreNotFound:
        raise _no_keystore(path) from None


def node_address(path: Path) -> ChecksumAddress:
    """The keystore's address, read without the passphrase (for `node status`)."""
    try:
        return keystore_address(path)
    except KeystoreNotFound:
        raise _no_keystore(path) from None


def journal_path(journal_dir: Path, network: NetworkInfo, address: str) -> Path:
    """One journal per (chain, registry, participant): never mixes two networks' rounds."""
    return journal_dir / f"{network.chain_id}-{network.registry.lower()}-{address.lower()}.json"


def fetch_task(network: Network, store: ContentStore) -> tuple[TaskSpec, str]:
    """The task spec in force, fetched by CID and checked against the registry's hash."""
    info = network.registry.task()
    if info.task_hash == bytes(32) or not info.task_cid:
        raise NodeStateError(
            f"registry {network.registry.address} has no task yet: wait for governance to "
            "set one (setTask)"
        )
    data = store.get_bytes(info.task_cid, max_size=MAX_TASK_BYTES)
    digest = keccak(data)
    if digest != info.task_hash:
        raise IntegrityError(
            f"task spec {info.task_cid} hashes to 0x{digest.hex()}, the registry says "
            f"0x{info.task_hash.hex()}: refusing to train for it"
        )
    return TaskSpec.from_json(data), info.task_cid


def load_local_data(settings: DataSettings, task: TaskSpec) -> LocalData:
    """This node's training examples, checked against the task's model input."""
    name = settings.dataset or task.dataset
    dataset = load_dataset(name, settings.root, **dict(settings.loader_options))
    expected = tuple(int(d) for d in task.model_kwargs["input_shape"])  # type: ignore[attr-defined]
    if tuple(dataset.input_shape) != expected:
        raise ConfigError(
            f"dataset {dataset.name!r} has samples of shape {tuple(dataset.input_shape)}, the "
            f"task's model {task.model!r} expects {expected}: set data.loader_options "
            "(e.g. input_shape) or use the task's dataset"
        )
    classes = int(task.model_kwargs["num_classes"])  # type: ignore[call-overload]
    if dataset.num_classes > classes:
        raise ConfigError(
            f"dataset {dataset.name!r} has {dataset.num_classes} classes, the task's model "
            f"outputs {classes}"
        )
    if settings.partition == NO_PARTITION:
        return LocalData(dataset.x_train, dataset.y_train)
    split = partition_labels(settings.partition, dataset.y_train, settings.clients,
                             seed=settings.seed, **dict(settings.partition_params))
    index = torch.as_tensor(split.client_indices[settings.client_index], dtype=torch.long)
    return LocalData(dataset.x_train[index], dataset.y_train[index])


@dataclass
class NodeSession:
    """What a running node holds open; `close()` releases the chain connection."""

    config: NodeConfig
    backend: ChainBackend
    network: Network
    store: ContentStore
    task: TaskSpec
    task_cid: str
    participant: Participant
    device: torch.device
    owns_backend: bool = True

    def close(self) -> None:
        """Close the chain connection if this session opened it."""
        if self.owns_backend:
            self.backend.close()


def open_chain_url(url: str) -> ChainBackend:
    """A JSON-RPC chain backend (the only kind a node shares with other processes)."""
    return RpcChain(url)


def open_network(config: NodeConfig, backend: ChainBackend) -> Network:
    """Attach to the network the config's network file describes, on `backend`."""
    return attach_network(backend, NetworkInfo.load(config.chain.network))


def open_node(
    config: NodeConfig,
    signer: Signer,
    *,
    console: Console | None = None,
    progress: bool = False,
    attack: AttackConfig | None = None,
    backend: ChainBackend | None = None,
) -> NodeSession:
    """Connect, check and assemble everything a participant needs (see the module docstring).

    `backend` lets a caller pass an open chain (tests, the simulation); otherwise the
    config's RPC URL is opened and closed with the session.
    """
    device = resolve_device(config.node.device)
    owned = backend is None
    chain = open_chain_url(config.chain.rpc_url) if backend is None else backend
    try:
        network = open_network(config, chain)
        store = open_store(config.store.spec)
        member = network.registry.participant(signer.address)
        if not member.active:
            state = "was removed" if member.removed else "is not registered"
            raise NodeStateError(
                f"{signer.address} {state} on registry {network.registry.address}: "
                "register with a stake (or ask governance to admit it) before running a node"
            )
        task, task_cid = fetch_task(network, store)
        data = load_local_data(config.data, task)
        journal = Journal(journal_path(config.node.journal_dir, network.info, signer.address),
                          signer.address, network.registry.address)
        participant = Participant(network, signer, store, task, data, journal, device=device,
                                  attack=attack, progress=progress, console=console)
    except BaseException:
        if owned:
            chain.close()
        raise
    return NodeSession(config, chain, network, store, task, task_cid, participant, device,
                       owns_backend=owned)


__all__ = [
    "MAX_TASK_BYTES",
    "NodeSession",
    "NodeStateError",
    "fetch_task",
    "journal_path",
    "load_local_data",
    "load_signer",
    "node_address",
    "open_chain_url",
    "open_network",
    "open_node",
]
