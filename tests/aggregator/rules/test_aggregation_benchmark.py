"""The aggregation benchmark runs end to end at its smoke size (no timing asserted)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "aggregation.py"


@pytest.mark.slow
def test_smoke_run_writes_json_and_markdown(tmp_path: Path) -> None:
    # Prepare
    spec = importlib.util.spec_from_file_location("bench_aggregation", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_aggregation"] = module
    spec.loader.exec_module(module)

    # Execute
    report = module.main(
        [
            "--smoke",
            "--n",
            "7",
            "--d",
            "3000",
            "--out",
            str(tmp_path),
            "--rules",
            "fedavg",
            "krum",
            "bulyan",
            "fltrust",
        ]
    )

    # Assert
    saved = json.loads((tmp_path / "aggregation.json").read_text())
    assert saved["settings"]["n"] == [7] and saved["settings"]["d"] == [3000]
    assert [r["rule"] for r in saved["results"]] == ["fedavg", "krum", "bulyan", "fltrust"]
    assert all(r["ours_s"] > 0 and r["stacked_bytes"] == 7 * 3000 * 4 for r in saved["results"])
    assert saved["results"][1]["gram_floor_s"] > 0
    if saved["machine"]["flwr"]:
        assert set(saved["results"][0]["flower_s"]) == {"legacy", "new"}
    assert "peak_memory_below_one_copy" in saved["results"][0]["targets"]
    markdown = (tmp_path / "aggregation.md").read_text()
    assert markdown.startswith("# Aggregation benchmark")
    assert markdown.count("\n| ") == 1 + 4  # header and one row per rule
    assert report["results"] == saved["results"]
