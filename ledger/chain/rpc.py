"""Any Ethereum JSON-RPC node over HTTP: anvil, geth, Besu, a consortium's PoA chain.

This is what an auditor points at a network it does not run. It holds no test powers and knows
no funded accounts unless given keys. Proof-of-authority chains (Clique/IBFT put 65+ bytes in
`extraData`) are detected from the first block read and get web3's PoA middleware.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import requests
from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from eth_utils.abi import function_abi_to_4byte_selector
from eth_utils.hexadecimal import add_0x_prefix
from hexbytes import HexBytes
from requests.adapters import HTTPAdapter
from requests.exceptions import RequestException
from web3 import HTTPProvider, Web3
from web3._utils.contracts import encode_abi
from web3._utils.method_formatters import receipt_formatter
from web3.contract.contract import ContractEvent, ContractFunction
from web3.datastructures import AttributeDict
from web3.exceptions import ContractLogicError, Web3RPCError
from web3.middleware import ExtraDataToPOAMiddleware
from web3.providers.rpc.utils import ExceptionRetryConfiguration
from web3.types import EventData, TxParams, TxReceipt, Wei

from ledger.chain.base import TxOutcome, TxRequest
from ledger.chain.web3backend import Web3ChainBackend, describe_rpc_failure
from ledger.errors import ChainError, ConfigError

DEFAULT_LOG_CHUNK_BLOCKS = 10_000
BATCH_SIZE = 200  # JSON-RPC calls per HTTP request in bulk sends and receipt polls
HTTP_POOL_SIZE = 32  # threads sending concurrently each need a connection
_PLAIN_EXTRA_DATA_HEX_CHARS = 2 + 2 * 32  # "0x" + at most 32 bytes on a non-PoA chain


@dataclass
class _Pending:
    """One request's progress through a bulk send."""

    request: TxRequest
    raw: bytes | None = None
    tx_hash: HexBytes | None = None
    params: TxParams | None = None
    sent: bool = False
    receipt: TxReceipt | None = None
    error: ChainError | None = None


