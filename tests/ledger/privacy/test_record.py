"""The privacy section of a round report: exact JSON round trip and refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest
from eth_utils.crypto import keccak

from ledger.formats.errors import FieldError
from ledger.formats.report import RoundReport, parse_report, rewards_root
from ledger.privacy.record import ParticipantBudget, PrivacyRecord

ALICE = "0x1a642f0E3c3aF545E7AcBD38b07251B3990914F1"
BOB = "0x5050A4F4b3f9338C3472dcC01A87C76A144b3c9c"


def record(**overrides: object) -> PrivacyRecord:
    values: dict[str, object] = {
        "clipping_norm": Decimal("1.5"), "next_clipping_norm": Decimal("1.4"), "aggregated": 2,
        "unclipped_fraction": Decimal("0.75"), "noise_seed_cid": "bafkreiseed",
        "noise_seed_hash": keccak(b"seed"),
        "budgets": (ParticipantBudget(ALICE, 2, "3.5"), ParticipantBudget(BOB, 1, "2.25")),  # type: ignore[arg-type]
        "total_epsilon": "3.5", "delta": Decimal("0.00001")}
    values.update(overrides)
    return PrivacyRecord(**values)  # type: ignore[arg-type]


def test_round_trip() -> None:
    # Prepare
    original = record()
    # Execute
    parsed = PrivacyRecord.from_json_value(original.to_json_value())
    # Assert
    assert parsed == original
    assert original.to_json_value()["budgets"] == [
        {"epsilon": "3.5", "participant": ALICE.lower(), "rounds": 2},
        {"epsilon": "2.25", "participant": BOB.lower(), "rounds": 1}]


def test_optional_fields_are_absent_when_unused() -> None:
    # Prepare
    plain = record(unclipped_fraction=None, noise_seed_cid=None, noise_seed_hash=None)
    # Execute
    value = plain.to_json_value()
    # Assert
    assert set(value) == {"aggregated", "budgets", "clipping_norm", "delta",
                          "next_clipping_norm", "total_epsilon"}
    assert PrivacyRecord.from_json_value(value) == plain


@pytest.mark.parametrize(("overrides", "field"), [
    ({"budgets": (ParticipantBudget(BOB, 1, "1"), ParticipantBudget(ALICE, 1, "1"))},  # type: ignore[arg-type]
     "privacy.budgets"),
    ({"total_epsilon": "1.50"}, "privacy.total_epsilon"),
    ({"noise_seed_hash": None}, "privacy.noise_seed_cid"),
    ({"clipping_norm": Decimal(0)}, "privacy.clipping_norm"),
])
def test_malformed_records_are_refused(overrides: dict[str, object], field: str) -> None:
    # Execute
    with pytest.raises(FieldError) as caught:
        record(**overrides)
    # Assert
    assert caught.value.field == field


def test_epsilon_must_be_canonical_or_inf() -> None:
    # Execute / Assert
    assert ParticipantBudget(ALICE, 1, "inf").epsilon == "inf"  # type: ignore[arg-type]
    with pytest.raises(FieldError, match="expected a canonical decimal string or 'inf'"):
        ParticipantBudget(ALICE, 1, "1e3")  # type: ignore[arg-type]


def test_a_round_report_carries_the_record_and_keeps_old_bytes_without_it() -> None:
    # Prepare
    fields: dict[str, object] = {
        "round": 4, "task_hash": keccak(b"task"), "base_model_hash": keccak(b"base"), "rule": "fedavg",
        "rule_params": {"weighted": False}, "decimals": 6, "submissions": (), "decision": {},
        "validation_metrics": {}, "new_model_hash": keccak(b"new"), "new_model_cid": "bafkreinew",
        "rewards_root": rewards_root([]), "total_reward": 0}
    plain = RoundReport(**fields)  # type: ignore[arg-type]
    private = RoundReport(**fields, privacy=record())  # type: ignore[arg-type]
    # Execute
    parsed = parse_report(private.canonical_bytes())
    # Assert
    assert parsed.privacy == record()
    assert b'"privacy"' not in plain.canonical_bytes()
    assert parse_report(plain.canonical_bytes()).privacy is None
    assert private.report_hash() != plain.report_hash()
