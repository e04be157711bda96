"""TrainingRegistry governance: construction, task, parameters, aggregator, removal, slashing,
treasury, and that every one of them is refused to anyone but DEFAULT_ADMIN_ROLE."""

from __future__ import annotations

from typing import Any

import pytest
from eth_utils.crypto import keccak
from web3.logs import DISCARD

from tests.contracts.scenario import (
    AGGREGATOR_BOND,
    CHALLENGE_BOND,
    MIN_STAKE,
    PARAMS,
    TASK_CID,
    TASK_HASH,
    TOKEN,
    Chain,
)

ZERO = "0x0000000000000000000000000000000000000000"
DEFAULT_ADMIN_ROLE = b"\x00" * 32


# -- construction --------------------------------------------------------------------------------


def test_constructor_stores_parameters_and_logs_them(deployed: Chain) -> None:
    # Prepare
    params = (1, 2, 3, 4, 5, 6, True)

    # Execute
    registry, receipt = deployed.deploy("TrainingRegistry", deployed.actors.admin,
                                        deployed.token.address, params)

    # Assert
    assert registry.functions.parameters().call() == params
    assert registry.functions.token().call() == deployed.token.address
    assert registry.functions.hasRole(DEFAULT_ADMIN_ROLE, deployed.actors.admin).call() is True
    assert registry.functions.aggregator().call() == ZERO
    assert registry.functions.nextRound().call() == 0
    assert registry.functions.task().call() == [b"\x00" * 32, ""]
    assert [dict(e["args"]) for e in registry.events.ParametersSet().process_receipt(receipt, errors=DISCARD)] == [
        {"minStake": 1, "rewardPerRound": 2, "challengeWindow": 3, "challengeBond": 4,
         "aggregatorBond": 5, "missedRevealPenalty": 6, "admissionRequired": True}]


@pytest.mark.parametrize("which", ["admin", "token"])
def test_constructor_rejects_zero_addresses(deployed: Chain, which: str) -> None:
    # Prepare
    admin = ZERO if which == "admin" else deployed.actors.admin
    token = ZERO if which == "token" else deployed.token.address

    # Execute
    error = deployed.deploy_revert_of("TrainingRegistry", admin, token, PARAMS)

    # Assert
    assert error == ("RegistryZeroAddress", ())


def test_roles_are_the_hashes_of_their_names(deployed: Chain) -> None:
    # Assert
    assert deployed.aggregator_role == keccak(text="AGGREGATOR_ROLE")
    assert deployed.auditor_role == keccak(text="AUDITOR_ROLE")


def test_supports_its_interface_and_access_control(deployed: Chain) -> None:
    # Prepare
    functions = [e for e in deployed.registry.abi if e["type"] == "function"]
    inherited = {"DEFAULT_ADMIN_ROLE", "hasRole", "getRoleAdmin", "grantRole", "revokeRole",
                 "renounceRole", "supportsInterface"}
    interface_id = 0
    for entry in functions:
        if entry["name"] in inherited:
            continue
        signature = f"{entry['name']}({','.join(_abi_type(i) for i in entry['inputs'])})"
        interface_id ^= int.from_bytes(keccak(text=signature)[:4], "big")

    # Execute
    supports = deployed.registry.functions.supportsInterface

    # Assert
    assert supports(interface_id.to_bytes(4, "big")).call() is True
    assert supports(bytes.fromhex("7965db0b")).call() is True  # IAccessControl
    assert supports(bytes.fromhex("01ffc9a7")).call() is True  # IERC165
    assert supports(bytes.fromhex("ffffffff")).call() is False


def _abi_type(entry: Any) -> str:
    if entry["type"].startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in entry["components"])
        return f"({inner}){entry['type'][5:]}"
    return str(entry["type"])


# -- task and parameters -------------------------------------------------------------------------


def test_set_task_stores_and_logs_it(base: Chain) -> None:
    # Prepare
    new_hash, new_cid = keccak(b"task v2"), "bafkreitaskv2"

    # Execute
    receipt = base.send(base.registry.functions.setTask(new_hash, new_cid), base.actors.admin)

    # Assert
    assert base.events(receipt, "TaskSet") == [{"taskHash": new_hash, "taskCID": new_cid}]
    assert base.registry.functions.task().call() == [new_hash, new_cid]


@pytest.mark.parametrize(
    ("task_hash", "cid", "error"),
    [(b"\x00" * 32, "bafkreitask", "RegistryZeroHash"), (TASK_HASH, "", "RegistryEmptyCID")],
)
def test_set_task_rejects_missing_content(base: Chain, task_hash: bytes, cid: str,
                                          error: str) -> None:
    # Execute
    outcome = base.revert_of(base.registry.functions.setTask(task_hash, cid), base.actors.admin)

    # Assert
    assert outcome == (error, ())
    assert base.registry.functions.task().call() == [TASK_HASH, TASK_CID]


