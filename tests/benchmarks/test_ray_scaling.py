"""benchmarks/ray_scaling.py --smoke runs the simulation on 1 and 2 Ray workers."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "ray_scaling.py"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ray_scaling_benchmark", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["ray_scaling_benchmark"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_smoke_run_trains_on_one_and_two_workers(tmp_path: Path) -> None:
    # Prepare
    pytest.importorskip(
        "ray", reason="the ray engine needs Ray: pip install -c constraints.txt ray==2.60.0"
    )
    script = load_script()

    # Execute
    report = script.main(["--smoke", "--out", str(tmp_path)])

    # Assert
    saved = json.loads((tmp_path / "ray_scaling.smoke.json").read_text())
    assert saved == json.loads(json.dumps(report))
    assert [r["workers"] for r in saved["runs"]] == [1, 2]
    assert all(r["training_s"] > 0 and r["workers_warmed"] == r["workers"] for r in saved["runs"])
    assert saved["runs"][0]["training_speedup"] == 1.0
    assert len(saved["runs"][0]["accuracy"]) == 1
    assert (tmp_path / "ray_scaling.smoke.md").read_text().startswith("# Ray engine scaling")
