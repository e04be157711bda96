"""The RewardToken binding: ERC-20 moves, minting rights, EIP-2612 permits, decoded errors."""

from __future__ import annotations

import dataclasses

import pytest
from eth_account import Account

from ledger.contracts.artifacts import load_artifact
from ledger.contracts.binding import snake_case
from ledger.contracts.deploy import DevNetwork
from ledger.contracts.token import (
    MINTER_ROLE,
    ONE_TOKEN,
    TOKEN_EVENTS,
    Approval,
    RewardToken,
    Transfer,
)
from ledger.errors import ContractRevert

ZERO = "0x0000000000000000000000000000000000000000"


def test_metadata_is_fedledger_reward(network: DevNetwork) -> None:
    # Execute
    token = network.token

    # Assert
    assert (token.name(), token.symbol(), token.decimals()) == ("FedLedger Reward", "FLR", 18)
    assert token.has_role(MINTER_ROLE, network.registry.address)
    assert not token.has_role(MINTER_ROLE, network.admin.address)


def test_transfer_moves_balance_and_logs_a_typed_record(network: DevNetwork) -> None:
    # Prepare
    token = network.token
    alice, bob = network.participants[0], network.participants[1]
    alice_before, bob_before = token.balance_of(alice.address), token.balance_of(bob.address)

    # Execute
    receipt = token.transfer(bob.address, 3 * ONE_TOKEN, sender=alice)

    # Assert
    assert token.balance_of(alice.address) == alice_before - 3 * ONE_TOKEN
    assert token.balance_of(bob.address) == bob_before + 3 * ONE_TOKEN
    (record,) = token.decode_receipt_events(receipt)
    assert record == Transfer(
        block_number=receipt["blockNumber"],
        tx_hash=bytes(receipt["transactionHash"]),
        log_index=record.log_index,
        from_=alice.address,
        to=bob.address,
        value=3 * ONE_TOKEN,
    )
    assert token.events_transfer(from_=alice.address, to=bob.address) == [record]


def test_overspending_decodes_the_erc20_error(network: DevNetwork) -> None:
    # Prepare
    token = network.token
    alice = network.participants[0]
    balance = token.balance_of(alice.address)

    # Execute
    with pytest.raises(ContractRevert) as caught:
        token.transfer(network.outsider.address, balance + 1, sender=alice)

    # Assert
    assert caught.value.error_name == "ERC20InsufficientBalance"
    assert caught.value.error_args == (alice.address, balance, balance + 1)
    assert token.balance_of(alice.address) == balance


def test_only_minters_mint(network: DevNetwork) -> None:
    # Prepare
    supply = network.token.total_supply()

    # Execute
    with pytest.raises(ContractRevert) as caught:
        network.token.mint(network.admin.address, 1, sender=network.admin)

    # Assert
    assert caught.value.error_name == "AccessControlUnauthorizedAccount"
    assert caught.value.error_args == (network.admin.address, MINTER_ROLE)
    assert network.token.total_supply() == supply


def test_mints_are_transfers_from_zero(network: DevNetwork) -> None:
    # Execute
    mints = network.token.events_transfer(from_=ZERO)

    # Assert: bootstrap minted stake + spare to each participant, spare to the auditor and the
    # bond to the aggregator
    assert len(mints) == len(network.participants) + 2
    assert {m.to for m in mints} == {p.address for p in network.participants} | {
        network.auditor.address,
        network.aggregator.address,
    }
    assert sum(m.value for m in mints) == network.token.total_supply()


def test_approve_and_transfer_from(network: DevNetwork) -> None:
    # Prepare
    token = network.token
    owner, spender = network.participants[0], network.participants[1]

    # Execute
    approval = token.approve(spender.address, 2 * ONE_TOKEN, sender=owner)
    token.transfer_from(owner.address, network.outsider.address, ONE_TOKEN, sender=spender)

    # Assert
    (record,) = token.decode_receipt_events(approval)
    assert isinstance(record, Approval)
    assert (record.owner, record.spender, record.value) == (
        owner.address,
        spender.address,
        2 * ONE_TOKEN,
    )
    assert token.allowance(owner.address, spender.address) == ONE_TOKEN
    assert token.balance_of(network.outsider.address) == ONE_TOKEN


def test_permit_approves_without_the_owner_paying_gas(network: DevNetwork) -> None:
    # Prepare
    token = network.token
    owner = network.participants[2]
    deadline = network.backend.now() + 3600
    nonce = token.nonces(owner.address)
    owner_eth = network.backend.w3.eth.get_balance(owner.address)

    # Execute
    signature = token.permit_signature(owner, network.registry.address, 7 * ONE_TOKEN, deadline)
    token.permit(signature, sender=network.outsider)

    # Assert
    assert token.allowance(owner.address, network.registry.address) == 7 * ONE_TOKEN
    assert token.nonces(owner.address) == nonce + 1
    assert network.backend.w3.eth.get_balance(owner.address) == owner_eth


def test_forged_permit_decodes_invalid_signer(network: DevNetwork) -> None:
    # Prepare: a stranger signs a permit in the owner's name
    token = network.token
    owner = network.participants[2]
    forger = Account.create()
    deadline = network.backend.now() + 3600
    genuine = token.permit_signature(forger, network.outsider.address, ONE_TOKEN, deadline)
    forged = dataclasses.replace(genuine, owner=owner.address)

    # Execute
    with pytest.raises(ContractRevert) as caught:
        token.permit(forged, sender=network.outsider)

    # Assert
    assert caught.value.error_name == "ERC2612InvalidSigner"
    assert caught.value.error_args[1] == owner.address
    assert token.allowance(owner.address, network.outsider.address) == 0


def test_expired_permit_decodes_expired_signature(network: DevNetwork) -> None:
    # Prepare
    token = network.token
    owner = network.participants[3]
    deadline = network.backend.now() + 10
    signature = token.permit_signature(owner, network.outsider.address, ONE_TOKEN, deadline)
    network.backend.advance_time(60)

    # Execute
    with pytest.raises(ContractRevert) as caught:
        token.permit(signature, sender=network.outsider)

    # Assert
    assert (caught.value.error_name, caught.value.error_args) == (
        "ERC2612ExpiredSignature",
        (deadline,),
    )


def test_binding_covers_every_function_and_event_of_the_abi() -> None:
    # Prepare
    abi = load_artifact("RewardToken").abi
    constants = {"DEFAULT_ADMIN_ROLE", "MINTER_ROLE"}  # module constants
    renamed = {"DOMAIN_SEPARATOR": "domain_separator", "getRoleAdmin": "role_admin"}
    not_bound = {"eip712Domain"}  # EIP-5267 introspection; permit_signature builds the domain

    # Execute
    functions = {e["name"] for e in abi if e["type"] == "function"} - constants - not_bound
    missing = [
        name for name in functions if not hasattr(RewardToken, renamed.get(name, snake_case(name)))
    ]
    events = {e["name"]: e for e in abi if e["type"] == "event"}
    records = {record.EVENT_NAME: record for record in TOKEN_EVENTS}

    # Assert
    assert missing == []
    assert set(records) == set(events)
    for name, entry in events.items():
        fields = [f.name for f in dataclasses.fields(records[name])][3:]
        assert fields == [snake_case(i["name"]) for i in entry["inputs"]], name
        assert hasattr(RewardToken, f"events_{snake_case(name)}"), name
