"""benchmarks/privacy.py --smoke runs the whole pipeline and writes consistent results."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from ledger.privacy.accountant import epsilon_for, format_epsilon

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "privacy.py"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("privacy_benchmark", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["privacy_benchmark"] = module
    spec.loader.exec_module(module)
    return module


# At one round and epsilon 1 Opacus' best RDP order is its largest default one (63): the
# bound it reports is valid, only not the tightest, and it says so.
@pytest.mark.filterwarnings("ignore:Optimal order is the largest alpha:UserWarning")
def test_smoke_run_writes_accounted_results(tmp_path: Path) -> None:
    # Prepare
    script = load_script()
    # Execute
    result = script.main(["--smoke", "--out", str(tmp_path)])
    # Assert
    written = json.loads((tmp_path / "privacy.smoke.json").read_text())
    assert written == json.loads(json.dumps(result))
    assert (tmp_path / "privacy.smoke.png").stat().st_size > 0
    assert (tmp_path / "privacy.smoke.md").read_text().startswith("# Privacy cost\n")
    one, unbounded = written["accuracy_vs_epsilon"]
    assert (one["target_epsilon"], unbounded["target_epsilon"]) == ("1", "inf")
    assert one["accounted_epsilon"] == format_epsilon(epsilon_for(one["noise_multiplier"], 1,
                                                                  1e-5))
    assert float(one["accounted_epsilon"]) <= 1.0
    assert unbounded["noise_multiplier"] == 0.0 and unbounded["accounted_epsilon"] == "inf"
    assert 0.0 <= one["final_test_accuracy"] <= 1.0
    [row] = written["encryption"]
    assert (row["size_mb"], row["readers"], row["overhead_bytes"]) == (1, 2, 908)