def test_set_parameters_stores_and_logs_them(base: Chain) -> None:
    # Prepare
    params = (0, 5 * TOKEN, 30, 0, 7 * TOKEN, TOKEN, False)

    # Execute
    receipt = base.send(base.registry.functions.setParameters(params), base.actors.admin)

    # Assert
    assert base.registry.functions.parameters().call() == params
    assert base.events(receipt, "ParametersSet") == [
        {"minStake": 0, "rewardPerRound": 5 * TOKEN, "challengeWindow": 30, "challengeBond": 0,
         "aggregatorBond": 7 * TOKEN, "missedRevealPenalty": TOKEN, "admissionRequired": False}]


@pytest.mark.parametrize(
    "call",
    [
        "setTask", "setParameters", "appointAggregator", "removeParticipant", "slash",
        "resolveChallenge", "withdrawTreasury", "admitParticipant",
    ],
)
def test_governance_functions_refuse_non_admins(members: Chain, call: str) -> None:
    # Prepare
    functions = members.registry.functions
    alice, bob = members.actors.alice, members.actors.bob
    fn = {
        "setTask": lambda: functions.setTask(keccak(b"x"), "bafkreix"),
        "setParameters": lambda: functions.setParameters((0, 0, 0, 0, 0, 0, False)),
        "admitParticipant": lambda: functions.admitParticipant(alice),
        "appointAggregator": lambda: functions.appointAggregator(alice),
        "removeParticipant": lambda: functions.removeParticipant(bob),
        "slash": lambda: functions.slash(bob, 1),
        "resolveChallenge": lambda: functions.resolveChallenge(0, True),
        "withdrawTreasury": lambda: functions.withdrawTreasury(alice, 0),
    }[call]()

    # Execute
    by_participant = members.revert_of(fn, alice)
    by_aggregator = members.revert_of(fn, members.actors.aggregator)

    # Assert
    assert by_participant == ("AccessControlUnauthorizedAccount", (alice, DEFAULT_ADMIN_ROLE))
    assert by_aggregator == ("AccessControlUnauthorizedAccount",
                             (members.actors.aggregator, DEFAULT_ADMIN_ROLE))


# -- aggregator ----------------------------------------------------------------------------------


def test_appoint_aggregator_moves_the_role_and_logs_both(base: Chain) -> None:
    # Prepare
    previous, current = base.actors.aggregator, base.actors.carol

    # Execute
    receipt = base.send(base.registry.functions.appointAggregator(current), base.actors.admin)

    # Assert
    assert base.events(receipt, "AggregatorAppointed") == [{"previous": previous, "current": current}]
    assert base.events(receipt, "RoleRevoked") == [
        {"role": base.aggregator_role, "account": previous, "sender": base.actors.admin}]
    assert base.events(receipt, "RoleGranted") == [
        {"role": base.aggregator_role, "account": current, "sender": base.actors.admin}]
    assert base.registry.functions.aggregator().call() == current
    assert base.registry.functions.hasRole(base.aggregator_role, previous).call() is False
    assert base.registry.functions.hasRole(base.aggregator_role, current).call() is True


def test_reappointing_the_aggregator_keeps_the_role(base: Chain) -> None:
    # Prepare
    aggregator = base.actors.aggregator

    # Execute
    receipt = base.send(base.registry.functions.appointAggregator(aggregator), base.actors.admin)

    # Assert
    assert base.events(receipt, "AggregatorAppointed") == [
        {"previous": aggregator, "current": aggregator}]
    assert base.events(receipt, "RoleRevoked") == []
    assert base.registry.functions.hasRole(base.aggregator_role, aggregator).call() is True


def test_appoint_aggregator_rejects_zero_address(base: Chain) -> None:
    # Execute
    error = base.revert_of(base.registry.functions.appointAggregator(ZERO), base.actors.admin)

    # Assert
    assert error == ("RegistryZeroAddress", ())
    assert base.registry.functions.aggregator().call() == base.actors.aggregator


def test_aggregator_role_cannot_be_granted_directly(base: Chain) -> None:
    # Prepare
    carol = base.actors.carol

    # Execute
    error = base.revert_of(base.registry.functions.grantRole(base.aggregator_role, carol),
                           base.actors.admin)

    # Assert
    assert error == ("RegistryAggregatorRoleManaged", (carol,))
    assert base.registry.functions.hasRole(base.aggregator_role, carol).call() is False


@pytest.mark.parametrize("how", ["revoke", "renounce"])
def test_dropping_the_aggregator_role_leaves_no_aggregator(base: Chain, how: str) -> None:
    # Prepare
    aggregator = base.actors.aggregator
    functions = base.registry.functions
    fn, sender = ((functions.revokeRole(base.aggregator_role, aggregator), base.actors.admin)
                  if how == "revoke" else
                  (functions.renounceRole(base.aggregator_role, aggregator), aggregator))

    # Execute
    receipt = base.send(fn, sender)

    # Assert
    assert base.events(receipt, "AggregatorAppointed") == [{"previous": aggregator, "current": ZERO}]
    assert functions.aggregator().call() == ZERO
    assert functions.hasRole(base.aggregator_role, aggregator).call() is False


# -- removal -------------------------------------------------------------------------------------


