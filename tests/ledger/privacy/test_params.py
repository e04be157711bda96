"""DpParams: exact JSON round trip inside the task spec, and a named refusal per bad field."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.formats.errors import FieldError
from ledger.formats.task import TaskSpec
from ledger.privacy.params import DpParams
from tests.ledger.submission_kit import make_task


def fixed(**overrides: object) -> DpParams:
    values: dict[str, object] = {"clip_side": "client", "noise_side": "server", "clipping": "fixed",
                                     "clipping_norm": Decimal("1.5"),
                                     "noise_multiplier": Decimal("1.1"), "delta": Decimal("0.00001")}
    values.update(overrides)
    return DpParams(**values)  # type: ignore[arg-type]


def adaptive(**overrides: object) -> DpParams:
    values: dict[str, object] = {"clipping": "adaptive", "target_quantile": Decimal("0.5"),
                                     "clip_learning_rate": Decimal("0.2"),
                                     "clipped_count_stddev": Decimal(2)}
    values.update(overrides)
    return fixed(**values)


def test_task_without_privacy_keeps_its_bytes_and_hash() -> None:
    # Prepare
    task = make_task()
    # Execute
    data = task.canonical_bytes()
    # Assert
    assert b"privacy" not in data
    assert TaskSpec.from_json(data).privacy is None


def test_privacy_round_trips_inside_the_task_and_changes_its_hash() -> None:
    # Prepare
    plain = make_task()
    private = TaskSpec(**{**plain.__dict__, "privacy": adaptive()})
    # Execute
    data = private.canonical_bytes()
    parsed = TaskSpec.from_json(data)
    # Assert
    assert parsed.privacy == adaptive()
    assert parsed.task_hash() == private.task_hash() != plain.task_hash()
    assert (b'"privacy":{"accountant":"rdp","clip_learning_rate":"0.2","clip_side":"client",'
            b'"clipped_count_stddev":"2","clipping":"adaptive","clipping_norm":"1.5",'
            b'"delta":"0.00001","noise_multiplier":"1.1","noise_side":"server",'
            b'"target_quantile":"0.5"}') in data


@pytest.mark.parametrize(("overrides", "field", "problem"), [
    ({"clip_side": "both"}, "privacy.clip_side", "'both' is not one of client, server"),
    ({"noise_side": None}, "privacy.noise_side", "None is not one of client, server"),
    ({"accountant": "gdp"}, "privacy.accountant", "'gdp' is not one of rdp, prv"),
    ({"clipping_norm": Decimal(0)}, "privacy.clipping_norm", "0 must be > 0"),
    ({"noise_multiplier": Decimal(-1)}, "privacy.noise_multiplier", "-1 must be >= 0"),
    ({"noise_multiplier": Decimal("NaN")}, "privacy.noise_multiplier",
     "expected a finite Decimal, got Decimal('NaN')"),
    ({"delta": Decimal(1)}, "privacy.delta", "1 must be < 1"),
    ({"noise_multiplier": 1.1}, "privacy.noise_multiplier", "expected a finite Decimal, got 1.1"),
    ({"target_quantile": Decimal("0.5")}, "privacy.clipping",
     "fixed clipping takes no target_quantile, clip_learning_rate or clipped_count_stddev"),
])
def test_bad_fixed_parameters_are_refused_by_name(overrides: dict[str, object], field: str,
                                                  problem: str) -> None:
    # Execute
    with pytest.raises(FieldError) as caught:
        fixed(**overrides)
    # Assert
    assert (caught.value.field, caught.value.problem) == (field, problem)


def test_adaptive_count_noise_must_leave_room_for_the_update_noise() -> None:
    # Execute
    with pytest.raises(FieldError) as caught:
        adaptive(clipped_count_stddev=Decimal("0.5"))
    # Assert
    assert caught.value.field == "privacy.clipped_count_stddev"
    assert "must exceed noise_multiplier / 2 = 0.55" in caught.value.problem


def test_adaptive_update_noise_multiplier_follows_andrew_et_al() -> None:
    # Prepare
    params = adaptive()
    # Execute
    z_delta = params.update_noise_multiplier()
    # Assert: (1.1**-2 - 4**-2) ** -0.5
    assert z_delta == pytest.approx((1.1**-2 - 4**-2) ** -0.5, rel=1e-15)
    assert fixed().update_noise_multiplier() == 1.1


def test_unknown_privacy_field_in_json_is_refused() -> None:
    # Prepare
    value = fixed().to_json_value() | {"sampling_rate": "0.1"}
    # Execute
    with pytest.raises(FieldError) as caught:
        DpParams.from_json_value(value)
    # Assert
    assert caught.value.field == "privacy.sampling_rate"
