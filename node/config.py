"""A participant node's configuration: one TOML file, checked whole before anything starts.

An operator writes the file once (`fedledger node init` drafts it) and overrides single
values with flags. Every value is checked here, at load time, so a typo or a wrong type
stops the node with a message naming the file (or the flag) and the key, instead of
surfacing as a stray TypeError rounds later. Relative paths in the file are resolved
against the file's own folder, so the node runs the same from any working directory;
paths given as flags are taken relative to the working directory, as a shell user
expects.

The node talks to the chain over JSON-RPC only: an in-process chain cannot be shared
with the aggregator or other participants, which live in other processes.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ledger.chain.rpc import validate_rpc_url
from ledger.errors import ConfigError

CONFIG_FILE = "fedledger-node.toml"
#: `data.partition` value meaning "train on the whole training split" (the usual case for a
#: real organisation, whose own data already is its partition).
NO_PARTITION = "none"
DEVICES = ("auto", "cpu", "cuda")

# section -> key -> (expected type description, required?)
_SCHEMA: dict[str, dict[str, tuple[str, bool]]] = {
    "chain": {"rpc_url": ("string", True), "network": ("path", True)},
    "store": {"spec": ("string", True)},
    "data": {
        "dataset": ("string", False),
        "root": ("path", False),
        "partition": ("string", False),
        "clients": ("integer", False),
        "client_index": ("integer", False),
        "seed": ("integer", False),
        "partition_params": ("table", False),
        "loader_options": ("table", False),
    },
    "node": {
        "keystore": ("path", True),
        "journal_dir": ("path", False),
        "device": ("string", False),
        "poll_seconds": ("number", False),
    },
}
_HINTS = {
    "chain.rpc_url": "the chain's JSON-RPC URL, e.g. http://127.0.0.1:8545",
    "chain.network": "the network file (NetworkInfo JSON) the network's deployer published",
    "store.spec": "a store directory, embedded:<dir>, or an IPFS RPC URL such as "
    "http://127.0.0.1:5001",
    "node.keystore": "the encrypted keystore file (`fedledger node init` creates one)",
}


@dataclass(frozen=True)
class ChainSettings:
    """Where the network lives: a JSON-RPC endpoint and the network file naming its contracts."""

    rpc_url: str
    network: Path


@dataclass(frozen=True)
class StoreSettings:
    """The content store spec (see `ledger.store.factory.open_store`)."""

    spec: str


@dataclass(frozen=True)
class DataSettings:
    """Which local examples this node trains on.

    `dataset` None means "the dataset the task spec names". With `partition` other than
    ``"none"`` the training split is cut into `clients` parts by the named partitioner
    (seeded) and this node keeps part `client_index`: how test networks and evaluations
    give each participant a different, reproducible, non-IID share of one dataset.
    """

    dataset: str | None = None
    root: Path | None = None
    partition: str = NO_PARTITION
    clients: int = 1
    client_index: int = 0
    seed: int = 0
    partition_params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    loader_options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class NodeSettings:
    """The node's own files and how it runs."""

    keystore: Path
    journal_dir: Path
    device: str = "auto"
    poll_seconds: float = 2.0


@dataclass(frozen=True)
class NodeConfig:
    """A whole, checked node configuration; `source` is the file it came from (if any)."""

    chain: ChainSettings
    store: StoreSettings
    data: DataSettings
    node: NodeSettings
    source: Path | None = None


