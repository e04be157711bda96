"""The accountant wrapper agrees with Opacus' own accountants, stepped round by round."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from opacus.accountants import PRVAccountant, RDPAccountant

from ledger.privacy.accountant import (
    PrivacyBudget,
    epsilon_for,
    format_epsilon,
    noise_multiplier_for,
    participant_budget,
)
from ledger.privacy.params import DpParams

PARAMS = DpParams(clip_side="client", noise_side="server", clipping="fixed",
                  clipping_norm=Decimal(1), noise_multiplier=Decimal("1.1"),
                  delta=Decimal("0.00001"))


def opacus_epsilon(accountant: RDPAccountant | PRVAccountant, z: float, rounds: int,
                   delta: float) -> float:
    for _ in range(rounds):
        accountant.step(noise_multiplier=z, sample_rate=1.0)
    return float(accountant.get_epsilon(delta=delta))


@pytest.mark.parametrize(("z", "rounds"), [(1.1, 1), (1.1, 10), (0.8, 5), (3.0, 50)])
def test_rdp_epsilon_is_opacus_rdp_stepped_per_round(z: float, rounds: int) -> None:
    # Execute
    ours = epsilon_for(z, rounds, 1e-5, "rdp")
    # Assert
    assert ours == opacus_epsilon(RDPAccountant(), z, rounds, 1e-5)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_prv_epsilon_is_opacus_prv_stepped_per_round() -> None:
    # Execute
    ours = epsilon_for(1.1, 10, 1e-5, "prv")
    # Assert
    assert ours == pytest.approx(opacus_epsilon(PRVAccountant(), 1.1, 10, 1e-5), rel=1e-9)


def test_fixed_parameters_give_the_documented_numbers() -> None:
    # Execute / Assert: z = 1.1, delta = 1e-5 at q = 1 (RDP orders up to 63)
    assert format_epsilon(epsilon_for(1.1, 10, 1e-5)) == "16.856678"
    assert participant_budget(PARAMS, 1) == format_epsilon(epsilon_for(1.1, 1, 1e-5))
    assert participant_budget(PARAMS, 0) == "0"


def test_zero_noise_is_reported_as_infinite() -> None:
    # Prepare
    params = DpParams(**{**PARAMS.__dict__, "noise_multiplier": Decimal(0)})
    # Execute / Assert
    assert epsilon_for(0.0, 3, 1e-5) == math.inf
    assert participant_budget(params, 3) == "inf"


def test_epsilon_is_rounded_up_never_down() -> None:
    # Execute / Assert
    assert format_epsilon(1.0000001) == "1.000001"
    assert format_epsilon(2.0) == "2"


def test_budget_total_is_the_worst_participant() -> None:
    # Prepare
    rounds = {"0x1a642f0E3c3aF545E7AcBD38b07251B3990914F1": 3,
              "0x5050A4F4b3f9338C3472dcC01A87C76A144b3c9c": 7}
    # Execute
    budget = PrivacyBudget.from_rounds(PARAMS, rounds)
    # Assert
    assert budget.total_epsilon == participant_budget(PARAMS, 7)
    assert budget.epsilons["0x1a642f0E3c3aF545E7AcBD38b07251B3990914F1"] == participant_budget(
        PARAMS, 3)


def test_noise_calibration_reaches_the_target() -> None:
    # Execute
    z = noise_multiplier_for(4.0, 1e-5, 10)
    # Assert
    assert epsilon_for(z, 10, 1e-5) <= 4.0 < epsilon_for(z * 0.98, 10, 1e-5)
