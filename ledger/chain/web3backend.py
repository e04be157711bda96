"""What the embedded and the JSON-RPC backends share: local signing over one web3 instance.

Both backends differ only in how they reach a node, read events fast, recover the revert data
of a mined transaction, and bend time; everything else (nonces, fees, estimation, sending,
receipts, turning web3's many exception types into `ChainError`/`ContractRevert`) lives here
once, so a fix here fixes every chain.
"""

from __future__ import annotations

import threading
import time
from abc import abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractConstructor, ContractEvent, ContractFunction
from web3.exceptions import (
    ContractLogicError,
    ProviderConnectionError,
    TimeExhausted,
    TransactionNotFound,
    Web3RPCError,
)
from web3.types import EventData, TxParams, TxReceipt, Wei

from ledger.chain.base import (
    ChainBackend,
    DeployableArtifact,
    TxOutcome,
    TxRequest,
    TxSigner,
    tx_params_for,
)
from ledger.chain.nonces import NonceManager
from ledger.chain.reverts import EMPTY_REVERT, UNKNOWN_ERROR, RevertDecoder
from ledger.errors import ChainError, ContractRevert, FedLedgerError

T = TypeVar("T")

GAS_MARGIN_NUMERATOR = 6  # estimates get 20% headroom: state may change before inclusion
GAS_MARGIN_DENOMINATOR = 5
FEE_CACHE_SECONDS = 2.0

_RPC_HINTS: tuple[tuple[str, str], ...] = (
    ("nonce too low", "the account's nonce was already used: another process sends from it"),
    ("nonce too high", "a transaction with a lower nonce is missing"),
    ("insufficient funds", "the sender cannot pay value + gas: fund it first"),
    ("already known", "the same signed transaction was sent twice"),
    ("underpriced", "the fee is below what the node accepts"),
    ("exceeds block gas limit", "the gas limit is above the block gas limit"),
    ("intrinsic gas too low", "the gas limit is below the transaction's intrinsic cost"),
)

Buildable = ContractFunction | ContractConstructor


class StaleNonce(ChainError):
    """The node rejected a transaction's nonce: the account was used behind this backend's back."""