class _Reader:
    """Reads one checked value at a time and names its origin in every error."""

    def __init__(self, raw: Mapping[str, Any], path: Path | None, base: Path,
                 flags: Mapping[str, str]) -> None:
        self.raw = raw
        self.source = path
        self.base = base
        self.flags = flags  # "section.key" -> the flag that set it

    def where(self, key: str) -> str:
        flag = self.flags.get(key)
        if flag is not None:
            return f"flag {flag}"
        return f"{self.source or '<config>'}: key {key}"

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.where(key)}: {problem}")

    def get(self, key: str) -> Any:
        section, name = key.split(".", 1)
        value = self.raw.get(section, {}).get(name)
        if value is None and _SCHEMA[section][name][1]:
            hint = _HINTS.get(key, "")
            raise ConfigError(
                f"{self.source or '<config>'}: missing key {key}"
                + (f" ({hint})" if hint else "")
                + f"; add it under [{section}] or pass its flag"
            )
        return value

    def string(self, key: str, default: str | None = None) -> str | None:
        value = self.get(key)
        if value is None:
            return default
        if not isinstance(value, str):
            raise self.fail(key, f"expected a string, got {_kind(value)} {value!r}")
        if not value.strip():
            raise self.fail(key, "must not be empty")
        return value

    def path(self, key: str, default: Path | None = None) -> Path | None:
        text = self.string(key)
        if text is None:
            return default
        candidate = Path(text).expanduser()
        if candidate.is_absolute():
            return candidate
        return (Path.cwd() if key in self.flags else self.base) / candidate

    def integer(self, key: str, default: int, low: int, high: int | None = None) -> int:
        value = self.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"expected an integer, got {_kind(value)} {value!r}")
        if value < low or (high is not None and value > high):
            limit = f">= {low}" if high is None else f"in [{low}, {high}]"
            raise self.fail(key, f"must be {limit}, got {value}")
        return value

    def number(self, key: str, default: float, low: float) -> float:
        value = self.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, f"expected a number, got {_kind(value)} {value!r}")
        if not math.isfinite(value) or value <= low:
            raise self.fail(key, f"must be a finite number > {low}, got {value}")
        return float(value)

    def table(self, key: str) -> Mapping[str, Any]:
        value = self.get(key)
        if value is None:
            return MappingProxyType({})
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a table, got {_kind(value)} {value!r}")
        return MappingProxyType(dict(value))


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "table"
    if isinstance(value, list):
        return "array"
    return type(value).__name__


def _check_layout(raw: Mapping[str, Any], path: Path | None) -> None:
    origin = path or "<config>"
    for section, body in raw.items():
        if section not in _SCHEMA:
            raise ConfigError(
                f"{origin}: unknown section [{section}]; known sections: "
                f"{', '.join(f'[{s}]' for s in _SCHEMA)}"
            )
        if not isinstance(body, dict):
            raise ConfigError(f"{origin}: key {section} must be a table ([{section}])")
        for name in body:
            if name not in _SCHEMA[section]:
                raise ConfigError(
                    f"{origin}: unknown key {section}.{name}; known keys in [{section}]: "
                    f"{', '.join(_SCHEMA[section])}"
                )


def parse_config(raw: Mapping[str, Any], *, path: Path | None = None,
                 overrides: Mapping[str, tuple[str, Any]] | None = None) -> NodeConfig:
    """Check a parsed TOML document (plus flag overrides) and build the `NodeConfig`.

    Parameters
    ----------
    raw
        The document as `tomllib` returns it.
    path
        The file it came from: errors name it, relative paths resolve against its folder.
    overrides
        ``"section.key" -> (flag name, value)`` for values given on the command line;
        a None value means "flag not given".
    """
    _check_layout(raw, path)
    merged: dict[str, dict[str, Any]] = {s: dict(raw.get(s, {})) for s in _SCHEMA}
    flags: dict[str, str] = {}
    for key, (flag, value) in (overrides or {}).items():
        section, name = key.split(".", 1)
        if section not in _SCHEMA or name not in _SCHEMA[section]:
            raise ConfigError(f"flag {flag}: sets unknown key {key}")
        if value is not None:
            merged[section][name] = value
            flags[key] = flag
    base = path.parent if path is not None else Path.cwd()
    r = _Reader(merged, path, base, flags)

    rpc_url = r.string("chain.rpc_url")
    assert rpc_url is not None
    try:
        validate_rpc_url(rpc_url)
    except ConfigError as exc:
        raise r.fail("chain.rpc_url", str(exc)) from None
    network = r.path("chain.network")
    spec = r.string("store.spec")
    keystore = r.path("node.keystore")
    assert network is not None and spec is not None and keystore is not None
    if not spec.startswith(("http://", "https://", "/ip4/", "/ip6/", "/dns")):
        spec_path = r.path("store.spec") if not spec.startswith("embedded:") else None
        if spec_path is not None:
            spec = str(spec_path)

    partition = r.string("data.partition", NO_PARTITION)
    assert partition is not None
    clients = r.integer("data.clients", 1, 1, 1_000_000)
    if partition != NO_PARTITION and r.get("data.clients") is None:
        raise ConfigError(
            f"{r.where('data.partition')}: partition {partition!r} needs data.clients "
            "(how many parts the dataset is cut into)"
        )
    client_index = r.integer("data.client_index", 0, 0)
    if client_index >= clients:
        raise r.fail("data.client_index", f"must be below data.clients ({clients}), got "
                                          f"{client_index}")
    data = DataSettings(
        dataset=r.string("data.dataset"),
        root=r.path("data.root"),
        partition=partition,
        clients=clients,
        client_index=client_index,
        seed=r.integer("data.seed", 0, 0, 2**32 - 1),
        partition_params=r.table("data.partition_params"),
        loader_options=r.table("data.loader_options"),
    )

    device = r.string("node.device", "auto")
    assert device is not None
    if device not in DEVICES and not (device.startswith("cuda:") and device[5:].isdigit()):
        raise r.fail("node.device", f"must be auto, cpu, cuda or cuda:N, got {device!r}")
    journal_dir = r.path("node.journal_dir", base / "journal")
    assert journal_dir is not None
    node = NodeSettings(
        keystore=keystore,
        journal_dir=journal_dir,
        device=device,
        poll_seconds=r.number("node.poll_seconds", 2.0, 0.0),
    )
    return NodeConfig(ChainSettings(rpc_url, network), StoreSettings(spec), data, node,
                      source=path)


