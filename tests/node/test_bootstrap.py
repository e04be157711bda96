"""Start-up checks of a node: keystore, local data against the task, the task against the chain."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from eth_utils.crypto import keccak

from ledger.chain.base import TestChainBackend
from ledger.errors import ConfigError, IntegrityError
from ledger.keys import KeystoreNotFound, WrongPassphrase
from ledger.store.disk import DiskStore
from node.bootstrap import NodeStateError, fetch_task, load_local_data, load_signer
from node.config import DataSettings
from node.data.errors import DatasetFormatError
from tests.node.node_kit import (
    NODE_PARAMS,
    PASSPHRASE,
    data_settings,
    dev_signers,
    publish_task,
    set_task,
    small_task,
    write_keystore,
)


def test_missing_keystore_says_which_command_creates_one(tmp_path: Path) -> None:
    path = tmp_path / "absent.json"

    with pytest.raises(KeystoreNotFound, match=re.escape(
            f"no keystore at {path}: create one with `fedledger node init` (new key) or "
            "`fedledger node import-key` (existing key)")):
        load_signer(path, PASSPHRASE)


def test_wrong_passphrase_is_refused_and_the_right_one_opens_the_key(tmp_path: Path) -> None:
    # Prepare
    from ledger.keys import Signer

    signer = Signer.from_key(bytes(range(1, 33)))
    path = tmp_path / "keystore.json"
    write_keystore(path, signer)

    # Execute / Assert
    with pytest.raises(WrongPassphrase, match=re.escape(f"wrong passphrase for keystore {path}")):
        load_signer(path, "not the passphrase")
    assert load_signer(path, PASSPHRASE).address == signer.address


def test_corrupt_dataset_file_is_named_with_its_line(tmp_path: Path) -> None:
    # Prepare: a CSV of 64 features per digit image with one broken cell
    task, _ = small_task()
    header = "label," + ",".join(f"p{i}" for i in range(64))
    good = "3," + ",".join("0.5" for _ in range(64))
    bad = "4," + ",".join(["0.5"] * 10 + ["abc"] + ["0.5"] * 53)
    table = tmp_path / "table.csv"
    table.write_text(f"{header}\n{good}\n{bad}\n{good}\n")
    settings = DataSettings(dataset="csv", root=table,
                            loader_options={"input_shape": [1, 8, 8]})

    # Execute / Assert
    with pytest.raises(DatasetFormatError, match=re.escape(
            f"{table}: line 3: non-numeric feature (could not convert string to float: "
            "'abc')")):
        load_local_data(settings, task)


def test_dataset_that_does_not_fit_the_task_model_is_refused(tmp_path: Path) -> None:
    # Prepare: the same table read as flat 64-feature rows, while the task's MLP wants 1x8x8
    task, _ = small_task()
    rows = ["label," + ",".join(f"p{i}" for i in range(64))]
    rows += [f"{i % 2}," + ",".join("0.25" for _ in range(64)) for i in range(20)]
    table = tmp_path / "table.csv"
    table.write_text("\n".join(rows) + "\n")

    # Execute / Assert
    with pytest.raises(ConfigError, match=re.escape(
            "has samples of shape (64,), the task's model 'mlp' expects (1, 8, 8)")):
        load_local_data(DataSettings(dataset="csv", root=table), task)


def test_partitioned_data_is_this_clients_share() -> None:
    task, _ = small_task()

    shares = [load_local_data(data_settings(i), task) for i in range(4)]
    whole = load_local_data(DataSettings(), task)

    assert sum(len(s.y) for s in shares) == len(whole.y) == 1_438
    assert [len(s.y) for s in shares] == [360, 360, 359, 359]
    assert not torch.equal(shares[0].x[:359], shares[1].x[:359])


def test_task_fetch_needs_a_task_and_checks_it_against_the_registry_hash(
    embedded_chain: TestChainBackend, tmp_path: Path
) -> None:
    # Prepare: a network without a task yet
    from ledger.contracts.deploy import bootstrap_dev_network

    snapshot = embedded_chain.snapshot()
    try:
        store = DiskStore(tmp_path / "store")
        dev = bootstrap_dev_network(embedded_chain, dev_signers(embedded_chain), NODE_PARAMS,
                                    participants=1)

        # Execute / Assert: no task
        with pytest.raises(NodeStateError, match=re.escape(
                f"registry {dev.registry.address} has no task yet: wait for governance to set "
                "one (setTask)")):
            fetch_task(dev.network, store)

        # Execute / Assert: the task, then a CID holding other bytes than the hash
        net = publish_task(dev, store)
        fetched, cid = fetch_task(dev.network, store)
        forged = b'{"format":"not the task"}'
        forged_cid = store.put_bytes(forged)
        set_task(dev, net.task.task_hash(), forged_cid)
        with pytest.raises(IntegrityError, match=re.escape(
                f"task spec {forged_cid} hashes to 0x{keccak(forged).hex()}, the registry "
                f"says 0x{net.task.task_hash().hex()}: refusing to train for it")):
            fetch_task(dev.network, store)
        assert fetched == net.task and cid == net.task_cid
    finally:
        embedded_chain.revert(snapshot)
