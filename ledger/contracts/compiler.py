"""Compile fedledger's Solidity sources into `ContractArtifact`s (a developer tool, not runtime).

The compiler is the npm package `solc` (solc-js), driven through py-solc-x's `compile_standard`
with `scripts/solcjs-wrapper` as the solc binary: `solcx.install_solc` needs the internet, the npm
package does not. Sources go in the standard-JSON input by content (so what is hashed is what is
compiled); OpenZeppelin imports (`@openzeppelin/contracts/...`) resolve from `node_modules`.

Settings are fixed here so that every machine produces the same bytes: evmVersion prague (py-evm's
newest fork), optimizer 200 runs, and `metadata.bytecodeHash = "none"` so the bytecode does not
embed an IPFS hash of the metadata (which would change with comments and file paths). Compiles are
cached in process by the hash of the exact standard-JSON input.
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import solcx
from eth_utils.crypto import keccak

from ledger.contracts.artifacts import ContractArtifact, freeze_json, thaw_json
from ledger.errors import ConfigError, FedLedgerError

__all__ = [
    "COMPILER_SETTINGS",
    "CONTRACTS_DIR",
    "REPO_ROOT",
    "SOLC_WRAPPER",
    "CompilationFailed",
    "CompilationResult",
    "CompilerUnavailable",
    "compile_contracts",
    "read_sources",
    "source_keccak",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTRACTS_DIR = REPO_ROOT / "contracts"
SOLC_WRAPPER = REPO_ROOT / "scripts" / "solcjs-wrapper"

#: Standard-JSON settings shared by every compile (outputSelection is added per call).
COMPILER_SETTINGS: Mapping[str, Any] = freeze_json(
    {
        "evmVersion": "prague",
        "optimizer": {"enabled": True, "runs": 200},
        "metadata": {"bytecodeHash": "none"},
    }
)

_OUTPUTS = ["abi", "metadata", "evm.bytecode.object", "evm.deployedBytecode.object"]

_cache: dict[str, CompilationResult] = {}


class CompilerUnavailable(ConfigError):
    """The Solidity toolchain (node, npm solc, OpenZeppelin sources) is not installed."""


class CompilationFailed(FedLedgerError):
    """solc rejected the sources; `messages` holds its formatted errors (and our warnings)."""

    def __init__(self, messages: tuple[str, ...]) -> None:
        self.messages = messages
        super().__init__("Solidity compilation failed:\n" + "\n".join(messages))


@dataclass(frozen=True)
class CompilationResult:
    """Every deployable contract defined under the contracts folder, keyed by contract name.

    `warnings` holds solc's warnings about third-party sources (ours must compile without any).
    """

    compiler_version: str
    artifacts: Mapping[str, ContractArtifact]
    warnings: tuple[str, ...]


def read_sources(contracts_dir: Path = CONTRACTS_DIR) -> dict[str, str]:
    """Every `.sol` file under `contracts_dir`, keyed by its path relative to the repository.

    Keys look like `contracts/TrainingRegistry.sol` (the source unit names solc sees; relative
    imports resolve against them). Files are read as UTF-8, in sorted order.
    """
    base = contracts_dir.resolve()
    root = base.parent
    files = sorted(p for p in base.rglob("*.sol") if p.is_file())
    if not files:
        raise CompilationFailed((f"no .sol files under {base}",))
    return {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in files}


def _check_toolchain(solc_binary: Path, node_modules: Path) -> None:
    if not solc_binary.is_file():
        raise CompilerUnavailable(f"solc wrapper not found at {solc_binary}")
    if shutil.which("node") is None:
        raise CompilerUnavailable("node is not on PATH: install Node.js 20 to compile contracts")
    for package in ("solc", "@openzeppelin/contracts"):
        if not (node_modules / package / "package.json").is_file():
            raise CompilerUnavailable(
                f"npm package {package!r} is missing from {node_modules}: "
                f"run `npm install` in {node_modules.parent}"
            )


@functools.lru_cache(maxsize=8)
def _solc_version(solc_binary: Path) -> str:
    """The full version string (`0.8.30+commit.73712a01.Emscripten.clang`), probed once per binary.

    py-solc-x's own probe keeps only `major.minor.patch+commit`; artifacts record the whole string.
    """
    proc = subprocess.run([str(solc_binary), "--version"], capture_output=True, text=True,
                          check=False)
    lines = [line.strip() for line in proc.stdout.splitlines() if line.strip()]
    if proc.returncode != 0 or not lines:
        raise CompilerUnavailable(f"{solc_binary} --version failed: {proc.stderr.strip()}")
    return lines[-1]


def _standard_input(sources: Mapping[str, str]) -> dict[str, Any]:
    settings: dict[str, Any] = thaw_json(COMPILER_SETTINGS)
    settings["outputSelection"] = {"*": {"*": list(_OUTPUTS)}}
    return {
        "language": "Solidity",
        "sources": {path: {"content": text} for path, text in sorted(sources.items())},
        "settings": settings,
    }


def _source_hashes(metadata_text: str) -> dict[str, str]:
    metadata = json.loads(metadata_text)
    return {path: entry["keccak256"] for path, entry in sorted(metadata["sources"].items())}


def compile_contracts(
    contracts_dir: Path = CONTRACTS_DIR,
    *,
    solc_binary: Path = SOLC_WRAPPER,
    node_modules: Path | None = None,
    use_cache: bool = True,
) -> CompilationResult:
    """Compile every source under `contracts_dir` and return its deployable contracts.

    Parameters
    ----------
    contracts_dir
        Folder of `.sol` files (searched recursively); interfaces yield no artifact.
    solc_binary
        A solc-compatible executable; by default the solc-js wrapper of this repository.
    node_modules
        Where `solc` and `@openzeppelin/contracts` are installed (default: next to the repo).
    use_cache
        Reuse a previous result for byte-identical input in this process.

    Raises
    ------
    CompilerUnavailable
        If node, the npm `solc` package or OpenZeppelin is missing (says to run `npm install`).
    CompilationFailed
        On any solc error, or any warning located in our own sources.
    """
    modules = node_modules if node_modules is not None else REPO_ROOT / "node_modules"
    _check_toolchain(solc_binary, modules)
    sources = read_sources(contracts_dir)
    standard_input = _standard_input(sources)
    key = hashlib.sha256(
        (str(solc_binary.resolve()) + json.dumps(standard_input, sort_keys=True)).encode()
    ).hexdigest()
    if use_cache and key in _cache:
        return _cache[key]

    version = _solc_version(solc_binary.resolve())
    try:
        output = solcx.compile_standard(standard_input, solc_binary=solc_binary)
    except solcx.exceptions.SolcError as exc:
        messages = tuple(
            str(error.get("formattedMessage", error.get("message", "")))
            for error in json.loads(exc.stdout_data or "{}").get("errors", [])
        ) or (str(exc),)
        raise CompilationFailed(messages) from exc

    own_warnings: list[str] = []
    foreign_warnings: list[str] = []
    for error in output.get("errors", []):
        message = str(error.get("formattedMessage", error.get("message", "")))
        location = error.get("sourceLocation", {}).get("file", "")
        if error.get("severity") == "error" or location in sources:
            own_warnings.append(message)
        else:
            foreign_warnings.append(message)
    if own_warnings:
        raise CompilationFailed(tuple(own_warnings))

    settings = {k: v for k, v in standard_input["settings"].items() if k != "outputSelection"}
    artifacts: dict[str, ContractArtifact] = {}
    for source_name, contracts in output.get("contracts", {}).items():
        if source_name not in sources:
            continue
        for name, compiled in contracts.items():
            bytecode = compiled["evm"]["bytecode"]["object"]
            if not bytecode:
                continue  # interfaces and abstract contracts cannot be deployed
            if name in artifacts:
                message = (f"contract name {name!r} is defined twice "
                           f"({artifacts[name].source_name} and {source_name}); "
                           "artifact files are keyed by name")
                raise CompilationFailed((message,))
            artifacts[name] = ContractArtifact(
                name=name,
                abi=freeze_json(compiled["abi"]),
                bytecode="0x" + bytecode,
                deployed_bytecode="0x" + compiled["evm"]["deployedBytecode"]["object"],
                compiler=version,
                settings=freeze_json(settings),
                source_name=source_name,
                sources=MappingProxyType(_source_hashes(compiled["metadata"])),
            )
    result = CompilationResult(
        compiler_version=version,
        artifacts=MappingProxyType(dict(sorted(artifacts.items()))),
        warnings=tuple(foreign_warnings),
    )
    if use_cache:
        _cache[key] = result
    return result


def source_keccak(text: str) -> str:
    """keccak256 of a source file's UTF-8 bytes as 0x-hex, as solc's metadata records it."""
    return "0x" + keccak(text.encode("utf-8")).hex()