def test_remove_participant_bars_it_but_keeps_its_stake(members: Chain) -> None:
    # Prepare
    bob = members.actors.bob
    balance = members.token.functions.balanceOf(members.registry.address).call()

    # Execute
    receipt = members.send(members.registry.functions.removeParticipant(bob), members.actors.admin)

    # Assert
    assert members.events(receipt, "ParticipantRemoved") == [{"account": bob}]
    assert members.registry.functions.participant(bob).call() == [True, True, MIN_STAKE]
    assert members.token.functions.balanceOf(members.registry.address).call() == balance


def test_remove_participant_rejects_strangers_and_repeats(members: Chain) -> None:
    # Prepare
    admin, bob, dave = members.actors.admin, members.actors.bob, members.actors.dave
    members.send(members.registry.functions.removeParticipant(bob), admin)

    # Execute
    stranger = members.revert_of(members.registry.functions.removeParticipant(dave), admin)
    repeat = members.revert_of(members.registry.functions.removeParticipant(bob), admin)

    # Assert
    assert stranger == ("RegistryNotParticipant", (dave,))
    assert repeat == ("RegistryParticipantRemoved", (bob,))


# -- slashing and treasury -----------------------------------------------------------------------


def test_slash_moves_stake_to_treasury(members: Chain) -> None:
    # Prepare
    bob = members.actors.bob

    # Execute
    receipt = members.send(members.registry.functions.slash(bob, 2 * TOKEN), members.actors.admin)

    # Assert
    assert members.events(receipt, "ParticipantSlashed") == [
        {"account": bob, "amount": 2 * TOKEN, "remainingStake": MIN_STAKE - 2 * TOKEN}]
    assert members.registry.functions.participant(bob).call() == [True, False, MIN_STAKE - 2 * TOKEN]
    assert members.registry.functions.treasury().call() == 2 * TOKEN


def test_slash_reaches_removed_participants(members: Chain) -> None:
    # Prepare
    bob = members.actors.bob
    members.send(members.registry.functions.removeParticipant(bob), members.actors.admin)

    # Execute
    members.send(members.registry.functions.slash(bob, MIN_STAKE), members.actors.admin)

    # Assert
    assert members.registry.functions.participant(bob).call() == [True, True, 0]
    assert members.registry.functions.treasury().call() == MIN_STAKE


def test_slash_rejects_more_than_the_stake_and_strangers(members: Chain) -> None:
    # Prepare
    admin, bob, dave = members.actors.admin, members.actors.bob, members.actors.dave

    # Execute
    too_much = members.revert_of(members.registry.functions.slash(bob, MIN_STAKE + 1), admin)
    stranger = members.revert_of(members.registry.functions.slash(dave, 1), admin)

    # Assert
    assert too_much == ("RegistrySlashTooLarge", (bob, MIN_STAKE + 1, MIN_STAKE))
    assert stranger == ("RegistryNotParticipant", (dave,))
    assert members.registry.functions.treasury().call() == 0


def test_withdraw_treasury_pays_out_slashed_stake(members: Chain) -> None:
    # Prepare
    admin, bob, dave = members.actors.admin, members.actors.bob, members.actors.dave
    members.send(members.registry.functions.slash(bob, 3 * TOKEN), admin)
    dave_before = members.token.functions.balanceOf(dave).call()

    # Execute
    receipt = members.send(members.registry.functions.withdrawTreasury(dave, 2 * TOKEN), admin)

    # Assert
    assert members.events(receipt, "TreasuryWithdrawn") == [{"to": dave, "amount": 2 * TOKEN}]
    assert members.events(receipt, "Transfer", members.token) == [
        {"from": members.registry.address, "to": dave, "value": 2 * TOKEN}]
    assert members.token.functions.balanceOf(dave).call() == dave_before + 2 * TOKEN
    assert members.registry.functions.treasury().call() == TOKEN


def test_withdraw_treasury_rejects_overdraft_and_zero_receiver(members: Chain) -> None:
    # Prepare
    admin, bob = members.actors.admin, members.actors.bob
    members.send(members.registry.functions.slash(bob, TOKEN), admin)

    # Execute
    overdraft = members.revert_of(members.registry.functions.withdrawTreasury(bob, TOKEN + 1), admin)
    zero = members.revert_of(members.registry.functions.withdrawTreasury(ZERO, 1), admin)

    # Assert
    assert overdraft == ("RegistryTreasuryInsufficient", (TOKEN + 1, TOKEN))
    assert zero == ("RegistryZeroAddress", ())
    assert members.registry.functions.treasury().call() == TOKEN


def test_stakes_are_not_treasury(members: Chain) -> None:
    # Execute
    error = members.revert_of(members.registry.functions.withdrawTreasury(members.actors.admin, 1),
                              members.actors.admin)

    # Assert: three stakes and the aggregator's bond are held, none of it may be withdrawn
    assert members.token.functions.balanceOf(members.registry.address).call() == (
        3 * MIN_STAKE + AGGREGATOR_BOND)
    assert error == ("RegistryTreasuryInsufficient", (1, 0))
    assert CHALLENGE_BOND > 0
