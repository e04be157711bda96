"""RewardToken: metadata, role-gated minting, EIP-2612 permits, constructor checks."""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data

from tests.contracts.scenario import TOKEN, Chain

ZERO = "0x0000000000000000000000000000000000000000"
DEFAULT_ADMIN_ROLE = b"\x00" * 32


def _key_of(address: str) -> bytes:
    """eth-tester's dev accounts use the keys 0x..01, 0x..02, ..."""
    for i in range(1, 21):
        key = i.to_bytes(32, "big")
        if Account.from_key(key).address == address:
            return key
    raise AssertionError(f"no dev key for {address}")


def _permit_signature(chain: Chain, owner: str, spender: str, value: int, nonce: int,
                      deadline: int) -> Any:
    typed = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Permit": [
                {"name": "owner", "type": "address"},
                {"name": "spender", "type": "address"},
                {"name": "value", "type": "uint256"},
                {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
            ],
        },
        "primaryType": "Permit",
        "domain": {"name": "FedLedger Reward", "version": "1", "chainId": chain.w3.eth.chain_id,
                   "verifyingContract": chain.token.address},
        "message": {"owner": owner, "spender": spender, "value": value, "nonce": nonce,
                    "deadline": deadline},
    }
    return Account.sign_message(encode_typed_data(full_message=typed), _key_of(owner))


def test_metadata_names_the_token_and_starts_without_supply(deployed: Chain) -> None:
    # Prepare
    token, _ = deployed.deploy("RewardToken", deployed.actors.admin)

    # Execute
    metadata = (token.functions.name().call(), token.functions.symbol().call(),
                token.functions.decimals().call(), token.functions.totalSupply().call())

    # Assert
    assert metadata == ("FedLedger Reward", "FLR", 18, 0)
    assert token.functions.hasRole(DEFAULT_ADMIN_ROLE, deployed.actors.admin).call() is True
    assert token.functions.MINTER_ROLE().call() == deployed.minter_role


def test_constructor_rejects_zero_admin(deployed: Chain) -> None:
    # Execute
    error = deployed.deploy_revert_of("RewardToken", ZERO)

    # Assert
    assert error == ("RewardTokenZeroAdmin", ())


def test_minter_mints_to_account_with_transfer_event(base: Chain) -> None:
    # Prepare
    alice = base.actors.alice
    supply = base.token.functions.totalSupply().call()

    # Execute
    receipt = base.send(base.token.functions.mint(alice, 7 * TOKEN), base.actors.admin)

    # Assert
    assert base.events(receipt, "Transfer", base.token) == [
        {"from": ZERO, "to": alice, "value": 7 * TOKEN}]
    assert base.token.functions.balanceOf(alice).call() == 7 * TOKEN
    assert base.token.functions.totalSupply().call() == supply + 7 * TOKEN


def test_mint_without_minter_role_is_refused(base: Chain) -> None:
    # Prepare
    alice = base.actors.alice

    # Execute
    error = base.revert_of(base.token.functions.mint(alice, 1), alice)

    # Assert
    assert error == ("AccessControlUnauthorizedAccount", (alice, base.minter_role))
    assert base.token.functions.balanceOf(alice).call() == 0


def test_mint_to_zero_address_is_refused(base: Chain) -> None:
    # Execute
    error = base.revert_of(base.token.functions.mint(ZERO, 1), base.actors.admin)

    # Assert
    assert error == ("ERC20InvalidReceiver", (ZERO,))


def test_only_admin_grants_minter_role(base: Chain) -> None:
    # Prepare
    bob = base.actors.bob

    # Execute
    refused = base.revert_of(base.token.functions.grantRole(base.minter_role, bob), bob)
    receipt = base.send(base.token.functions.grantRole(base.minter_role, bob), base.actors.admin)

    # Assert
    assert refused == ("AccessControlUnauthorizedAccount", (bob, DEFAULT_ADMIN_ROLE))
    assert base.events(receipt, "RoleGranted", base.token) == [
        {"role": base.minter_role, "account": bob, "sender": base.actors.admin}]
    assert base.token.functions.hasRole(base.minter_role, bob).call() is True


def test_permit_sets_allowance_once_and_rejects_replay_and_expiry(base: Chain) -> None:
    # Prepare
    owner, spender = base.actors.alice, base.actors.bob
    deadline = base.next_timestamp + 100
    signature = _permit_signature(base, owner, spender, 3 * TOKEN, 0, deadline)
    permit = base.token.functions.permit(owner, spender, 3 * TOKEN, deadline, signature.v,
                                         signature.r.to_bytes(32, "big"),
                                         signature.s.to_bytes(32, "big"))

    # Execute
    receipt = base.send(permit, spender)
    replay = base.revert_of(permit, spender)
    late_signature = _permit_signature(base, owner, spender, TOKEN, 1, base.now)
    late = base.revert_of(base.token.functions.permit(
        owner, spender, TOKEN, base.now, late_signature.v, late_signature.r.to_bytes(32, "big"),
        late_signature.s.to_bytes(32, "big")), spender)

    # Assert
    assert base.events(receipt, "Approval", base.token) == [
        {"owner": owner, "spender": spender, "value": 3 * TOKEN}]
    assert base.token.functions.allowance(owner, spender).call() == 3 * TOKEN
    assert base.token.functions.nonces(owner).call() == 1
    assert replay[0] == "ERC2612InvalidSigner"
    assert replay[1][1] == owner and replay[1][0] != owner
    assert late == ("ERC2612ExpiredSignature", (base.now,))
