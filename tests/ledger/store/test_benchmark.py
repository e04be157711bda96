"""benchmarks/store.py at its smoke size: it runs end to end and writes both result files.

No timing is asserted (machines differ); the full run's numbers are in
benchmarks/results/store.md.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "store.py"


def _benchmark_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("store_benchmark", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_smoke_run_measures_cids_and_the_embedded_store(tmp_path: Path) -> None:
    # Execute
    report = _benchmark_module().main(["--smoke", "--out", str(tmp_path)])

    # Assert
    written = json.loads((tmp_path / "store.smoke.json").read_text())
    markdown = (tmp_path / "store.smoke.md").read_text()
    assert written == json.loads(json.dumps(report))
    assert [row["size"] for row in written["cid"]] == [1_000_000, 3_000_000]
    assert {"sha256_chunks_mb_s", "cid_memory_mb_s", "cid_file_mb_s", "meets_target"} <= set(
        written["cid"][0]
    )
    assert [row["size"] for row in written["embedded"]["rows"]] == [1_000_000, 3_000_000]
    assert all(row["get_bytes_mb_s"] > 0 for row in written["embedded"]["rows"])
    assert written["daemon"] == {"skipped": "not requested (--no-daemon or --smoke)"}
    assert "## CID computation, one core (target >= 500 MB/s)" in markdown
    assert "Skipped: not requested" in markdown
