"""The in-process chain (eth-tester + py-evm): the default for demos and unit tests.

It needs no daemon and starts in milliseconds, but three things about eth-tester are fixed here
rather than leaked to callers:
- web3's eth-tester provider flattens revert data into a string, so custom errors could not be
  decoded; this provider answers reverts the way a real node does (JSON-RPC error code 3 with
  the raw data), so the shared code path decodes them identically on every backend;
- eth-tester's `get_logs` looks every transaction up by scanning the chain backwards, which is
  quadratic in chain length; events are read here straight from py-evm's block receipts, with
  each block's bloom filter skipping blocks that cannot hold the event;
- eth-tester is not thread-safe; every request holds one lock.
One transaction per block, auto-mined, like anvil's default.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from eth.exceptions import Revert as EVMRevert
from eth.vm.spoof import SpoofTransaction
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_bloom.bloom import BloomFilter
from eth_tester import EthereumTester, PyEVMBackend
from eth_tester.backends.pyevm.main import _execute_and_revert_transaction
from eth_tester.exceptions import SnapshotNotFound, TransactionFailed
from eth_tester.exceptions import ValidationError as TesterValidationError
from eth_utils.abi import event_abi_to_log_topic
from eth_utils.address import to_checksum_address
from eth_utils.exceptions import ValidationError as EVMValidationError
from hexbytes import HexBytes
from web3 import EthereumTesterProvider, Web3
from web3.contract.contract import ContractEvent
from web3.datastructures import AttributeDict
from web3.types import EventData, RPCEndpoint, RPCResponse, TxParams, TxReceipt

from ledger.chain.base import TestChainBackend
from ledger.chain.web3backend import Web3ChainBackend
from ledger.errors import ChainError

DEFAULT_ACCOUNTS = 10


class _RevertDataPyEVMBackend(PyEVMBackend):  # type: ignore[misc]  # eth-tester is untyped
    """py-evm backend that keeps raw revert data and estimates gas in one execution.

    eth-tester's `call` turns revert data into a string; its `estimate_gas` binary-searches the
    gas limit with about a dozen full executions (0.5 s for a registry call on py-evm). Here a
    single execution under the block's gas limit measures the gas used before refunds; the
    shared backend adds its 20% margin on top, which covers EIP-150's 63/64 rule for any
    realistic call depth. An underestimate would surface as a clear "ran out of gas" error.
    """

    def _simulate(self, transaction: dict[str, Any], block_number: Any) -> tuple[Any, int]:
        limited = dict(transaction)
        limited.setdefault("gas", self._max_available_gas())
        unsigned = self._get_normalized_and_unsigned_evm_transaction(limited, block_number)
        spoofed = SpoofTransaction(unsigned, from_=transaction["from"])
        computation = _execute_and_revert_transaction(self.chain, spoofed, block_number)
        if computation.is_error:
            if isinstance(computation.error, EVMRevert):
                raise TransactionFailed(computation.output)
            raise TransactionFailed(str(computation.error))
        return computation, int(limited["gas"])

    def call(self, transaction: dict[str, Any], block_number: Any = "latest") -> bytes:
        computation, _ = self._simulate(transaction, block_number)
        return bytes(computation.output)

    def estimate_gas(self, transaction: dict[str, Any], block_number: Any = "latest") -> int:
        without_limit = {k: v for k, v in transaction.items() if k != "gas"}
        computation, limit = self._simulate(without_limit, block_number)
        return limit - int(computation.get_gas_remaining())


def _revert_bytes(exc: TransactionFailed) -> bytes | None:
    """Raw revert data carried by eth-tester's exception, if it is a revert."""
    if not exc.args:
        return None
    first = exc.args[0]
    if isinstance(first, EVMRevert):
        first = first.args[0] if first.args else b""
    if isinstance(first, (bytes, bytearray)):
        return bytes(first)
    return None


class _EmbeddedProvider(EthereumTesterProvider):
    """Answers like a JSON-RPC node: reverts and rejected transactions become RPC errors."""

    def __init__(self, tester: EthereumTester) -> None:
        super().__init__(tester)
        self._lock = threading.RLock()
        self._next_id = 0

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        namespace, _, endpoint = method.partition("_")
        delegator = (self.api_endpoints or {}).get(namespace, {}).get(endpoint)
        with self._lock:
            if delegator is None:
                return super().make_request(method, params)
            self._next_id += 1
            request_id = self._next_id
            try:
                result = delegator(self.ethereum_tester, params)
            except TransactionFailed as exc:
                data = _revert_bytes(exc)
                if data is None:
                    error = {"code": -32000, "message": f"execution failed: {exc.args[0]}"}
                else:
                    error = {"code": 3, "message": "execution reverted", "data": "0x" + data.hex()}
                return {"jsonrpc": "2.0", "id": request_id, "error": error}  # type: ignore[typeddict-item]
            except (TesterValidationError, EVMValidationError) as exc:
                message = f"transaction rejected: {exc}"
                return {
                    "jsonrpc": "2.0",
                    "id": request_id,
                    "error": {"code": -32000, "message": message},
                }
            except NotImplementedError:
                return super().make_request(method, params)
            return {"jsonrpc": "2.0", "id": request_id, "result": result}