def load_config(path: Path, overrides: Mapping[str, tuple[str, Any]] | None = None
                ) -> NodeConfig:
    """Read and check the TOML file at `path` (see `parse_config` for `overrides`)."""
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"no node configuration at {path}: create one with `fedledger node init`"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read node configuration {path}: {exc}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(raw, path=path.resolve(), overrides=overrides)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, Path):
        return json.dumps(str(value))
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise ConfigError(f"cannot write {type(value).__name__} {value!r} to TOML")


def render_config(config: NodeConfig) -> str:
    """The TOML text of `config`, with a comment per key (what `node init` writes)."""
    c = config
    lines = [
        "# fedledger participant node (docs/node.md lists every key)",
        "",
        "[chain]",
        "# JSON-RPC endpoint of the network's chain",
        f"rpc_url = {_toml_value(c.chain.rpc_url)}",
        "# network file (chain id, token and registry addresses) published by the deployer",
        f"network = {_toml_value(c.chain.network)}",
        "",
        "[store]",
        "# content store: a directory, embedded:<dir>, or an IPFS RPC URL",
        f"spec = {_toml_value(c.store.spec)}",
        "",
        "[data]",
    ]
    if c.data.dataset is not None:
        lines.append(f"dataset = {_toml_value(c.data.dataset)}")
    else:
        lines.append("# dataset = \"digits\"   # default: the dataset the task spec names")
    if c.data.root is not None:
        lines.append(f"root = {_toml_value(c.data.root)}")
    lines += [
        "# 'none' trains on the whole training split; or iid, dirichlet, shards, ...",
        f"partition = {_toml_value(c.data.partition)}",
        f"clients = {c.data.clients}",
        f"client_index = {c.data.client_index}",
        f"seed = {c.data.seed}",
    ]
    if c.data.partition_params:
        lines.append(f"partition_params = {_toml_value(dict(c.data.partition_params))}")
    if c.data.loader_options:
        lines.append(f"loader_options = {_toml_value(dict(c.data.loader_options))}")
    lines += [
        "",
        "[node]",
        "# encrypted keystore (Web3 Secret Storage v3); its passphrase is never stored here",
        f"keystore = {_toml_value(c.node.keystore)}",
        f"journal_dir = {_toml_value(c.node.journal_dir)}",
        "# auto (CUDA when present), cpu, cuda or cuda:N",
        f"device = {_toml_value(c.node.device)}",
        f"poll_seconds = {_toml_value(c.node.poll_seconds)}",
        "",
    ]
    return "\n".join(lines)


__all__ = [
    "CONFIG_FILE",
    "DEVICES",
    "NO_PARTITION",
    "ChainSettings",
    "DataSettings",
    "NodeConfig",
    "NodeSettings",
    "StoreSettings",
    "load_config",
    "parse_config",
    "render_config",
]
