"""TrainingRegistry membership: registering with a stake, and every way registering is refused."""

from __future__ import annotations

import pytest

from tests.contracts.scenario import MIN_STAKE, TOKEN, Chain


def test_register_pulls_the_stake_and_logs_it(members: Chain) -> None:
    # Prepare
    dave, registry = members.actors.dave, members.registry
    held = members.token.functions.balanceOf(registry.address).call()
    dave_balance = members.token.functions.balanceOf(dave).call()
    members.send(members.token.functions.approve(registry.address, 8 * TOKEN), dave)

    # Execute
    receipt = members.send(registry.functions.register(8 * TOKEN), dave)

    # Assert
    assert members.events(receipt, "ParticipantRegistered") == [{"account": dave, "stake": 8 * TOKEN}]
    assert members.events(receipt, "Transfer", members.token) == [
        {"from": dave, "to": registry.address, "value": 8 * TOKEN}]
    assert registry.functions.participant(dave).call() == [True, False, 8 * TOKEN]
    assert members.token.functions.balanceOf(dave).call() == dave_balance - 8 * TOKEN
    assert members.token.functions.balanceOf(registry.address).call() == held + 8 * TOKEN


def test_register_without_stake_when_the_minimum_is_zero(members: Chain) -> None:
    # Prepare
    outsider = members.actors.outsider
    members.send(members.registry.functions.setParameters((0, 0, 0, 0, 0, 0, False)), members.actors.admin)

    # Execute
    receipt = members.send(members.registry.functions.register(0), outsider)

    # Assert
    assert members.events(receipt, "ParticipantRegistered") == [{"account": outsider, "stake": 0}]
    assert members.events(receipt, "Transfer", members.token) == []
    assert members.registry.functions.participant(outsider).call() == [True, False, 0]


def test_register_below_minimum_stake_is_refused(members: Chain) -> None:
    # Prepare
    dave = members.actors.dave
    members.send(members.token.functions.approve(members.registry.address, MIN_STAKE), dave)

    # Execute
    error = members.revert_of(members.registry.functions.register(MIN_STAKE - 1), dave)

    # Assert
    assert error == ("RegistryStakeTooLow", (MIN_STAKE - 1, MIN_STAKE))
    assert members.registry.functions.participant(dave).call() == [False, False, 0]


def test_register_twice_is_refused(members: Chain) -> None:
    # Prepare
    alice = members.actors.alice

    # Execute
    error = members.revert_of(members.registry.functions.register(MIN_STAKE), alice)

    # Assert
    assert error == ("RegistryAlreadyRegistered", (alice,))


def test_removed_participant_cannot_register_again(members: Chain) -> None:
    # Prepare
    bob = members.actors.bob
    members.send(members.registry.functions.removeParticipant(bob), members.actors.admin)

    # Execute
    error = members.revert_of(members.registry.functions.register(MIN_STAKE), bob)

    # Assert
    assert error == ("RegistryParticipantRemoved", (bob,))
    assert members.registry.functions.participant(bob).call() == [True, True, MIN_STAKE]


def test_register_without_allowance_bubbles_the_token_error(members: Chain) -> None:
    # Prepare
    dave = members.actors.dave

    # Execute
    error = members.revert_of(members.registry.functions.register(MIN_STAKE), dave)

    # Assert
    assert error == ("ERC20InsufficientAllowance", (members.registry.address, 0, MIN_STAKE))
    assert members.registry.functions.participant(dave).call() == [False, False, 0]


def test_register_without_balance_bubbles_the_token_error(members: Chain) -> None:
    # Prepare
    outsider = members.actors.outsider
    members.send(members.token.functions.approve(members.registry.address, MIN_STAKE), outsider)

    # Execute
    error = members.revert_of(members.registry.functions.register(MIN_STAKE), outsider)

    # Assert
    assert error == ("ERC20InsufficientBalance", (outsider, 0, MIN_STAKE))


def test_register_refuses_a_stake_beyond_uint128(members: Chain) -> None:
    # Prepare
    dave = members.actors.dave

    # Execute
    error = members.revert_of(members.registry.functions.register(2**128), dave)

    # Assert
    assert error == ("SafeCastOverflowedUintDowncast", (128, 2**128))


@pytest.mark.parametrize("round_id", [0, 1, 254, 255, 509, 510, 2**64 - 1])
def test_registration_prepays_claims_storage_without_marking_any_round(members: Chain,
                                                                       round_id: int) -> None:
    # Prepare: register wrote the pre-paid marker into alice's first claims word
    alice = members.actors.alice

    # Execute
    claimed = members.registry.functions.isClaimed(round_id, alice).call()

    # Assert
    assert claimed is False
