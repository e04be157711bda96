"""benchmarks/ledger_overhead.py --smoke times every participant step of a real round."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "ledger_overhead.py"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ledger_overhead_benchmark", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["ledger_overhead_benchmark"] = module
    spec.loader.exec_module(module)
    return module


def test_smoke_run_times_each_step_on_the_embedded_chain(tmp_path: Path) -> None:
    # Prepare
    script = load_script()

    # Execute
    report = script.main(["--smoke", "--out", str(tmp_path)])

    # Assert
    saved = json.loads((tmp_path / "ledger_overhead.smoke.json").read_text())
    assert saved == json.loads(json.dumps(report))
    (chain,) = saved["chains"]
    assert chain["chain"] == "embedded"
    # 2 participants, 1 round: each trained, committed, revealed and claimed once
    assert chain["calls"] == {"train": 2, "commit": 2, "reveal": 2, "claim": 2}
    assert chain["demo_update_bytes"] == 38282 * 4  # the demo CNN on digits
    assert [r["update"] for r in saved["rows"]] == ["demo", "1 MB"]
    one_mb = saved["rows"][1]
    assert one_mb["bytes"] == 1_000_000
    parts = ("hash_s", "cid_s", "put_s", "commit_s", "reveal_s", "claim_s")
    assert one_mb["total_s"] == sum(one_mb[p] for p in parts)
    assert one_mb["share_of_training"] == one_mb["total_s"] / one_mb["train_s"]
    assert saved["targets"] == {}  # the target is about anvil, which the smoke run skips
    assert (tmp_path / "ledger_overhead.smoke.md").read_text().startswith("# Ledger overhead")
