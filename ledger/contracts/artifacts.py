"""Compiled contract artifacts (ABI + bytecode), as committed and shipped with the package.

The runtime never compiles Solidity: it deploys and calls contracts from the JSON written by
`scripts/compile_contracts.py`, and a test proves that JSON matches the sources. The files live
inside the package (`ledger/contracts/compiled/<Name>.json`) rather than in the top-level
`contracts/` folder so that an installed wheel carries them; they are read through
`importlib.resources`, which works from a checkout, a wheel or a zip alike.

This module also owns the one canonical JSON form of an artifact, so the compile script and the
freshness test agree byte for byte on what "the same artifact" means.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from typing import Any

from ledger.errors import ConfigError, FormatError

__all__ = [
    "ARTIFACTS_PACKAGE",
    "ARTIFACTS_SUBDIR",
    "ArtifactNotFound",
    "ContractArtifact",
    "artifact_from_json",
    "artifact_names",
    "artifact_to_json",
    "freeze_json",
    "load_artifact",
    "thaw_json",
]

#: Package holding the artifact folder, and the folder's name inside it.
ARTIFACTS_PACKAGE = "ledger.contracts"
ARTIFACTS_SUBDIR = "compiled"

_REQUIRED_KEYS = (
    "contractName",
    "sourceName",
    "abi",
    "bytecode",
    "deployedBytecode",
    "compiler",
    "settings",
    "sources",
)


class ArtifactNotFound(ConfigError):
    """No committed artifact exists under the requested contract name."""


def freeze_json(value: Any) -> Any:
    """Return a read-only deep copy of JSON data (mappings become MappingProxyType, lists tuples)."""
    if isinstance(value, Mapping):
        return MappingProxyType({k: freeze_json(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(freeze_json(v) for v in value)
    return value


def thaw_json(value: Any) -> Any:
    """Inverse of `freeze_json`: plain dicts and lists, ready for `json.dumps` or web3."""
    if isinstance(value, Mapping):
        return {k: thaw_json(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw_json(v) for v in value]
    return value


@dataclass(frozen=True)
class ContractArtifact:
    """One deployable contract as compiled: what a binding needs to deploy it and talk to it.

    `bytecode` is the creation code and `deployed_bytecode` the runtime code, both `0x`-prefixed
    hex. `compiler` is the full solc version string; `settings` the standard-JSON settings used
    (evmVersion, optimizer, metadata); `sources` maps every source file the contract depends on to
    the keccak256 of its content, so a reader can tell which sources produced the bytecode.
    """

    name: str
    abi: tuple[Mapping[str, Any], ...]
    bytecode: str
    deployed_bytecode: str
    compiler: str
    settings: Mapping[str, Any]
    source_name: str = ""
    sources: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def abi_list(self) -> list[dict[str, Any]]:
        """The ABI as plain lists and dicts (what `web3.eth.contract(abi=...)` expects)."""
        result: list[dict[str, Any]] = thaw_json(self.abi)
        return result

    def abi_entry(self, kind: str, name: str) -> Mapping[str, Any]:
        """The ABI entry of type `kind` ('function', 'event', 'error') named `name`.

        Raises
        ------
        KeyError
            If the contract has no such entry.
        """
        for entry in self.abi:
            if entry.get("type") == kind and entry.get("name") == name:
                return entry
        raise KeyError(f"{self.name} has no {kind} named {name!r}")


def artifact_to_json(artifact: ContractArtifact) -> str:
    """The canonical text of `artifact`: sorted keys, two-space indent, trailing newline.

    The compile script writes exactly this text, and `--check` compares against it byte for byte.
    """
    document = {
        "contractName": artifact.name,
        "sourceName": artifact.source_name,
        "abi": thaw_json(artifact.abi),
        "bytecode": artifact.bytecode,
        "deployedBytecode": artifact.deployed_bytecode,
        "compiler": {"name": "solc", "version": artifact.compiler},
        "settings": thaw_json(artifact.settings),
        "sources": {path: {"keccak256": digest} for path, digest in sorted(artifact.sources.items())},
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def _require_hex(value: Any, what: str, name: str) -> str:
    if not isinstance(value, str) or not value.startswith("0x") or len(value) < 4:
        raise FormatError(f"artifact {name}: {what} must be a non-empty 0x-prefixed hex string")
    try:
        bytes.fromhex(value[2:])
    except ValueError as exc:
        raise FormatError(f"artifact {name}: {what} is not valid hex ({exc})") from exc
    return value


def artifact_from_json(text: str, *, origin: str = "<text>") -> ContractArtifact:
    """Parse and validate the canonical JSON of an artifact.

    Raises
    ------
    FormatError
        If `text` is not JSON, lacks a required key, or has a malformed ABI or bytecode;
        the message names `origin` and the offending field.
    """
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(f"artifact {origin} is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise FormatError(f"artifact {origin} must be a JSON object, got {type(document).__name__}")
    missing = [key for key in _REQUIRED_KEYS if key not in document]
    if missing:
        raise FormatError(f"artifact {origin} lacks {', '.join(missing)}: regenerate it with "
                          "`python scripts/compile_contracts.py`")
    name = document["contractName"]
    if not isinstance(name, str) or not name:
        raise FormatError(f"artifact {origin}: contractName must be a non-empty string")
    abi = document["abi"]
    if not isinstance(abi, list) or not all(isinstance(e, dict) and "type" in e for e in abi):
        raise FormatError(f"artifact {name}: abi must be a list of objects with a 'type'")
    compiler = document["compiler"]
    if not isinstance(compiler, dict) or not isinstance(compiler.get("version"), str):
        raise FormatError(f"artifact {name}: compiler.version must be a string")
    settings = document["settings"]
    if not isinstance(settings, dict):
        raise FormatError(f"artifact {name}: settings must be an object")
    sources = document["sources"]
    if not isinstance(sources, dict) or not all(
        isinstance(v, dict) and isinstance(v.get("keccak256"), str) for v in sources.values()
    ):
        raise FormatError(f"artifact {name}: sources must map paths to {{'keccak256': hex}}")
    return ContractArtifact(
        name=name,
        abi=freeze_json(abi),
        bytecode=_require_hex(document["bytecode"], "bytecode", name),
        deployed_bytecode=_require_hex(document["deployedBytecode"], "deployedBytecode", name),
        compiler=compiler["version"],
        settings=freeze_json(settings),
        source_name=str(document["sourceName"]),
        sources=MappingProxyType({path: v["keccak256"] for path, v in sources.items()}),
    )


def _artifact_dir() -> resources.abc.Traversable:
    return resources.files(ARTIFACTS_PACKAGE).joinpath(ARTIFACTS_SUBDIR)


def artifact_names() -> tuple[str, ...]:
    """Names of every committed artifact, sorted."""
    directory = _artifact_dir()
    if not directory.is_dir():
        return ()
    return tuple(sorted(entry.name[: -len(".json")] for entry in directory.iterdir()
                        if entry.name.endswith(".json")))


def load_artifact(name: str) -> ContractArtifact:
    """Load the committed artifact of contract `name` (e.g. "TrainingRegistry").

    Raises
    ------
    ArtifactNotFound
        If no artifact of that name ships with the package (the message lists those that do).
    FormatError
        If the file exists but is malformed.
    """
    if not name or not name.isidentifier():
        raise ArtifactNotFound(f"{name!r} is not a contract name; known: {', '.join(artifact_names())}")
    entry = _artifact_dir().joinpath(f"{name}.json")
    if not entry.is_file():
        raise ArtifactNotFound(
            f"no compiled artifact for contract {name!r} (known: {', '.join(artifact_names()) or 'none'}); "
            "run `python scripts/compile_contracts.py` if you added the contract"
        )
    artifact = artifact_from_json(entry.read_text(encoding="utf-8"), origin=f"{name}.json")
    if artifact.name != name:
        raise FormatError(f"artifact file {name}.json holds contract {artifact.name!r}")
    return artifact
