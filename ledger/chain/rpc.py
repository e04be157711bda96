"""Any Ethereum JSON-RPC node over HTTP: anvil, geth, Besu, a consortium's PoA chain.

This is what an auditor points at a network it does not run. It holds no test powers and knows
no funded accounts unless given keys. Proof-of-authority chains (Clique/IBFT put 65+ bytes in
`extraData`) are detected from the first block read and get web3's PoA middleware.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlparse

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
import requests
from requests.adapters import HTTPAdapter
from requests.exceptions import RequestException
from web3 import HTTPProvider, Web3
from web3.contract.contract import ContractEvent
from web3.exceptions import ContractLogicError, Web3RPCError
from web3.middleware import ExtraDataToPOAMiddleware
from web3.providers.rpc.utils import ExceptionRetryConfiguration
from web3.types import EventData, TxParams, TxReceipt

from ledger.chain.web3backend import Web3ChainBackend
from ledger.errors import ChainError, ConfigError

DEFAULT_LOG_CHUNK_BLOCKS = 10_000
HTTP_POOL_SIZE = 32  # threads sending concurrently each need a connection
_PLAIN_EXTRA_DATA_HEX_CHARS = 2 + 2 * 32  # "0x" + at most 32 bytes on a non-PoA chain


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
            lambda: self._provider.make_request("eth_getBlockByNumber", ["latest", False]),  # type: ignore[arg-type]
        )
        block = response.get("result") or {}
        extra = str(block.get("extraData", "0x"))
        if len(extra) > _PLAIN_EXTRA_DATA_HEX_CHARS:
            self._w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)

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
                "debug_traceTransaction",  # type: ignore[arg-type]
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
            "to": receipt["to"] if receipt["to"] else params.get("to", ""),  # type: ignore[typeddict-item]
            "data": params.get("data", b""),
            "value": params.get("value", 0),
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