class Web3ChainBackend(ChainBackend):
    """A `ChainBackend` over a connected `Web3`; subclasses say how to reach and read the node."""

    def __init__(
        self,
        w3: Web3,
        *,
        receipt_timeout: float = 120.0,
        poll_interval: float = 0.05,
        describe: str = "chain",
    ) -> None:
        self._w3 = w3
        self._describe = describe
        self._receipt_timeout = receipt_timeout
        self._poll_interval = poll_interval
        self._decoder = RevertDecoder()
        self._fee_lock = threading.Lock()
        self._fee_cache: tuple[float, dict[str, int]] | None = None
        self._closed = False
        self._chain_id = self._guard("read the chain id", lambda: int(w3.eth.chain_id))
        self._nonces = NonceManager(self._pending_nonce)

    def _pending_nonce(self, address: str) -> int:
        checksum = Web3.to_checksum_address(address)
        return self._guard(
            f"read the nonce of {checksum}",
            lambda: int(self._w3.eth.get_transaction_count(checksum, "pending")),
        )

    # -- identity ---------------------------------------------------------------------------

    @property
    def w3(self) -> Web3:
        return self._w3

    @property
    def chain_id(self) -> int:
        return self._chain_id

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._describe}, chain_id={self._chain_id})"

    # -- contracts ---------------------------------------------------------------------------

    def register_abi(self, abi: Sequence[Mapping[str, Any]]) -> None:
        self._decoder.register_abi(plain_abi(abi))

    def contract(self, address: str, abi: Sequence[Mapping[str, Any]]) -> Contract:
        entries = plain_abi(abi)
        self._decoder.register_abi(entries)
        return self._w3.eth.contract(address=Web3.to_checksum_address(address), abi=entries)

    def deploy(
        self, artifact: DeployableArtifact, *args: Any, sender: TxSigner, gas: int | None = None
    ) -> Contract:
        abi = plain_abi(artifact.abi)
        self._decoder.register_abi(abi)
        code = HexBytes(artifact.bytecode)
        if not code:
            raise ChainError(f"artifact {artifact.name} has empty bytecode: is it abstract?")
        factory = self._w3.eth.contract(abi=abi, bytecode=code)
        try:
            constructor = factory.constructor(*args)
        except (TypeError, ValueError) as exc:
            raise ChainError(f"constructor arguments for {artifact.name} do not fit its ABI: {exc}")
        receipt = self._transact(constructor, sender, gas=gas, value=0)
        address = receipt["contractAddress"]
        if address is None:
            raise ChainError(f"deploying {artifact.name} produced no contract address")
        return self._w3.eth.contract(address=address, abi=abi)

    # -- transactions --------------------------------------------------------------------------

    def transact(
        self, fn: ContractFunction, sender: TxSigner, *, gas: int | None = None, value: int = 0
    ) -> TxReceipt:
        self._learn(fn)
        return self._transact(fn, sender, gas=gas, value=value)

    def transact_many(self, requests: Sequence[TxRequest]) -> list[TxOutcome]:
        """One request after the other, each waited for before the next is signed.

        Right for an in-process chain, which mines each transaction as it is sent and finds
        older receipts only by scanning back; `RpcChain` overrides this with batched sends.
        """
        outcomes: list[TxOutcome] = []
        for request in requests:
            self._learn(request.fn)
            tx_hash: HexBytes | None = None
            try:
                tx_hash, params = self._sign_and_send(
                    request.fn, request.sender, request.gas, request.value
                )
                receipt = self._wait(tx_hash)
                self._raise_for_status(receipt, params)
            except ChainError as exc:
                outcomes.append(TxOutcome(request, tx_hash, None, exc))
            else:
                outcomes.append(TxOutcome(request, tx_hash, receipt, None))
        return outcomes

    def send_value(self, sender: TxSigner, to: str, amount_wei: int) -> TxReceipt:
        if amount_wei < 0:
            raise ChainError(f"cannot send a negative amount ({amount_wei} wei)")
        transfer: TxParams = {
            "from": sender.address,
            "to": Web3.to_checksum_address(to),
            "value": Wei(amount_wei),
            "gas": 21_000,
        }
        tx_hash, params = self._sign_and_send_params(sender, lambda params: params, transfer)
        receipt = self._wait(tx_hash)
        self._raise_for_status(receipt, params)
        return receipt

    def call(
        self,
        fn: ContractFunction,
        sender: TxSigner | str | None = None,
        *,
        block: int | None = None,
    ) -> Any:
        self._learn(fn)
        params = tx_params_for(sender)
        return self._guard(
            f"call {fn.fn_name}",
            lambda: fn.call(params, block_identifier=block if block is not None else "latest"),
        )

    # -- reads ------------------------------------------------------------------------------

    def now(self) -> int:
        block = self._guard("read the latest block", lambda: self._w3.eth.get_block("latest"))
        return int(block["timestamp"])

    def block_number(self) -> int:
        return self._guard("read the block number", lambda: int(self._w3.eth.block_number))

    def get_events(
        self,
        event: ContractEvent,
        from_block: int = 0,
        to_block: int | None = None,
        argument_filters: Mapping[str, Any] | None = None,
    ) -> list[EventData]:
        if event.address is None:
            raise ChainError(f"event {event.event_name} is not bound to a contract address")
        last = self.block_number() if to_block is None else to_block
        if from_block < 0 or last < from_block:
            return []
        filters = dict(argument_filters or {})
        unknown = set(filters) - {arg["name"] for arg in event.abi["inputs"]}
        if unknown:
            raise ChainError(
                f"event {event.event_name} has no argument(s) {sorted(unknown)} to filter on"
            )
        found = self._scan_events(event, from_block, last, filters)
        return [item for item in found if _matches(item, filters)]

    @abstractmethod
    def _scan_events(
        self, event: ContractEvent, from_block: int, to_block: int, filters: Mapping[str, Any]
    ) -> list[EventData]:
        """Logs of `event` in [from_block, to_block]; may prefilter on indexed `filters`."""

    # -- internals ---------------------------------------------------------------------------

    def _learn(self, fn: ContractFunction) -> None:
        abi = getattr(fn, "contract_abi", None)
        if abi:
            self._decoder.register_abi(abi)

    def _transact(
        self, fn: Buildable, sender: TxSigner, *, gas: int | None, value: int
    ) -> TxReceipt:
        tx_hash, params = self._sign_and_send(fn, sender, gas, value)
        receipt = self._wait(tx_hash)
        self._raise_for_status(receipt, params)
        return receipt

    def _sign_and_send(
        self, fn: Buildable, sender: TxSigner, gas: int | None, value: int
    ) -> tuple[HexBytes, TxParams]:
        if self._closed:
            raise ChainError(f"{self!r} is closed")
        base: TxParams = {"from": sender.address, "value": Wei(value)}
        if gas is None:
            gas = self._estimate(fn, base)
        base["gas"] = gas

        def build(params: TxParams) -> TxParams:
            return self._guard(f"build {_label(fn)}", lambda: fn.build_transaction(params))

        return self._sign_and_send_params(sender, build, base)

    def _estimate(self, fn: Buildable, base: TxParams) -> int:
        """Estimated gas plus margin, against the pending block: that is where the transaction
        will run, with the timestamp a test may have set for it (the latest block's would mislead).
        """
        estimate = self._guard(
            f"estimate gas for {_label(fn)}",
            lambda: int(fn.estimate_gas(base, block_identifier="pending")),
        )
        return estimate * GAS_MARGIN_NUMERATOR // GAS_MARGIN_DENOMINATOR

    def _sign_and_send_params(
        self, sender: TxSigner, build: Callable[[TxParams], TxParams], base: TxParams
    ) -> tuple[HexBytes, TxParams]:
        """Add nonce, chain id and fees to `base`, build, sign and send; retry a stale nonce once."""
        try:
            return self._sign_and_send_once(sender, build, base)
        except StaleNonce:
            # Someone else sent from this account (another process, or a raw w3 call): the
            # rejected transaction never entered the pool, so re-reading the nonce is safe.
            self._nonces.forget(sender.address)
            return self._sign_and_send_once(sender, build, base)

    def _sign_and_send_once(
        self, sender: TxSigner, build: Callable[[TxParams], TxParams], base: TxParams
    ) -> tuple[HexBytes, TxParams]:
        if self._closed:
            raise ChainError(f"{self!r} is closed")
        with self._send_slot(sender.address) as nonce:
            params: TxParams = {
                **base,
                "nonce": nonce,
                "chainId": self._chain_id,
                **self._fee_fields(),  # type: ignore[typeddict-item]
            }
            tx = build(params)
            signed = sender.sign_transaction(dict(tx))
            tx_hash = self._send_raw(signed.raw_transaction)
        return tx_hash, tx

    @contextmanager
    def _send_slot(self, address: ChecksumAddress) -> Iterator[int]:
        """Reserve the sender's next nonce for the duration of sign-and-send."""
        with self._nonces.reserve(address) as nonce:
            yield nonce

    def _send_raw(self, raw: bytes) -> HexBytes:
        return self._guard(
            "send the transaction", lambda: HexBytes(self._w3.eth.send_raw_transaction(raw))
        )

    def _wait(self, tx_hash: HexBytes) -> TxReceipt:
        def wait() -> TxReceipt:
            return self._w3.eth.wait_for_transaction_receipt(
                tx_hash, timeout=self._receipt_timeout, poll_latency=self._poll_interval
            )

        return self._guard(f"wait for transaction {tx_hash.to_0x_hex()}", wait)

    def _raise_for_status(self, receipt: TxReceipt, params: TxParams) -> None:
        if receipt["status"] == 1:
            return
        tx_hash = HexBytes(receipt["transactionHash"])
        gas_limit = int(params.get("gas", 0))
        if gas_limit and receipt["gasUsed"] >= gas_limit:
            raise ChainError(
                f"transaction {tx_hash.to_0x_hex()} ran out of gas (used all {gas_limit}): "
                "give it more gas or let the backend estimate"
            )
        data = self._revert_data_of_mined(receipt, params)
        if data is None:
            raise ContractRevert(
                UNKNOWN_ERROR,
                (),
                f"transaction {tx_hash.to_0x_hex()} reverted in block {receipt['blockNumber']} "
                "and its revert data could not be recovered from this node",
            )
        raise self._decoder.decode(data)

    @abstractmethod
    def _revert_data_of_mined(self, receipt: TxReceipt, params: TxParams) -> bytes | None:
        """The revert data of a mined, failed transaction, or None if it cannot be recovered."""

    def _fee_fields(self) -> dict[str, int]:
        """EIP-1559 fee caps (or a legacy gas price), read at most every couple of seconds."""
        with self._fee_lock:
            cached = self._fee_cache
            if cached is not None and time.monotonic() - cached[0] < FEE_CACHE_SECONDS:
                return dict(cached[1])
            block = self._guard("read fees", lambda: self._w3.eth.get_block("latest"))
            base_fee = block.get("baseFeePerGas")
            fields: dict[str, int]
            if base_fee is None:
                fields = {"gasPrice": self._guard("read gas price", lambda: self._w3.eth.gas_price)}
            else:
                tip = self._priority_fee()
                fields = {"maxFeePerGas": 2 * int(base_fee) + tip, "maxPriorityFeePerGas": tip}
            self._fee_cache = (time.monotonic(), fields)
            return dict(fields)

    def _priority_fee(self) -> int:
        return self._guard("read the priority fee", lambda: int(self._w3.eth.max_priority_fee))

    def _forget_chain_state(self) -> None:
        """After the chain's history changed (snapshot revert): nonces and fees are stale."""
        self._nonces.forget()
        with self._fee_lock:
            self._fee_cache = None

    def _guard(self, action: str, thunk: Callable[[], T]) -> T:
        """Run `thunk`, turning every chain-side failure into a `ChainError` naming `action`."""
        try:
            return thunk()
        except FedLedgerError:
            raise
        except ContractLogicError as exc:
            raise self._revert_from_logic_error(exc) from exc
        except Exception as exc:
            translated = self._translate(action, exc)
            if translated is None:
                raise
            raise translated from exc

    def _revert_from_logic_error(self, exc: ContractLogicError) -> ContractRevert:
        data = exc.data
        if isinstance(data, str) and data.startswith("0x"):
            return self._decoder.decode(data)
        message = exc.message or str(exc)
        prefix = "execution reverted: "
        if message.startswith(prefix) and len(message) > len(prefix):
            return ContractRevert("Error", (message[len(prefix) :],))
        return ContractRevert(EMPTY_REVERT, (), message)

    def _translate(self, action: str, exc: Exception) -> ChainError | None:
        """Map a backend exception to a `ChainError`, or None for a genuine bug."""
        if isinstance(exc, TimeExhausted):
            return ChainError(
                f"could not {action} on {self._describe}: no receipt within "
                f"{self._receipt_timeout:.0f} s; is the node mining?"
            )
        if isinstance(exc, TransactionNotFound):
            return ChainError(f"could not {action} on {self._describe}: {exc}")
        if isinstance(exc, Web3RPCError):
            message = _rpc_message(exc)
            described = describe_rpc_failure(action, self._describe, message)
            if "nonce" in message.lower() and "send" in action:
                return StaleNonce(described)
            return ChainError(described)
        if isinstance(
            exc, (ProviderConnectionError, ConnectionError, OSError)
        ) or _is_requests_error(exc):
            return ChainError(
                f"could not {action}: cannot reach {self._describe} ({exc}); is the node running?"
            )
        return None


