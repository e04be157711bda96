"""Node configuration: a full file, defaults, flag overrides, and every refusal names the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ledger.errors import ConfigError
from node.config import (
    ChainSettings,
    DataSettings,
    NodeConfig,
    NodeSettings,
    StoreSettings,
    load_config,
    parse_config,
    render_config,
)

FULL = """
[chain]
rpc_url = "http://127.0.0.1:8545"
network = "net/network.json"

[store]
spec = "store"

[data]
dataset = "csv"
root = "/data/table.csv"
partition = "dirichlet"
clients = 10
client_index = 3
seed = 7
partition_params = { alpha = 0.5 }
loader_options = { label_column = "y" }

[node]
keystore = "keys/node.json"
journal_dir = "/var/lib/fedledger/journal"
device = "cpu"
poll_seconds = 0.5
"""

MINIMAL = """
[chain]
rpc_url = "http://127.0.0.1:8545"
network = "network.json"
[store]
spec = "http://127.0.0.1:5001"
[node]
keystore = "keystore.json"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "node.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_full_file_is_read_with_paths_relative_to_the_file(tmp_path: Path) -> None:
    # Prepare
    path = _write(tmp_path, FULL)

    # Execute
    config = load_config(path)

    # Assert
    assert config == NodeConfig(
        chain=ChainSettings("http://127.0.0.1:8545", tmp_path / "net" / "network.json"),
        store=StoreSettings(str(tmp_path / "store")),
        data=DataSettings(dataset="csv", root=Path("/data/table.csv"), partition="dirichlet",
                          clients=10, client_index=3, seed=7,
                          partition_params={"alpha": 0.5},
                          loader_options={"label_column": "y"}),
        node=NodeSettings(keystore=tmp_path / "keys" / "node.json",
                          journal_dir=Path("/var/lib/fedledger/journal"), device="cpu",
                          poll_seconds=0.5),
        source=path,
    )


def test_minimal_file_gets_documented_defaults(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, MINIMAL))

    assert config.store.spec == "http://127.0.0.1:5001"  # a daemon URL is not a path
    assert config.data == DataSettings()
    assert config.data.dataset is None and config.data.partition == "none"
    assert config.node == NodeSettings(keystore=tmp_path / "keystore.json",
                                       journal_dir=tmp_path / "journal", device="auto",
                                       poll_seconds=2.0)


def test_flags_override_the_file_and_their_paths_follow_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Prepare
    path = _write(tmp_path, MINIMAL)
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    monkeypatch.chdir(workdir)

    # Execute
    config = load_config(path, {
        "chain.rpc_url": ("--rpc-url", "https://rpc.example.org:8545"),
        "store.spec": ("--store", "local-store"),
        "node.device": ("--device", None),  # flag not given: the file's value stays
    })

    # Assert
    assert config.chain.rpc_url == "https://rpc.example.org:8545"
    assert config.store.spec == str(workdir / "local-store")
    assert config.node.device == "auto"


def test_render_config_round_trips(tmp_path: Path) -> None:
    # Prepare
    original = load_config(_write(tmp_path, FULL))
    copy_dir = tmp_path / "copy"
    copy_dir.mkdir()

    # Execute
    again = load_config(_write(copy_dir, render_config(original)))

    # Assert
    assert again.chain == original.chain and again.store == original.store
    assert again.data == original.data and again.node == original.node


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (MINIMAL.replace('rpc_url = "http://127.0.0.1:8545"\n', ""),
         ("{path}: missing key chain.rpc_url (the chain's JSON-RPC URL, e.g. "
         "http://127.0.0.1:8545); add it under [chain] or pass its flag")),
        (MINIMAL.replace('keystore = "keystore.json"\n', ""),
         ("{path}: missing key node.keystore (the encrypted keystore file (`fedledger node "
         "init` creates one)); add it under [node] or pass its flag")),
        (MINIMAL + "[data]\nclients = \"four\"\n",
         "{path}: key data.clients: expected an integer, got string 'four'"),
        (MINIMAL.replace('keystore = "keystore.json"', "keystore = 7"),
         "{path}: key node.keystore: expected a string, got integer 7"),
        (MINIMAL + "poll_seconds = true\n",
         "{path}: key node.poll_seconds: expected a number, got boolean True"),
        (MINIMAL + "poll_seconds = 0\n",
         "{path}: key node.poll_seconds: must be a finite number > 0.0, got 0"),
        (MINIMAL + "[data]\npartiton = \"iid\"\n",
         ("{path}: unknown key data.partiton; known keys in [data]: dataset, root, partition, "
         "clients, client_index, seed, partition_params, loader_options")),
        (MINIMAL + "[training]\nepochs = 3\n",
         ("{path}: unknown section [training]; known sections: [chain], [store], [data], "
         "[node]")),
        (MINIMAL.replace('"http://127.0.0.1:8545"', '"embedded"'),
         ("{path}: key chain.rpc_url: chain RPC URL 'embedded' is not an http:// or https:// "
         "URL with a host (for example http://127.0.0.1:8545)")),
        (MINIMAL + "[data]\nclients = 4\nclient_index = 4\n",
         "{path}: key data.client_index: must be below data.clients (4), got 4"),
        (MINIMAL + "[data]\npartition = \"iid\"\n",
         ("{path}: key data.partition: partition 'iid' needs data.clients (how many parts the "
         "dataset is cut into)")),
        (MINIMAL + "device = \"tpu\"\n",
         "{path}: key node.device: must be auto, cpu, cuda or cuda:N, got 'tpu'"),
        (MINIMAL + "[data]\npartition_params = 0.5\n",
         "{path}: key data.partition_params: expected a table, got float 0.5"),
        ("chain = 3\n", "{path}: key chain must be a table ([chain])"),
    ],
)
def test_bad_values_name_the_file_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    # Prepare
    path = _write(tmp_path, text)

    # Execute / Assert
    with pytest.raises(ConfigError, match=re.escape(message.format(path=path.resolve()))):
        load_config(path)


def test_a_bad_flag_value_names_the_flag(tmp_path: Path) -> None:
    path = _write(tmp_path, MINIMAL)

    with pytest.raises(ConfigError, match=re.escape(
            "flag --poll-seconds: must be a finite number > 0.0, got -1.0")):
        load_config(path, {"node.poll_seconds": ("--poll-seconds", -1.0)})
    with pytest.raises(ConfigError, match=re.escape("flag --x: sets unknown key node.colour")):
        parse_config({}, overrides={"node.colour": ("--x", "red")})


def test_unreadable_files_say_what_to_do(tmp_path: Path) -> None:
    missing = tmp_path / "absent.toml"
    broken = _write(tmp_path, "[chain\nrpc_url = 1")

    with pytest.raises(ConfigError, match=re.escape(
            f"no node configuration at {missing}: create one with `fedledger node init`")):
        load_config(missing)
    with pytest.raises(ConfigError, match=re.escape(f"{broken}: not valid TOML: ")):
        load_config(broken)
