"""The HTML page: self-contained, escaped, and showing the history."""

from __future__ import annotations

import re

from ledger.audit.html import render_html
from tests.ledger.audit.sample_reports import sample_report


def test_the_page_loads_nothing_from_outside() -> None:
    # Execute
    page = render_html(sample_report())

    # Assert
    assert page.startswith("<!DOCTYPE html>")
    assert re.search(r"<(script|link|img|iframe)\b", page) is None
    assert re.search(r"(src|href)\s*=", page) is None
    assert "http" not in page and "@import" not in page and "url(" not in page


def test_hostile_text_from_reports_is_escaped() -> None:
    # Execute
    page = render_html(sample_report())

    # Assert
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;reward&lt;/b&gt; 1 published, 2 owed" in page


def test_the_charts_plot_every_round_and_participant() -> None:
    # Execute
    page = render_html(sample_report())

    # Assert: accuracy 50 % and 75 % for rounds 0 and 1; bars for the three participants.
    accuracy = page[page.index('aria-label="accuracy per round"'):]
    accuracy = accuracy[:accuracy.index("</svg>")]
    assert re.findall(r"<title>(round \d+: [\d.]+%)</title>", accuracy) == [
        "round 0: 50.00%", "round 1: 75.00%"]
    rewards = page[page.index('aria-label="rewards per participant"'):]
    assert re.findall(r"<title>awarded ([\d,.]+)</title>", rewards[:rewards.index("</svg>")]) == [
        "1,600.00", "400.00", "0.00"]
    assert page.count('class="badge"') == 1 + 3  # the headline and one per round
    assert "<td>pending (by 0x000000…, evidence bafkreievidence)</td>" in page


def test_rejections_are_listed_with_their_checks_and_reasons() -> None:
    # Execute
    page = render_html(sample_report())

    # Assert
    table = page[page.index("<h2>Rejected updates</h2>"):]
    assert re.findall(r"<tr><td class=num>(\d)</td><td><code>(0x[0-9A-Fa-f]+)</code></td>"
                      r"<td><code>([a-z.]+)</code></td>", table) == [
        ("0", "0x00000000000000000000000000000000000000E5", "signature.signer"),
        ("1", "0x00000000000000000000000000000000000000E5", "ok")]
