"""ledger.contracts.compiler and scripts/compile_contracts.py: a fresh compile reproduces the
committed artifacts byte for byte, and a broken toolchain or source fails loudly."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import pytest
from eth_utils.crypto import keccak

from ledger.contracts.artifacts import artifact_names, artifact_to_json, load_artifact
from ledger.contracts.compiler import (
    CONTRACTS_DIR,
    REPO_ROOT,
    CompilationFailed,
    CompilationResult,
    CompilerUnavailable,
    compile_contracts,
    read_sources,
    source_keccak,
)
from ledger.errors import ConfigError

SCRIPT = REPO_ROOT / "scripts" / "compile_contracts.py"
COMMITTED = REPO_ROOT / "ledger" / "contracts" / "compiled"

pytestmark = pytest.mark.skipif(
    not (REPO_ROOT / "node_modules" / "solc" / "package.json").is_file(),
    reason="npm package solc is not installed: run `npm install` to test the compiler",
)


@pytest.fixture(scope="module")
def fresh() -> CompilationResult:
    """One real compile of contracts/ for the whole module (solc-js takes seconds)."""
    return compile_contracts()


#: Every contract under contracts/ that compiles to a deployable artifact, sorted.
DEPLOYABLE = ("ConsortiumGovernor", "ConsortiumMembership", "ConsortiumTimelock", "RewardToken",
              "TrainingRegistry")


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("compile_contracts_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_committed_artifacts_match_a_fresh_compile(fresh: CompilationResult) -> None:
    # Execute
    fresh_texts = {name: artifact_to_json(a) for name, a in fresh.artifacts.items()}

    # Assert
    assert tuple(fresh_texts) == artifact_names()
    for name, text in fresh_texts.items():
        committed = (COMMITTED / f"{name}.json").read_text(encoding="utf-8")
        assert committed == text, f"{name}.json is stale: run python scripts/compile_contracts.py"


def test_recorded_source_hashes_are_the_files_keccak(fresh: CompilationResult) -> None:
    # Prepare
    registry = fresh.artifacts["TrainingRegistry"]

    # Execute
    recomputed = {}
    for path in registry.sources:
        base = REPO_ROOT if path.startswith("contracts/") else REPO_ROOT / "node_modules"
        recomputed[path] = "0x" + keccak((base / path).read_bytes()).hex()

    # Assert
    assert dict(registry.sources) == recomputed
    assert "contracts/interfaces/ITrainingRegistry.sol" in registry.sources
    assert "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol" in registry.sources
    assert "contracts/RewardToken.sol" not in registry.sources


def test_bytecode_embeds_no_metadata_hash(fresh: CompilationResult) -> None:
    # Prepare: CBOR {"solc": 0.8.30} (a1, 64 "solc", 43 00081e) and its length 0x000a
    trailer = "a164736f6c634300081e000a"

    # Execute
    tails = {name: a.deployed_bytecode[-len(trailer):] for name, a in fresh.artifacts.items()}

    # Assert: no ipfs/bzzr metadata hash, only the compiler version
    assert tails == {name: trailer for name in fresh.artifacts}


def test_interfaces_yield_no_artifact(fresh: CompilationResult) -> None:
    # Assert
    assert set(fresh.artifacts) == set(DEPLOYABLE)
    assert set(read_sources()) == {
        "contracts/RewardToken.sol", "contracts/TrainingRegistry.sol",
        "contracts/ConsortiumGovernor.sol", "contracts/ConsortiumMembership.sol",
        "contracts/ConsortiumTimelock.sol", "contracts/interfaces/IConsortiumMembership.sol",
        "contracts/interfaces/IRewardToken.sol", "contracts/interfaces/ITrainingRegistry.sol"}


def test_only_third_party_warnings_are_reported(fresh: CompilationResult) -> None:
    # Assert: our sources compile clean; OpenZeppelin's transient-storage note is passed through
    assert all("@openzeppelin/" in w for w in fresh.warnings)


def test_identical_input_is_served_from_the_cache(fresh: CompilationResult) -> None:
    # Execute
    again = compile_contracts()

    # Assert
    assert again is fresh


def test_source_keccak_matches_eth_utils() -> None:
    # Assert
    assert source_keccak("pragma solidity ^0.8.24;\n") == "0x" + keccak(
        b"pragma solidity ^0.8.24;\n").hex()


def test_missing_npm_packages_are_named(tmp_path: Path) -> None:
    # Execute
    with pytest.raises(CompilerUnavailable) as caught:
        compile_contracts(node_modules=tmp_path)

    # Assert
    assert isinstance(caught.value, ConfigError)
    assert f"npm package 'solc' is missing from {tmp_path}: run `npm install`" in str(caught.value)


def test_missing_wrapper_is_named(tmp_path: Path) -> None:
    # Execute
    with pytest.raises(CompilerUnavailable, match="solc wrapper not found at"):
        compile_contracts(solc_binary=tmp_path / "solc")


def test_empty_folder_is_refused(tmp_path: Path) -> None:
    # Execute
    with pytest.raises(CompilationFailed, match="no .sol files under"):
        compile_contracts(tmp_path)


def test_syntax_error_reports_solc_message(tmp_path: Path) -> None:
    # Prepare
    (tmp_path / "Broken.sol").write_text("pragma solidity ^0.8.24;\ncontract Broken {\n",
                                         encoding="utf-8")

    # Execute
    with pytest.raises(CompilationFailed) as caught:
        compile_contracts(tmp_path)

    # Assert
    assert any("ParserError" in m for m in caught.value.messages)
    assert "Broken.sol" in str(caught.value)


def test_warning_in_our_sources_fails_the_compile(tmp_path: Path) -> None:
    # Prepare: an unused local variable is a warning, which our sources must not have
    (tmp_path / "Sloppy.sol").write_text(
        "// SPDX-License-Identifier: Apache-2.0\npragma solidity ^0.8.24;\n"
        "contract Sloppy { function f() external pure returns (uint256) { uint256 unused; "
        "return 1; } }\n", encoding="utf-8")

    # Execute
    with pytest.raises(CompilationFailed) as caught:
        compile_contracts(tmp_path)

    # Assert
    assert any("Unused local variable" in m for m in caught.value.messages)


def test_check_passes_on_the_committed_artifacts(fresh: CompilationResult,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    # Execute
    code = _script().main(["--check"])

    # Assert
    assert code == 0
    assert f"{len(DEPLOYABLE)} artifacts match the sources" in capsys.readouterr().out


def test_check_fails_on_stale_missing_and_extra_files(fresh: CompilationResult, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    # Prepare
    shutil.copy(COMMITTED / "TrainingRegistry.json", tmp_path / "TrainingRegistry.json")
    stale = (COMMITTED / "TrainingRegistry.json").read_text(encoding="utf-8").replace(
        '"runs": 200', '"runs": 201')
    (tmp_path / "TrainingRegistry.json").write_text(stale, encoding="utf-8")
    (tmp_path / "Old.json").write_text("{}", encoding="utf-8")

    # Execute
    code = _script().main(["--check", "--out-dir", str(tmp_path)])

    # Assert
    assert code == 1
    err = capsys.readouterr().err
    assert "stale artifact RewardToken.json: missing" in err
    assert "stale artifact TrainingRegistry.json: differs from a fresh compile" in err
    assert "stale artifact Old.json: no such contract in the sources" in err
    assert (tmp_path / "Old.json").read_text(encoding="utf-8") == "{}"


def test_write_mode_produces_the_committed_bytes(fresh: CompilationResult, tmp_path: Path) -> None:
    # Prepare
    (tmp_path / "Old.json").write_text("{}", encoding="utf-8")

    # Execute
    code = _script().main(["--out-dir", str(tmp_path)])

    # Assert
    assert code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{n}.json" for n in DEPLOYABLE]
    for name in DEPLOYABLE:
        assert (tmp_path / f"{name}.json").read_bytes() == (COMMITTED / f"{name}.json").read_bytes()
        assert load_artifact(name) is not None


def test_script_reports_compile_errors_with_exit_code_2(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    # Execute
    code = _script().main(["--check", "--contracts-dir", str(tmp_path)])

    # Assert
    assert code == 2
    assert "error: Solidity compilation failed:\nno .sol files under" in capsys.readouterr().err


def test_contracts_dir_is_the_repository_folder() -> None:
    # Assert
    assert CONTRACTS_DIR == REPO_ROOT / "contracts"