class EmbeddedChain(Web3ChainBackend, TestChainBackend):
    """A fresh in-memory chain with `accounts` funded dev accounts (keys 0x..01, 0x..02, ...)."""

    def __init__(self, *, accounts: int = DEFAULT_ACCOUNTS, receipt_timeout: float = 30.0) -> None:
        if accounts < 1:
            raise ChainError(f"an embedded chain needs at least one account, got {accounts}")
        genesis_state = dict(PyEVMBackend.generate_genesis_state(num_accounts=accounts))
        self._pyevm = _RevertDataPyEVMBackend(genesis_state=genesis_state)
        self._tester = EthereumTester(self._pyevm, auto_mine_transactions=True)
        self._provider = _EmbeddedProvider(self._tester)
        self._accounts = [
            Account.from_key(key.to_bytes()) for key in self._pyevm.account_keys or ()
        ]
        super().__init__(
            Web3(self._provider),
            receipt_timeout=receipt_timeout,
            poll_interval=0.0,
            describe="embedded eth-tester chain",
        )

    def dev_accounts(self) -> list[LocalAccount]:
        return list(self._accounts)

    def close(self) -> None:
        self._closed = True

    # -- events ------------------------------------------------------------------------------

    def _scan_events(
        self, event: ContractEvent, from_block: int, to_block: int, filters: Mapping[str, Any]
    ) -> list[EventData]:
        address = HexBytes(Web3.to_checksum_address(event.address))
        topic0 = event_abi_to_log_topic(event.abi)
        found: list[EventData] = []
        with self._provider._lock:
            chain = self._pyevm.chain
            head = chain.chaindb.get_canonical_head().block_number
            for number in range(max(from_block, 0), min(to_block, head) + 1):
                header = chain.get_canonical_block_header_by_number(number)
                bloom = BloomFilter(header.bloom)
                if bytes(address) not in bloom or topic0 not in bloom:
                    continue
                block = chain.get_canonical_block_by_number(number)
                receipts = block.get_receipts(chain.chaindb)
                for tx_index, (tx, receipt) in enumerate(
                    zip(block.transactions, receipts, strict=True)
                ):
                    for log_index, log in enumerate(receipt.logs):
                        topics = [t.to_bytes(32, "big") for t in log.topics]
                        if log.address != bytes(address) or not topics or topics[0] != topic0:
                            continue
                        entry = AttributeDict(
                            {
                                "address": to_checksum_address(log.address),
                                "topics": [HexBytes(t) for t in topics],
                                "data": HexBytes(log.data),
                                "blockNumber": number,
                                "blockHash": HexBytes(block.hash),
                                "transactionHash": HexBytes(tx.hash),
                                "transactionIndex": tx_index,
                                "logIndex": log_index,
                                "removed": False,
                            }
                        )
                        found.append(event.process_log(entry))
        return found

    # -- reverts -----------------------------------------------------------------------------

    def _revert_data_of_mined(self, receipt: TxReceipt, params: TxParams) -> bytes | None:
        """Re-execute the exact transaction on its parent's state in its own block's header."""
        with self._provider._lock:
            chain = self._pyevm.chain
            block = chain.get_canonical_block_by_number(receipt["blockNumber"])
            tx = block.transactions[receipt["transactionIndex"]]
            parent = chain.get_canonical_block_header_by_number(block.number - 1)
            header = block.header.copy(state_root=parent.state_root, gas_used=0)
            state = chain.get_vm(at_header=header).state
            snapshot = state.snapshot()
            try:
                computation = state.apply_transaction(tx)
            finally:
                state.revert(snapshot)
        if computation.is_error and isinstance(computation.error, EVMRevert):
            return bytes(computation.output)
        return None

    # -- test powers -------------------------------------------------------------------------

    def set_next_block_timestamp(self, timestamp: int) -> None:
        latest = self.now()
        if timestamp <= latest:
            raise ChainError(
                f"next block timestamp {timestamp} must be after the latest block's {latest}"
            )
        with self._provider._lock:
            chain = self._pyevm.chain
            chain.header = chain.header.copy(timestamp=timestamp)

    def mine(self, timestamp: int | None = None) -> int:
        if timestamp is not None:
            self.set_next_block_timestamp(timestamp)
        with self._provider._lock:
            self._tester.mine_blocks(1)
        return self.block_number()

    def snapshot(self) -> int:
        with self._provider._lock:
            return int(self._tester.take_snapshot())

    def revert(self, snapshot_id: int) -> None:
        with self._provider._lock:
            try:
                self._tester.revert_to_snapshot(snapshot_id)
            except SnapshotNotFound as exc:
                raise ChainError(f"cannot revert to snapshot {snapshot_id}: {exc}") from exc
        self._forget_chain_state()