def describe_rpc_failure(action: str, where: str, message: str) -> str:
    """ "could not <action> on <where>: <node's message> (<what it usually means>)"."""
    for needle, hint in _RPC_HINTS:
        if needle in message.lower():
            return f"could not {action} on {where}: {message} ({hint})"
    return f"could not {action} on {where}: {message}"


def plain_abi(abi: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """`abi` as plain lists and dicts (artifacts may hold read-only mappings and tuples)."""
    return [_thaw(entry) for entry in abi]


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _thaw(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_thaw(v) for v in value]
    return value


def _rpc_message(exc: Web3RPCError) -> str:
    response = exc.rpc_response
    if response is not None:
        error = response.get("error")
        if isinstance(error, Mapping) and error.get("message"):
            return str(error["message"])
    return str(exc.message)


def _is_requests_error(exc: Exception) -> bool:
    module = type(exc).__module__
    return module.startswith(("requests.", "urllib3."))


def _label(fn: Buildable) -> str:
    return getattr(fn, "fn_name", None) or "contract deployment"


def _matches(item: EventData, filters: Mapping[str, Any]) -> bool:
    args = item["args"]
    for name, wanted in filters.items():
        value = args[name]
        accepted = wanted if isinstance(wanted, (list, tuple, set, frozenset)) else (wanted,)
        if not any(_same(value, candidate) for candidate in accepted):
            return False
    return True


def _same(value: Any, candidate: Any) -> bool:
    if isinstance(value, str) and isinstance(candidate, str) and Web3.is_address(value):
        return value.lower() == candidate.lower()
    if isinstance(value, (bytes, bytearray)) and isinstance(candidate, (bytes, bytearray, str)):
        try:
            return bytes(value) == bytes(HexBytes(candidate))
        except ValueError:
            return False
    return bool(value == candidate)
