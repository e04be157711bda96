"""What every typed contract binding shares: argument checks, calls, event records.

A binding wraps (backend, address) and turns each contract function into a typed Python method
and each event into a frozen dataclass, so the rest of fedledger never handles raw web3 dicts or
camelCase keys. Event records carry where they were logged (`block_number`, `tx_hash`,
`log_index`), which an auditor needs to cite them.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from eth_typing import ChecksumAddress
from eth_utils.abi import event_abi_to_log_topic
from eth_utils.address import is_address, to_checksum_address
from hexbytes import HexBytes
from web3.contract import Contract
from web3.contract.contract import ContractEvent, ContractFunction
from web3.exceptions import MismatchedABI, Web3ValidationError
from web3.types import EventData, TxReceipt

from ledger.chain.base import ChainBackend, TxSigner
from ledger.contracts.artifacts import ContractArtifact
from ledger.errors import ChainError

UINT64_MAX = 2**64 - 1
UINT256_MAX = 2**256 - 1


class InvalidArgument(ChainError):
    """A binding was called with a value the contract's ABI cannot carry."""


@dataclass(frozen=True)
class ChainEvent:
    """Where an event was logged; every typed event record starts with these fields."""

    EVENT_NAME: ClassVar[str] = ""

    block_number: int
    tx_hash: bytes
    log_index: int


E = TypeVar("E", bound=ChainEvent)


@dataclass(frozen=True)
class RoleGranted(ChainEvent):
    """OpenZeppelin AccessControl: `sender` granted `role` to `account`."""

    EVENT_NAME = "RoleGranted"
    role: bytes
    account: ChecksumAddress
    sender: ChecksumAddress


@dataclass(frozen=True)
class RoleRevoked(ChainEvent):
    """OpenZeppelin AccessControl: `sender` revoked `role` from `account`."""

    EVENT_NAME = "RoleRevoked"
    role: bytes
    account: ChecksumAddress
    sender: ChecksumAddress


@dataclass(frozen=True)
class RoleAdminChanged(ChainEvent):
    """OpenZeppelin AccessControl: the admin role of `role` changed."""

    EVENT_NAME = "RoleAdminChanged"
    role: bytes
    previous_admin_role: bytes
    new_admin_role: bytes


def snake_case(name: str) -> str:
    """`numSamples` -> `num_samples`, `CID` runs kept together (`updateCID` -> `update_cid`)."""
    if name == "from":
        return "from_"
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return spaced.lower().lstrip("_")


def _plain(value: Any) -> Any:
    if isinstance(value, HexBytes):
        return bytes(value)
    if isinstance(value, bytes):
        return bytes(value)
    if isinstance(value, (list, tuple)):
        return tuple(_plain(v) for v in value)
    return value


