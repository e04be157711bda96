"""The one chain interface every fedledger component talks to.

Participants, the aggregator and the auditor must run unchanged against the in-process
test chain, a managed anvil, or a consortium's JSON-RPC node. They therefore depend on
`ChainBackend` only; test-only powers (moving time, mining, snapshots) live on the narrower
`TestChainBackend` so production code cannot reach for them by accident.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, Self, runtime_checkable

from eth_account.datastructures import SignedTransaction
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractEvent, ContractFunction
from web3.types import EventData, TxParams, TxReceipt

from ledger.errors import ChainError


@runtime_checkable
class DeployableArtifact(Protocol):
    """What `ChainBackend.deploy` needs from a compiled contract (ContractArtifact fits)."""

    @property
    def name(self) -> str: ...

    @property
    def abi(self) -> Sequence[Mapping[str, Any]]: ...

    @property
    def bytecode(self) -> str | bytes: ...


@runtime_checkable
class TxSigner(Protocol):
    """An account that signs transactions locally: eth-account's LocalAccount or a keys.Signer."""

    @property
    def address(self) -> ChecksumAddress: ...

    def sign_transaction(self, transaction_dict: Mapping[str, Any]) -> SignedTransaction: ...


@dataclass(frozen=True)
class TxRequest:
    """One transaction for `ChainBackend.transact_many`: a contract call, who signs it, its gas.

    `gas` None means estimate it just before signing, against the state at that moment; a
    batch whose calls depend on each other's effects (approve, then register) must give gas.
    """

    fn: ContractFunction
    sender: TxSigner
    gas: int | None = None
    value: int = 0


@dataclass(frozen=True)
class TxOutcome:
    """What became of one `TxRequest`: its receipt, or the error that stopped it."""

    request: TxRequest
    tx_hash: HexBytes | None
    receipt: TxReceipt | None
    error: ChainError | None

    @property
    def ok(self) -> bool:
        """True when the transaction was mined with status 1."""
        return self.error is None and self.receipt is not None


class ChainBackend(ABC):
    """A connection to one Ethereum chain that signs locally and explains every failure.

    Every transaction is signed with eth-account in this process and sent raw, so the same
    code works against nodes that hold no keys. Failures come out as `ChainError`; a revert
    comes out as `ContractRevert(name, args)` decoded from the custom errors of every ABI the
    backend has seen (deployed, attached via `register_abi`, or called through), whether the
    revert happened at gas estimation, at call time, or in a mined transaction.
    """

    @property
    @abstractmethod
    def w3(self) -> Web3:
        """The web3 instance, for reads the backend does not wrap."""

    @property
    @abstractmethod
    def chain_id(self) -> int:
        """The chain id every transaction is signed for."""

    @abstractmethod
    def dev_accounts(self) -> list[LocalAccount]:
        """Funded accounts a test or demo may use (none on a chain the project did not start)."""

    @abstractmethod
    def register_abi(self, abi: Sequence[Mapping[str, Any]]) -> None:
        """Teach the revert decoder the custom errors of `abi` (a contract attached by address)."""

    @abstractmethod
    def contract(self, address: str, abi: Sequence[Mapping[str, Any]]) -> Contract:
        """A web3 contract object at `address`, its errors registered for revert decoding."""

    @abstractmethod
    def deploy(
        self, artifact: DeployableArtifact, *args: Any, sender: TxSigner, gas: int | None = None
    ) -> Contract:
        """Deploy `artifact` with constructor `args`, signed by `sender`; return the contract."""

    @abstractmethod
    def transact(
        self, fn: ContractFunction, sender: TxSigner, *, gas: int | None = None, value: int = 0
    ) -> TxReceipt:
        """Sign, send and wait for `fn`; return the receipt of a successful transaction.

        Raises `ContractRevert` when it reverts (at estimation or once mined) and `ChainError`
        for nonce, funds, connection or timeout problems. Explicit `gas` skips estimation.
        """

    @abstractmethod
    def transact_many(self, requests: Sequence[TxRequest]) -> list[TxOutcome]:
        """Send every request and wait for every receipt; one outcome per request, in order.

        Nothing is raised for a single failed transaction: its outcome carries the error, so
        one bad participant never hides the others' results. JSON-RPC backends sign everything
        first and send and poll in batches (a few HTTP round trips per hundreds of
        transactions); requests of one sender are sent in list order.
        """

    @abstractmethod
    def send_value(self, sender: TxSigner, to: str, amount_wei: int) -> TxReceipt:
        """Transfer ether (gas money) from `sender` to `to`."""

    @abstractmethod
    def call(
        self,
        fn: ContractFunction,
        sender: TxSigner | str | None = None,
        *,
        block: int | None = None,
    ) -> Any:
        """Evaluate a view (or simulate a call) at the latest or given block; reverts decoded."""

    @abstractmethod
    def now(self) -> int:
        """Timestamp of the latest block: the chain's clock, not this machine's."""

    @abstractmethod
    def block_number(self) -> int:
        """Number of the latest block."""

    @abstractmethod
    def get_events(
        self,
        event: ContractEvent,
        from_block: int = 0,
        to_block: int | None = None,
        argument_filters: Mapping[str, Any] | None = None,
    ) -> list[EventData]:
        """Decoded logs of `event` (from `contract.events.X`) in the inclusive block range.

        `argument_filters` maps argument names to a value or a list of accepted values; it
        works for indexed and non-indexed arguments alike. Results are in chain order.
        """

    @abstractmethod
    def close(self) -> None:
        """Release connections and processes this backend owns; safe to call twice."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class TestChainBackend(ChainBackend):
    """A chain whose clock and history a test or simulation may bend.

    Only chains the project itself runs (embedded, managed anvil) offer these powers.
    """

    __test__ = False  # not a pytest test class despite the name

    @abstractmethod
    def set_next_block_timestamp(self, timestamp: int) -> None:
        """The next block mined (by a transaction or `mine`) gets exactly `timestamp`."""

    @abstractmethod
    def mine(self, timestamp: int | None = None) -> int:
        """Mine one empty block (at `timestamp` if given); return its number."""

    def advance_time(self, seconds: int) -> int:
        """Mine an empty block `seconds` after the latest one; return the new `now()`."""
        if seconds < 1:
            raise ChainError(f"advance_time needs at least 1 second, got {seconds}")
        target = self.now() + seconds
        self.mine(target)
        return target

    @abstractmethod
    def snapshot(self) -> int:
        """Remember the current chain state; return an id for `revert`."""

    @abstractmethod
    def revert(self, snapshot_id: int) -> None:
        """Return the chain to the state of `snapshot_id` (which is used up)."""


def tx_params_for(sender: TxSigner | str | None) -> TxParams:
    """The `from` field for a call, from a signer, an address or nothing."""
    if sender is None:
        return {}
    address = sender if isinstance(sender, str) else sender.address
    return {"from": Web3.to_checksum_address(address)}
