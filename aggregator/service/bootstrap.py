"""Turning `ServiceSettings` into a running `ServiceContext`: connect, attach, verify, load.

Start-up checks everything it can before serving, so a misconfigured service stops
with one clear error instead of failing its first round: the network file matches the
chain, the key is the appointed aggregator's, the task spec fetched from the store
hashes to the task on chain, and the initial weights hash to the task's
`initial_model_hash`. The aggregator's validation split is the test split of the
task's dataset (the same data the demo and the benchmarks evaluate on).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path

import torch
from eth_utils.crypto import keccak

from aggregator.orchestrator import Evaluator, RoundOrchestrator
from aggregator.service.context import ServiceContext
from aggregator.service.ledger_view import LedgerView
from aggregator.service.loop import RoundLoop
from aggregator.service.metrics import ServiceMetrics
from aggregator.service.settings import (
    ENV_AGGREGATOR_KEY,
    ENV_AGGREGATOR_PASSPHRASE,
    ServiceSettings,
)
from ledger.chain.base import ChainBackend, TxSigner
from ledger.chain.factory import open_chain
from ledger.contracts.deploy import Network, NetworkInfo, attach_network
from ledger.errors import ConfigError, IntegrityError
from ledger.formats.model import decode_model
from ledger.formats.task import TaskSpec
from ledger.keys import Signer, load_keystore
from ledger.store.base import ContentStore
from ledger.store.factory import open_store
from ledger.weights import weights_hash

MAX_TASK_BYTES = 4 * 1024 * 1024


def load_signer(settings: ServiceSettings, env: Mapping[str, str]) -> Signer:
    """The aggregator's key: a keystore (passphrase from the environment) or a dev hex key."""
    if settings.keystore is not None:
        passphrase = env.get(ENV_AGGREGATOR_PASSPHRASE)
        if passphrase is None:
            raise ConfigError(
                f"keystore {settings.keystore} needs its passphrase in {ENV_AGGREGATOR_PASSPHRASE}"
            )
        return load_keystore(settings.keystore, passphrase)
    raw = env.get(ENV_AGGREGATOR_KEY)
    if not raw:
        raise ConfigError(
            f"no aggregator key: give --keystore (passphrase in {ENV_AGGREGATOR_PASSPHRASE}) "
            f"or, on a dev chain, the hex private key in {ENV_AGGREGATOR_KEY}"
        )
    try:
        return Signer.from_key(raw.strip())
    except (ValueError, TypeError, ConfigError) as exc:
        raise ConfigError(f"{ENV_AGGREGATOR_KEY} is not a 32-byte hex private key ({exc})"
                          ) from exc


def fetch_task(network: Network, store: ContentStore) -> TaskSpec:
    """The task spec on chain, fetched by CID and checked against its on-chain hash."""
    info = network.registry.task()
    if info.task_hash == bytes(32):
        raise ConfigError(f"registry {network.registry.address} has no task yet: governance "
                          "must publish one (setTask) before the aggregator can run rounds")
    data = store.get_bytes(info.task_cid, max_size=MAX_TASK_BYTES)
    if keccak(data) != info.task_hash:
        raise IntegrityError(f"the task spec at {info.task_cid} hashes to 0x{keccak(data).hex()}, "
                             f"the chain's taskHash is 0x{info.task_hash.hex()}")
    return TaskSpec.from_json(data)


def initial_vector(task: TaskSpec, model_file: Path | None) -> torch.Tensor:
    """Round 0's weights: from `model_file`, or re-derived from the task's architecture and seed.

    Either way they must hash to the task's `initial_model_hash`.
    """
    if model_file is not None:
        try:
            data = model_file.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read the initial model {model_file}: {exc}") from exc
        vector = decode_model(data, task.layout, None, task.task_hash()).vector
        source = str(model_file)
    else:
        from node.models import initial_state

        state = initial_state(task.model, seed=task.training.seed, **dict(task.model_kwargs))  # type: ignore[arg-type]
        vector = task.layout.flatten(state)
        source = f"{task.model} seeded with the task's training seed {task.training.seed}"
    if weights_hash(vector) != task.initial_model_hash:
        raise ConfigError(
            f"the initial weights ({source}) do not hash to the task's initial_model_hash: "
            "pass --initial-model with the model file the task was published with"
        )
    return vector


def dataset_evaluator(task: TaskSpec) -> Evaluator:
    """Loss and accuracy on the test split of the task's dataset.

    Evaluated on the CPU on purpose, even where CUDA exists: the numbers are published
    in the round report, and anyone re-evaluating the published model should get the
    same digits; the evaluation of a small validation split is not worth a GPU anyway.
    """
    from node.data.catalog import load_dataset
    from node.training.evaluation import evaluate

    dataset = load_dataset(task.dataset)
    kwargs = dict(task.model_kwargs)

    def evaluator(state: dict[str, torch.Tensor]) -> tuple[float, float]:
        result = evaluate(task.model, kwargs, state, dataset.x_test, dataset.y_test,
                          device="cpu")
        return result.loss, result.accuracy

    return evaluator


def assemble(
    settings: ServiceSettings,
    network: Network,
    store: ContentStore,
    signer: TxSigner,
    *,
    evaluator: Evaluator | None,
    initial: torch.Tensor | None,
    task: TaskSpec | None = None,
    owns_connections: bool = False,
) -> ServiceContext:
    """Wire a context from open connections (tests call this with the embedded chain)."""
    appointed = network.registry.aggregator()
    if appointed != signer.address:
        raise ConfigError(f"the key is {signer.address} but the registry's aggregator is "
                          f"{appointed}: governance must appoint this account first")
    task = task if task is not None else fetch_task(network, store)
    gate = threading.RLock()
    metrics = ServiceMetrics()
    orchestrator = RoundOrchestrator(network, signer, store, task, evaluator=evaluator)
    loop = RoundLoop(orchestrator, gate, metrics, rounds=settings.rounds or task.rounds,
                     poll_seconds=settings.poll_seconds, auto_open=settings.auto_open,
                     initial_vector=initial)
    view = LedgerView(network, store, task, gate)
    return ServiceContext(settings=settings, network=network, store=store,
                          aggregator=signer.address, loop=loop, view=view, metrics=metrics,
                          gate=gate, owns_connections=owns_connections)


def build_context(settings: ServiceSettings, env: Mapping[str, str] | None = None
                  ) -> ServiceContext:
    """Open the chain and store `settings` name and build the service around them."""
    environ = os.environ if env is None else env
    signer = load_signer(settings, environ)
    info = NetworkInfo.load(settings.network)
    backend: ChainBackend = open_chain(settings.chain)
    try:
        store = open_store(settings.store)
        try:
            network = attach_network(backend, info)
            task = fetch_task(network, store)
            initial = initial_vector(task, settings.initial_model)
            return assemble(settings, network, store, signer, evaluator=dataset_evaluator(task),
                            initial=initial, task=task, owns_connections=True)
        except BaseException:
            store.close()
            raise
    except BaseException:
        backend.close()
        raise
