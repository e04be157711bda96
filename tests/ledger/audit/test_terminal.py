"""The terminal report: verdicts, every finding with its code, rejections, rewards."""

from __future__ import annotations

from rich.console import Console

from ledger.audit import findings as F
from ledger.audit.terminal import render_terminal
from tests.ledger.audit.sample_reports import sample_report


def test_the_terminal_report_names_every_finding_and_the_overall_verdict() -> None:
    # Prepare
    console = Console(record=True, width=200, color_system=None)

    # Execute
    render_terminal(sample_report(), console)
    text = console.export_text()

    # Assert
    assert f"round 1 mismatch {F.SUBMISSION_REWARD}: <b>reward</b> 1 published, 2 owed" in text
    assert f"round 1 unverifiable {F.CONTENT_MISSING}: proof bafkreixyz is not in the store" \
        in text
    assert "signature.signer" in text and "<script>alert(1)</script>" in text
    assert "1,600.00" in text and "600.00" in text
    assert text.rstrip().endswith(
        "overall verdict: mismatch (2 rounds audited, 1 mismatched, 0 unverifiable)")
