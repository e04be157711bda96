"""benchmarks/gas.py at its smoke size: it runs end to end, writes both result files, finds
finalizeRound flat and every participant operation within the lead's gas targets."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gas.py"


def _gas_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gas_benchmark", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def smoke_results(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:  # type: ignore[type-arg]
    out = tmp_path_factory.mktemp("gas")
    assert _gas_module().main(["--smoke", "--out-dir", str(out)]) == 0
    return (json.loads((out / "gas.smoke.json").read_text(encoding="utf-8")),
            (out / "gas.smoke.md").read_text(encoding="utf-8"))


def test_smoke_run_measures_every_operation(smoke_results: tuple[dict, str]) -> None:  # type: ignore[type-arg]
    # Prepare
    data, markdown = smoke_results

    # Execute
    operations = [row["operation"] for row in data["rows"]]

    # Assert
    assert data["sizes"] == [2, 4]
    assert operations == [
        "deploy RewardToken", "deploy TrainingRegistry", "appointAggregator", "setTask",
        "postAggregatorBond", "register (with stake)", "register (no stake)", "openRound",
        "commit", "reveal", "finalizeRound", "claim (first tokens, 2 leaves)",
        "claim (second claimer, same round)", "claim (holding tokens, 4 leaves)",
        "claim (first tokens, 4 leaves)", "slashUnrevealed", "challenge",
        "resolveChallenge (rejected)", "resolveChallenge (upheld)",
        "finalizeRound (again, after an upheld challenge)", "slash", "registerReaderKey",
        "deploy ConsortiumMembership", "deploy ConsortiumTimelock", "deploy ConsortiumGovernor",
        "addMember", "propose", "castVote", "queue", "execute"]
    assert all(row["gas"] > 21_000 for row in data["rows"])
    assert markdown.startswith("# Gas of the fedledger contracts")
    assert "| commit |" in markdown and "BlockFLow" in markdown


def test_finalize_is_flat_and_targets_hold(smoke_results: tuple[dict, str]) -> None:  # type: ignore[type-arg]
    # Prepare
    data, _ = smoke_results

    # Execute
    verdicts = {row["operation"]: row["within_target"] for row in data["rows"]
                if row["target"] is not None}

    # Assert
    assert data["finalize_is_flat"] is True
    assert len(set(data["finalize_execution_by_participants"].values())) == 1
    assert verdicts == {
        "commit": True, "reveal": True, "finalizeRound": True,
        "claim (first tokens, 2 leaves)": True, "claim (second claimer, same round)": True,
        "claim (holding tokens, 4 leaves)": True, "claim (first tokens, 4 leaves)": True}
    assert data["per_participant_round"] < data["anchors"][
        "BlockFLow (477,050 gas per agent per round)"]


def test_intrinsic_gas_counts_zero_and_other_bytes() -> None:
    # Execute
    gas = _gas_module().intrinsic_gas(b"\x00\x01\x00\xff")

    # Assert
    assert gas == 21_000 + 4 + 16 + 4 + 16
