"""FLTrust: trust from the server update, rescaling, exact weighted sum."""

from __future__ import annotations

import pytest
import torch
from rule_inputs import honest_updates

from aggregator.rules import AggregationMismatch, FLTrust
from aggregator.rules.base import AggregationInputError
from aggregator.rules.fltrust import fltrust


def test_formula_on_a_small_case(backend: str) -> None:
    # Prepare: server update along x; update 0 at 60 degrees, 1 aligned but 4x longer,
    # 2 opposite, 3 zero
    reference = torch.tensor([2.0, 0.0], dtype=torch.float32)
    updates = torch.tensor(
        [[0.5, 0.5 * 3.0**0.5], [8.0, 0.0], [-1.0, 0.0], [0.0, 0.0]], dtype=torch.float32
    )
    # rescaled to |g0| = 2: [1, sqrt 3] and [2, 0]; trusts 0.5 and 1
    expected = (0.5 * torch.tensor([1.0, 3.0**0.5]) + 1.0 * torch.tensor([2.0, 0.0])) / 1.5

    # Execute
    result = FLTrust().aggregate(updates, [1, 1, 1, 1], reference=reference)

    # Assert
    assert torch.allclose(result.aggregate, expected, atol=1e-6)
    assert result.accepted == (True, True, False, False)
    assert result.reasons == (
        None,
        None,
        "trust score 0: not aligned with the server update",
        "zero-norm update",
    )
    assert result.decision["trust"][:3] == [pytest.approx(0.5), 1.0, 0.0]
    assert result.decision["zero_norm"] == [3]
    assert result.decision["weight_bits"] == 24


def test_large_attackers_are_bounded_by_the_server_norm(backend: str) -> None:
    # Prepare
    updates = honest_updates(8, 300, seed=15)
    reference = updates[4:].mean(0)
    updates[0] = 1000.0 * reference / reference.abs().max()  # aligned, huge
    updates[1] = -updates[2]  # sign flip

    # Execute
    result = FLTrust().aggregate(updates, [1] * 8, reference=reference)

    # Assert
    assert float(result.aggregate.norm()) <= float(reference.norm()) * (1 + 1e-6)
    assert result.accepted[1] is False
    FLTrust().verify(result, updates, [1] * 8, reference=reference)
    assert torch.equal(fltrust(updates, reference, FLTrust().grid), result.aggregate)


def test_nobody_trusted_gives_a_zero_update() -> None:
    # Prepare
    updates = -torch.ones((3, 4))

    # Execute
    result = FLTrust().aggregate(updates, [1, 1, 1], reference=torch.ones(4))

    # Assert
    assert result.aggregate.tolist() == [0.0] * 4
    assert result.accepted == (False, False, False)


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        (None, "rule 'fltrust' needs a reference update"),
        (torch.ones(3), "reference must have shape (4,), got (3,)"),
        (torch.ones(4, dtype=torch.float64), "reference must be a float32 torch.Tensor"),
        (torch.tensor([1.0, float("nan"), 0.0, 0.0]), "reference holds NaN or Inf"),
        (torch.zeros(4), "the reference (server) update has zero norm"),
    ],
)
def test_bad_references_are_refused(reference: torch.Tensor | None, message: str) -> None:
    # Execute
    with pytest.raises(AggregationInputError) as err:
        FLTrust().aggregate(torch.ones((2, 4)), [1, 1], reference=reference)

    # Assert
    assert str(err.value) == message


def test_verify_refuses_forged_trust() -> None:
    # Prepare
    updates = honest_updates(5, 50, seed=16)
    reference = updates.mean(0)
    rule = FLTrust()
    decision = dict(rule.aggregate(updates, [1] * 5, reference=reference).decision)
    decision["trust"] = [0.9] + decision["trust"][1:]

    # Execute
    with pytest.raises(AggregationMismatch) as err:
        rule.verify(decision, updates, [1] * 5, reference=reference)

    # Assert
    assert str(err.value).startswith("published trust of update 0 is 0.9, recomputed ")
