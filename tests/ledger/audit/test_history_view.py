"""The series both views draw: accuracy, rejections, per-participant totals."""

from __future__ import annotations

import pytest

from ledger.audit.history_view import (
    ParticipantTotals,
    Rejection,
    accuracy_series,
    participant_totals,
    rejections,
    tokens,
)
from tests.ledger.audit.sample_reports import ALICE, BOB, EVE, TOKEN, sample_report


def test_series_follow_the_rounds() -> None:
    # Prepare
    report = sample_report()

    # Execute / Assert
    assert accuracy_series(report) == [(0, 0.5), (1, 0.75)]
    assert rejections(report) == [Rejection(0, EVE, "signature.signer", "signed by 0xdead"),
                                  Rejection(1, EVE, "ok", "<script>alert(1)</script>")]
    assert participant_totals(report) == [
        ParticipantTotals(ALICE, 1_600 * TOKEN, 600 * TOKEN, 2, 0),
        ParticipantTotals(BOB, 400 * TOKEN, 0, 1, 0),
        ParticipantTotals(EVE, 0, 0, 0, 2)]


@pytest.mark.parametrize(("amount", "text"), [
    (0, "0.00"), (1, "0.00"), (TOKEN // 2, "0.50"), (1_234_567 * TOKEN + TOKEN * 99 // 100,
                                                      "1,234,567.99")])
def test_tokens_format_base_units_without_rounding_up(amount: int, text: str) -> None:
    # Execute / Assert
    assert tokens(amount) == text
