"""benchmarks/free_riding.py --smoke: free-riders earn nothing in a real simulated round."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "free_riding.py"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("free_riding_benchmark", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["free_riding_benchmark"] = module
    spec.loader.exec_module(module)
    return module


def test_noisy_labels_moves_exactly_the_requested_share_to_other_classes() -> None:
    # Prepare
    script = load_script()
    y = torch.arange(100) % 10

    # Execute
    noisy = script.noisy_labels(y, 0.3, 10, seed=4)

    # Assert
    assert int((noisy != y).sum()) == 30
    assert int(noisy.min()) >= 0 and int(noisy.max()) <= 9
    assert torch.equal(script.noisy_labels(y, 0.3, 10, seed=4), noisy)
    assert torch.equal(script.noisy_labels(y, 0.0, 10, seed=4), y)


def test_bad_noise_level_is_refused() -> None:
    # Prepare
    script = load_script()

    # Execute / Assert
    with pytest.raises(SystemExit):
        script.parse(["--noise", "0.2", "1.5"])


def test_smoke_run_pays_no_free_rider(tmp_path: Path) -> None:
    # Prepare
    script = load_script()

    # Execute
    report = script.main(["--smoke", "--out", str(tmp_path)])

    # Assert
    saved = json.loads((tmp_path / "free_riding.smoke.json").read_text())
    assert saved == json.loads(json.dumps(report))
    roles = [m["role"] for m in saved["members"]]
    assert roles == ["free-rider", "free-rider", "no-reveal"] + ["honest"] * 4
    assert [m["earned_tokens"] for m in saved["members"][:3]] == [0, 0, 0]
    assert [m["label_noise"] for m in saved["members"][3:]] == [0.0, 0.3, 0.6, 0.9]
    assert saved["targets"]["free_riders_earn_nothing"] is True
    assert (tmp_path / "free_riding.smoke.md").read_text().startswith("# Free-riding")