def event_record(cls: type[E], data: EventData) -> E:
    """Build the typed record `cls` from web3's decoded event."""
    fields = {f.name for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {
        "block_number": int(data["blockNumber"]),
        "tx_hash": bytes(HexBytes(data["transactionHash"])),
        "log_index": int(data["logIndex"]),
    }
    for key, value in data["args"].items():
        name = snake_case(key)
        if name not in fields:
            raise ChainError(
                f"event {cls.EVENT_NAME} carries argument {key!r} that {cls.__name__} does not "
                "know: the binding is older than the contract's ABI"
            )
        values[name] = _plain(value)
    return cls(**values)


# -- argument checks -------------------------------------------------------------------------


def as_bytes32(value: bytes | str, what: str) -> bytes:
    """A 32-byte value from bytes or 0x-hex, else `InvalidArgument` naming `what`."""
    try:
        raw = bytes(HexBytes(value))
    except (ValueError, TypeError) as exc:
        raise InvalidArgument(f"{what} must be 32 bytes or 0x-hex, got {value!r}") from exc
    if len(raw) != 32:
        raise InvalidArgument(f"{what} must be exactly 32 bytes, got {len(raw)}")
    return raw


def as_address(value: str, what: str) -> ChecksumAddress:
    """A checksummed address, else `InvalidArgument` naming `what`."""
    if not isinstance(value, str) or not is_address(value):
        raise InvalidArgument(f"{what} must be a 20-byte hex address, got {value!r}")
    return to_checksum_address(value)


def as_uint(value: int, what: str, maximum: int = UINT256_MAX) -> int:
    """A non-negative int no larger than `maximum`, else `InvalidArgument` naming `what`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise InvalidArgument(f"{what} must be an integer in [0, {maximum}], got {value!r}")
    return value


def as_text(value: str, what: str) -> str:
    """A str, else `InvalidArgument` naming `what`."""
    if not isinstance(value, str):
        raise InvalidArgument(f"{what} must be a string, got {type(value).__name__}")
    return value


# -- the binding base ------------------------------------------------------------------------


class ContractBinding:
    """A deployed contract at `address` on `backend`, with typed helpers for subclasses."""

    ARTIFACT: ClassVar[str] = ""
    EVENTS: ClassVar[tuple[type[ChainEvent], ...]] = ()

    def __init__(
        self,
        backend: ChainBackend,
        address: str,
        *,
        artifact: ContractArtifact,
        deployment_block: int = 0,
    ) -> None:
        self._backend = backend
        self._artifact = artifact
        self._contract = backend.contract(
            as_address(address, f"{self.ARTIFACT} address"), artifact.abi
        )
        self._deployment_block = deployment_block
        self._by_topic: dict[bytes, type[ChainEvent]] = {}
        abi_events = {e["name"]: e for e in artifact.abi if e.get("type") == "event"}
        for record in self.EVENTS:
            entry = abi_events.get(record.EVENT_NAME)
            if entry is None:
                raise ChainError(
                    f"{self.ARTIFACT} ABI has no event {record.EVENT_NAME}: the binding and the "
                    "compiled artifact disagree"
                )
            self._by_topic[event_abi_to_log_topic(dict(entry))] = record  # type: ignore[arg-type]

    @property
    def address(self) -> ChecksumAddress:
        """Where the contract lives."""
        return self._contract.address

    @property
    def backend(self) -> ChainBackend:
        """The chain it lives on."""
        return self._backend

    @property
    def contract(self) -> Contract:
        """The raw web3 contract, for what the binding does not wrap."""
        return self._contract

    @property
    def deployment_block(self) -> int:
        """A block at or before deployment: the default start of event scans."""
        return self._deployment_block

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.address})"

    def function(self, name: str, *args: Any) -> ContractFunction:
        """The raw call `name(*args)` (ABI-checked), e.g. for a `TxRequest` in a bulk send."""
        return self._fn(name, *args)

    def _fn(self, name: str, *args: Any) -> ContractFunction:
        try:
            function: ContractFunction = self._contract.get_function_by_name(name)(*args)
            return function
        except (MismatchedABI, Web3ValidationError, TypeError, ValueError) as exc:
            raise InvalidArgument(
                f"{self.ARTIFACT}.{name}{args!r} does not fit the ABI: {exc}"
            ) from exc

    def _transact(self, name: str, *args: Any, sender: TxSigner, gas: int | None) -> TxReceipt:
        return self._backend.transact(self._fn(name, *args), sender, gas=gas)

    def _call(self, name: str, *args: Any) -> Any:
        return self._backend.call(self._fn(name, *args))

    def _events(
        self,
        record: type[E],
        from_block: int | None,
        to_block: int | None,
        filters: Mapping[str, Any],
    ) -> list[E]:
        event: ContractEvent = getattr(self._contract.events, record.EVENT_NAME)
        chosen = {key: value for key, value in filters.items() if value is not None}
        start = self._deployment_block if from_block is None else from_block
        found = self._backend.get_events(event, start, to_block, chosen)
        return [event_record(record, item) for item in found]

    def decode_receipt_events(self, receipt: TxReceipt) -> list[ChainEvent]:
        """Typed records of every event this contract logged in `receipt`, in log order."""
        records: list[ChainEvent] = []
        for log in receipt["logs"]:
            if to_checksum_address(log["address"]) != self.address or not log["topics"]:
                continue
            record = self._by_topic.get(bytes(HexBytes(log["topics"][0])))
            if record is None:
                continue
            event: ContractEvent = getattr(self._contract.events, record.EVENT_NAME)
            records.append(event_record(record, event().process_log(log)))
        return records


class AccessControlBinding(ContractBinding):
    """A binding of an OpenZeppelin AccessControl contract: role checks, grants and their events."""

    def supports_interface(self, interface_id: bytes) -> bool:
        """ERC-165: whether the contract declares the 4-byte `interface_id`."""
        if not isinstance(interface_id, bytes) or len(interface_id) != 4:
            raise InvalidArgument(f"an ERC-165 interface id is 4 bytes, got {interface_id!r}")
        return bool(self._call("supportsInterface", interface_id))

    def has_role(self, role: bytes, account: str) -> bool:
        """Whether `account` holds `role`."""
        return bool(self._call("hasRole", as_bytes32(role, "role"), as_address(account, "account")))

    def role_admin(self, role: bytes) -> bytes:
        """The role whose holders may grant and revoke `role`."""
        return bytes(self._call("getRoleAdmin", as_bytes32(role, "role")))

    def grant_role(
        self, role: bytes, account: str, *, sender: TxSigner, gas: int | None = None
    ) -> TxReceipt:
        """Grant `role` to `account` (the sender must hold the role's admin role)."""
        return self._transact(
            "grantRole",
            as_bytes32(role, "role"),
            as_address(account, "account"),
            sender=sender,
            gas=gas,
        )

    def revoke_role(
        self, role: bytes, account: str, *, sender: TxSigner, gas: int | None = None
    ) -> TxReceipt:
        """Revoke `role` from `account`."""
        return self._transact(
            "revokeRole",
            as_bytes32(role, "role"),
            as_address(account, "account"),
            sender=sender,
            gas=gas,
        )

    def renounce_role(self, role: bytes, *, sender: TxSigner, gas: int | None = None) -> TxReceipt:
        """The sender gives up `role`."""
        return self._transact(
            "renounceRole", as_bytes32(role, "role"), sender.address, sender=sender, gas=gas
        )

    def events_role_granted(
        self,
        from_block: int | None = None,
        to_block: int | None = None,
        *,
        role: bytes | None = None,
        account: str | None = None,
    ) -> list[RoleGranted]:
        return self._events(RoleGranted, from_block, to_block, {"role": role, "account": account})

    def events_role_revoked(
        self,
        from_block: int | None = None,
        to_block: int | None = None,
        *,
        role: bytes | None = None,
        account: str | None = None,
    ) -> list[RoleRevoked]:
        return self._events(RoleRevoked, from_block, to_block, {"role": role, "account": account})

    def events_role_admin_changed(
        self,
        from_block: int | None = None,
        to_block: int | None = None,
        *,
        role: bytes | None = None,
    ) -> list[RoleAdminChanged]:
        return self._events(RoleAdminChanged, from_block, to_block, {"role": role})
