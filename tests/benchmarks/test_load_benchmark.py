"""benchmarks/load.py at its smoke size: every phase runs on anvil, nothing fails, files written.

No timing is asserted (machines differ); the full run's numbers are in
benchmarks/results/load.md.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "load.py"

pytestmark = pytest.mark.anvil


def _benchmark_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("load_benchmark", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


def test_smoke_run_commits_reveals_finalizes_and_claims_without_errors(
    anvil_binary: Path, tmp_path: Path
) -> None:
    # Execute
    report = _benchmark_module().main(["--smoke", "--out", str(tmp_path)])

    # Assert
    written = json.loads((tmp_path / "load.smoke.json").read_text())
    markdown = (tmp_path / "load.smoke.md").read_text()
    assert written == json.loads(json.dumps(report))
    assert written["config"] == {"participants": 6, "rounds": 2, "rule": "fedavg", "seed": 0}
    assert written["errors"] == 0
    assert [r["round"] for r in written["rounds"]] == [0, 1]
    for round_ in written["rounds"]:
        assert round_["accepted"] == 6
        for phase in ("commit", "reveal", "claim"):
            assert round_[phase]["transactions"] == 6
            assert round_[phase]["events"] == 6
            assert round_[phase]["errors"] == 0
        assert round_["finalize_s"] > 0 and round_["end_to_end_s"] > round_["finalize_s"]
    assert written["totals"]["commit"]["transactions"] == 12
    assert written["finalize_traced"]["round"] == 2
    assert written["update"]["parameters"] == 340
    assert "Errors (failed transactions + missing events): **0**" in markdown
    assert written["command"] == f"python benchmarks/load.py --smoke --out {tmp_path}"