def validate_rpc_url(url: str) -> str:
    """`url` if it is an http(s) URL with a host, else a `ConfigError` saying what is wrong."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError(
            f"chain RPC URL {url!r} is not an http:// or https:// URL with a host "
            "(for example http://127.0.0.1:8545)"
        )
    try:
        parsed.port  # noqa: B018 - validates the port number
    except ValueError as exc:
        raise ConfigError(f"chain RPC URL {url!r} has an invalid port: {exc}") from exc
    return url


class RpcChain(Web3ChainBackend):
    """A chain reached at `url`; `accounts` are keys the caller knows to be funded there."""

    def __init__(
        self,
        url: str,
        *,
        accounts: Sequence[LocalAccount] = (),
        request_timeout: float = 10.0,
        receipt_timeout: float = 120.0,
        poll_interval: float = 0.05,
        log_chunk_blocks: int = DEFAULT_LOG_CHUNK_BLOCKS,
    ) -> None:
        self._url = validate_rpc_url(url)
        if log_chunk_blocks < 1:
            raise ConfigError(f"log_chunk_blocks must be positive, got {log_chunk_blocks}")
        self._log_chunk_blocks = log_chunk_blocks
        self._accounts = list(accounts)
        self._selectors: dict[int, tuple[Any, HexStr]] = {}  # id(function ABI) -> (ABI, selector)
        self._session = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=HTTP_POOL_SIZE)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._provider = HTTPProvider(
            url,
            session=self._session,
            request_kwargs={"timeout": request_timeout},
            exception_retry_configuration=ExceptionRetryConfiguration(
                errors=(ConnectionError, RequestException),
                retries=2,
                backoff_factor=0.05,
            ),
        )
        w3 = Web3(self._provider)
        super().__init__(
            w3, receipt_timeout=receipt_timeout, poll_interval=poll_interval, describe=url
        )
        self._inject_poa_if_needed()

    @property
    def url(self) -> str:
        """The JSON-RPC endpoint."""
        return self._url

    def dev_accounts(self) -> list[LocalAccount]:
        return list(self._accounts)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._session.close()

    def _inject_poa_if_needed(self) -> None:
        response = self._guard(
            "read the latest block",
            lambda: self._provider.make_request("eth_getBlockByNumber", ["latest", False]),
        )
        block = response.get("result") or {}
        extra = str(block.get("extraData", "0x"))
        if len(extra) > _PLAIN_EXTRA_DATA_HEX_CHARS:
            self._w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)

    # -- bulk ----------------------------------------------------------------------------------

    def transact_many(self, requests: Sequence[TxRequest]) -> list[TxOutcome]:
        """Sign every request, send them in JSON-RPC batches, poll receipts in batches.

        Two HTTP round trips per `BATCH_SIZE` transactions instead of two per transaction: what
        makes a 1,000-participant round practical over HTTP. Sending is pipelined: one sender
        thread posts each batch as soon as it is signed while this thread signs the next, so
        the node executes one batch while the next is being signed. Batches go out in list
        order on that single thread, so one sender's transactions reach the node in nonce order.
        A batch that fails as a whole (node down, batch refused) gives each of its requests
        that `ChainError` as outcome, and their senders' nonces are read again next time.
        """
        prepared: list[_Pending] = []
        ready: list[_Pending] = []
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rpc-send") as sender:
            sends: list[tuple[Future[None], list[_Pending]]] = []
            for request in requests:
                self._learn(request.fn)
                try:
                    raw, tx_hash, params = self._sign_only(request)
                except ChainError as exc:
                    prepared.append(_Pending(request, error=exc))
                    continue
                pending = _Pending(request, raw=raw, tx_hash=tx_hash, params=params)
                prepared.append(pending)
                ready.append(pending)
                if len(ready) == BATCH_SIZE:
                    sends.append((sender.submit(self._send_batch, ready), ready))
                    ready = []
            if ready:
                sends.append((sender.submit(self._send_batch, ready), ready))
            for send, chunk in sends:
                try:
                    send.result()
                except ChainError as exc:  # the node refused or never got the whole batch
                    for item in chunk:
                        item.error = exc
                        self._nonces.forget(item.request.sender.address)
        self._collect_receipts([p for p in prepared if p.error is None])
        outcomes: list[TxOutcome] = []
        for pending in prepared:
            if pending.error is None and pending.receipt is not None and pending.params is not None:
                try:
                    self._raise_for_status(pending.receipt, pending.params)
                except ChainError as exc:
                    pending.error = exc
            outcomes.append(
                TxOutcome(
                    pending.request,
                    pending.tx_hash if pending.sent else None,
                    pending.receipt if pending.error is None else None,
                    pending.error,
                )
            )
        return outcomes

    def _sign_only(self, request: TxRequest) -> tuple[bytes, HexBytes, TxParams]:
        if self._closed:
            raise ChainError(f"{self!r} is closed")
        base: TxParams = {"from": request.sender.address, "value": Wei(request.value)}
        fn = request.fn
        gas = request.gas
        if gas is None:
            gas = self._estimate(fn, base)
        data = self._calldata(fn)
        with self._send_slot(request.sender.address) as nonce:
            params: TxParams = {
                **base,
                "gas": gas,
                "nonce": nonce,
                "chainId": self._chain_id,
                **self._fee_fields(),  # type: ignore[typeddict-item]
            }
            if data is None:
                tx = self._guard(f"build {fn.fn_name}", lambda: fn.build_transaction(params))
            else:
                tx = {**params, "to": fn.address, "data": data}
            signed = request.sender.sign_transaction(dict(tx))
        return bytes(signed.raw_transaction), HexBytes(signed.hash), tx

    def _calldata(self, fn: ContractFunction) -> HexStr | None:
        """`fn`'s call data, encoded by web3's own ABI encoder with the selector cached.

        `build_transaction` resolves the function among the whole ABI again for every call
        (a keccak of every function signature each time): with thousands of transactions in
        one bulk send that, not signing, dominated. None when `fn` is not a plain bound
        function call (keyword arguments, no address): the caller then builds it through web3.
        """
        abi = fn.abi
        if fn.kwargs or fn.address is None or abi.get("type") != "function":
            return None
        cached = self._selectors.get(id(abi))
        if cached is None or cached[0] is not abi:
            cached = (abi, add_0x_prefix(HexStr(function_abi_to_4byte_selector(abi).hex())))
            self._selectors[id(abi)] = cached
        selector = cached[1]
        return self._guard(
            f"encode {fn.fn_name}", lambda: encode_abi(self._w3, abi, fn.args, selector)
        )

    def _send_batch(self, chunk: list[_Pending]) -> None:
        """Send one batch of signed transactions; mark each sent or record the node's refusal."""
        calls = [("eth_sendRawTransaction", ["0x" + p.raw.hex()]) for p in chunk if p.raw]
        responses = self._batch("send transactions", calls)
        for item, response in zip(chunk, responses, strict=True):
            error = response.get("error")
            if error:
                message = (
                    error.get("message", str(error)) if isinstance(error, Mapping) else str(error)
                )
                item.error = ChainError(
                    describe_rpc_failure("send the transaction", self._url, message)
                )
                self._nonces.forget(item.request.sender.address)
            else:
                item.sent = True

    def _collect_receipts(self, pending: list[_Pending]) -> None:
        waiting = [p for p in pending if p.sent]
        deadline = time.monotonic() + self._receipt_timeout
        while waiting:
            for start in range(0, len(waiting), BATCH_SIZE):
                chunk = waiting[start : start + BATCH_SIZE]
                calls = [("eth_getTransactionReceipt", [p.tx_hash.to_0x_hex()]) for p in chunk]  # type: ignore[union-attr]
                for item, response in zip(chunk, self._batch("read receipts", calls), strict=True):
                    result = response.get("result")
                    if result:
                        item.receipt = AttributeDict.recursive(receipt_formatter(result))
            waiting = [p for p in waiting if p.receipt is None]
            if not waiting:
                return
            if time.monotonic() > deadline:
                for item in waiting:
                    item.error = ChainError(
                        f"no receipt for {item.tx_hash.to_0x_hex() if item.tx_hash else '?'} within "
                        f"{self._receipt_timeout:.0f} s on {self._url}; is the node mining?"
                    )
                return
            time.sleep(self._poll_interval)

    def _batch(self, action: str, calls: list[tuple[str, list[Any]]]) -> list[Mapping[str, Any]]:
        responses = self._guard(
            action,
            lambda: self._provider.make_batch_request(calls),  # type: ignore[arg-type]
        )
        if not isinstance(responses, list) or len(responses) != len(calls):
            error = responses.get("error") if isinstance(responses, Mapping) else responses
            raise ChainError(f"could not {action} on {self._url}: batch request refused ({error})")
        return list(responses)

    # -- events ------------------------------------------------------------------------------

    def _scan_events(
        self, event: ContractEvent, from_block: int, to_block: int, filters: Mapping[str, Any]
    ) -> list[EventData]:
        indexed = {arg["name"] for arg in event.abi["inputs"] if arg.get("indexed")}
        topic_filters = {
            name: list(value) if isinstance(value, (set, frozenset, tuple)) else value
            for name, value in filters.items()
            if name in indexed
        }
        found: list[EventData] = []
        start = from_block
        while start <= to_block:
            end = min(start + self._log_chunk_blocks - 1, to_block)
            chunk_start = start

            def fetch(chunk_start: int = chunk_start, end: int = end) -> list[EventData]:
                return list(
                    event.get_logs(
                        argument_filters=topic_filters or None,
                        from_block=chunk_start,
                        to_block=end,
                    )
                )

            found.extend(self._guard(f"read {event.event_name} logs", fetch))
            start = end + 1
        return found

    # -- reverts -----------------------------------------------------------------------------

    def _revert_data_of_mined(self, receipt: TxReceipt, params: TxParams) -> bytes | None:
        """Revert data from the node's call tracer, else from replaying on the parent state."""
        tx_hash = HexBytes(receipt["transactionHash"]).to_0x_hex()
        try:
            response = self._provider.make_request(
                "debug_traceTransaction",
                [tx_hash, {"tracer": "callTracer"}],
            )
        except (ConnectionError, RequestException) as exc:
            raise ChainError(f"cannot reach {self._url} to explain a revert: {exc}") from exc
        trace = response.get("result")
        if isinstance(trace, Mapping) and trace.get("error"):
            output = trace.get("output")
            return bytes(HexBytes(output)) if output else b""
        replay: TxParams = {
            "from": params["from"],
            "to": receipt["to"] if receipt["to"] else params.get("to", ""),
            "data": params.get("data", b""),
            "value": Wei(params.get("value", 0)),
            "gas": params.get("gas", 0),
        }
        try:
            self._w3.eth.call(replay, block_identifier=receipt["blockNumber"] - 1)
        except ContractLogicError as exc:
            data = exc.data
            return bytes(HexBytes(data)) if isinstance(data, str) and data.startswith("0x") else b""
        except Web3RPCError:
            return None
        return None
