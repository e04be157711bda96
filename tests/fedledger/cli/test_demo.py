"""`fedledger demo --chain anvil`: the whole network over a managed anvil, audited clean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fedledger.cli.demo import app
from ledger.formats.report import parse_report
from ledger.store import DiskStore, compute_cid

TOKEN = 10**18


@pytest.mark.anvil
def test_demo_over_anvil_finalizes_pays_and_audits_one_round(anvil_binary: Path,
                                                             tmp_path: Path) -> None:
    # Prepare
    out = tmp_path / "demo"

    # Execute
    result = CliRunner().invoke(app, ["--chain", "anvil", "--participants", "3", "--rounds", "1",
                                      "--epochs", "1", "--out", str(out)])

    # Assert
    assert result.exit_code == 0, result.output
    assert "audit verdict: verified for 1 rounds" in result.output
    network = json.loads((out / "network.json").read_text())
    assert network["chainId"] == 31337
    report_bytes = (out / "reports" / "round-0.json").read_bytes()
    report = parse_report(report_bytes)
    assert report.round == 0 and len(report.submissions) == 3
    assert report.total_reward == sum(s.reward for s in report.submissions) == 1000 * TOKEN
    audit = json.loads((out / "audit.json").read_text())
    assert audit["verdict"] == "verified"
    assert [r["round"] for r in audit["rounds"]] == [0]
    assert DiskStore(out / "store").has(compute_cid(report_bytes))  # the published bytes
    assert (out / "accuracy.png").stat().st_size > 0 and (out / "rewards.png").stat().st_size > 0


def test_demo_refuses_an_unknown_engine_before_touching_the_output(tmp_path: Path) -> None:
    # Prepare
    out = tmp_path / "demo"
    out.mkdir()
    (out / "keep.txt").write_text("earlier run")

    # Execute
    result = CliRunner().invoke(app, ["--engine", "spark", "--out", str(out)])

    # Assert
    assert result.exit_code == 2
    assert "unknown engine 'spark'" in result.output and "local, ray" in result.output
    assert (out / "keep.txt").read_text() == "earlier run"
