"""Typed binding of the RewardToken (FLR): ERC-20 + EIP-2612 permit + AccessControl minting.

Participants stake it, challengers bond it and the registry mints it as rewards; this binding is
how every Python component moves it. Amounts are integer base units (18 decimals) throughout.
`permit_signature` produces the EIP-712 signature for a gasless approval.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.messages import encode_typed_data
from eth_typing import ChecksumAddress
from eth_utils.crypto import keccak
from web3.types import TxReceipt

from ledger.chain.base import ChainBackend, TxSigner
from ledger.contracts.artifacts import ContractArtifact, load_artifact
from ledger.contracts.binding import (
    AccessControlBinding,
    ChainEvent,
    InvalidArgument,
    RoleAdminChanged,
    RoleGranted,
    RoleRevoked,
    as_address,
    as_bytes32,
    as_uint,
)

ARTIFACT_NAME = "RewardToken"
MINTER_ROLE = keccak(b"MINTER_ROLE")
DECIMALS = 18
ONE_TOKEN = 10**DECIMALS


@dataclass(frozen=True)
class Transfer(ChainEvent):
    """ERC-20: `value` base units moved from `from_` to `to` (a mint comes from the zero address)."""

    EVENT_NAME = "Transfer"
    from_: ChecksumAddress
    to: ChecksumAddress
    value: int


@dataclass(frozen=True)
class Approval(ChainEvent):
    """ERC-20: `owner` allowed `spender` to move `value` base units."""

    EVENT_NAME = "Approval"
    owner: ChecksumAddress
    spender: ChecksumAddress
    value: int


@dataclass(frozen=True)
class EIP712DomainChanged(ChainEvent):
    """EIP-5267: the signing domain changed (never, for this token; listed for completeness)."""

    EVENT_NAME = "EIP712DomainChanged"


@dataclass(frozen=True)
class PermitSignature:
    """An EIP-2612 permit signed off chain by the owner."""

    owner: ChecksumAddress
    spender: ChecksumAddress
    value: int
    deadline: int
    v: int
    r: bytes
    s: bytes


TOKEN_EVENTS: tuple[type[ChainEvent], ...] = (
    Transfer,
    Approval,
    EIP712DomainChanged,
    RoleGranted,
    RoleRevoked,
    RoleAdminChanged,
)


class RewardToken(AccessControlBinding):
    """The RewardToken at `address`; every mutating method takes the signing `sender`."""

    ARTIFACT = ARTIFACT_NAME
    EVENTS = TOKEN_EVENTS

    def __init__(
        self,
        backend: ChainBackend,
        address: str,
        *,
        deployment_block: int = 0,
        artifact: ContractArtifact | None = None,
    ) -> None:
        super().__init__(
            backend,
            address,
            artifact=artifact if artifact is not None else load_artifact(ARTIFACT_NAME),
            deployment_block=deployment_block,
        )

    # -- ERC-20 views -------------------------------------------------------------------------

    def name(self) -> str:
        return str(self._call("name"))

    def symbol(self) -> str:
        return str(self._call("symbol"))

    def decimals(self) -> int:
        return int(self._call("decimals"))

    def total_supply(self) -> int:
        return int(self._call("totalSupply"))

    def balance_of(self, account: str) -> int:
        return int(self._call("balanceOf", as_address(account, "account")))

    def allowance(self, owner: str, spender: str) -> int:
        return int(
            self._call("allowance", as_address(owner, "owner"), as_address(spender, "spender"))
        )

    def nonces(self, owner: str) -> int:
        """The owner's next EIP-2612 permit nonce."""
        return int(self._call("nonces", as_address(owner, "owner")))

    def domain_separator(self) -> bytes:
        """The EIP-712 domain separator permits are signed under."""
        return bytes(self._call("DOMAIN_SEPARATOR"))

    # -- ERC-20 transactions ----------------------------------------------------------------

    def transfer(
        self, to: str, amount: int, *, sender: TxSigner, gas: int | None = None
    ) -> TxReceipt:
        return self._transact(
            "transfer", as_address(to, "to"), as_uint(amount, "amount"), sender=sender, gas=gas
        )

    def approve(
        self, spender: str, amount: int, *, sender: TxSigner, gas: int | None = None
    ) -> TxReceipt:
        return self._transact(
            "approve",
            as_address(spender, "spender"),
            as_uint(amount, "amount"),
            sender=sender,
            gas=gas,
        )

    def transfer_from(
        self, owner: str, to: str, amount: int, *, sender: TxSigner, gas: int | None = None
    ) -> TxReceipt:
        return self._transact(
            "transferFrom",
            as_address(owner, "owner"),
            as_address(to, "to"),
            as_uint(amount, "amount"),
            sender=sender,
            gas=gas,
        )

    def mint(self, to: str, amount: int, *, sender: TxSigner, gas: int | None = None) -> TxReceipt:
        """Create `amount` base units for `to` (sender needs MINTER_ROLE)."""
        return self._transact(
            "mint", as_address(to, "to"), as_uint(amount, "amount"), sender=sender, gas=gas
        )

    # -- EIP-2612 -----------------------------------------------------------------------------

    def permit_signature(
        self, owner: TxSigner, spender: str, value: int, deadline: int
    ) -> PermitSignature:
        """Sign (off chain, no gas) an approval of `value` to `spender` valid until `deadline`."""
        sign_message = getattr(owner, "sign_message", None)
        if sign_message is None:
            raise InvalidArgument(
                "the owner must be able to sign messages (a LocalAccount or Signer)"
            )
        checked_spender = as_address(spender, "spender")
        name = self.name()
        domain = {
            "name": name,
            "version": "1",
            "chainId": self._backend.chain_id,
            "verifyingContract": self.address,
        }
        types = {
            "Permit": [
                {"name": "owner", "type": "address"},
                {"name": "spender", "type": "address"},
                {"name": "value", "type": "uint256"},
                {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
            ]
        }
        message = {
            "owner": owner.address,
            "spender": checked_spender,
            "value": as_uint(value, "value"),
            "nonce": self.nonces(owner.address),
            "deadline": as_uint(deadline, "deadline"),
        }
        signed = sign_message(encode_typed_data(domain, types, message))
        return PermitSignature(
            owner=owner.address,
            spender=checked_spender,
            value=value,
            deadline=deadline,
            v=int(signed.v),
            r=int(signed.r).to_bytes(32, "big"),
            s=int(signed.s).to_bytes(32, "big"),
        )

    def permit(
        self, signature: PermitSignature, *, sender: TxSigner, gas: int | None = None
    ) -> TxReceipt:
        """Submit an owner's permit (anyone may pay the gas)."""
        return self._transact(
            "permit",
            signature.owner,
            signature.spender,
            signature.value,
            signature.deadline,
            signature.v,
            as_bytes32(signature.r, "r"),
            as_bytes32(signature.s, "s"),
            sender=sender,
            gas=gas,
        )

    # -- events -------------------------------------------------------------------------------

    def events_transfer(
        self,
        from_block: int | None = None,
        to_block: int | None = None,
        *,
        from_: str | None = None,
        to: str | None = None,
    ) -> list[Transfer]:
        return self._events(Transfer, from_block, to_block, {"from": from_, "to": to})

    def events_approval(
        self,
        from_block: int | None = None,
        to_block: int | None = None,
        *,
        owner: str | None = None,
        spender: str | None = None,
    ) -> list[Approval]:
        return self._events(Approval, from_block, to_block, {"owner": owner, "spender": spender})

    def events_eip712_domain_changed(
        self, from_block: int | None = None, to_block: int | None = None
    ) -> list[EIP712DomainChanged]:
        return self._events(EIP712DomainChanged, from_block, to_block, {})
