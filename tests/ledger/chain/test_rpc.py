"""A plain JSON-RPC backend: conformance against anvil's URL, bad URLs, PoA detection."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from ledger.chain.anvil import AnvilChain
from ledger.chain.rpc import RpcChain, validate_rpc_url
from ledger.errors import ChainError, ConfigError
from tests.ledger.chain.conformance import ChainBackendConformance

POA_EXTRA_DATA = "0x" + "ab" * 97  # 32 vanity bytes + 65-byte seal, as Clique writes it


@pytest.mark.anvil
class TestRpcChainOnAnvil(ChainBackendConformance):
    """The same suite through a plain RpcChain pointed at the managed anvil's URL."""

    expected_chain_id = 31337

    @pytest.fixture
    def backend(self, anvil_chain: AnvilChain) -> Iterator[RpcChain]:
        snapshot = anvil_chain.snapshot()
        chain = RpcChain(anvil_chain.process.url, accounts=anvil_chain.dev_accounts())
        yield chain
        chain.close()
        anvil_chain.revert(snapshot)


@pytest.mark.parametrize(
    "url", ["ftp://127.0.0.1:8545", "127.0.0.1:8545", "http://", "http://host:99999", ""]
)
def test_malformed_url_is_a_config_error(url: str) -> None:
    # Execute / Assert
    with pytest.raises(ConfigError, match="chain RPC URL"):
        RpcChain(url)


def test_valid_url_passes_validation() -> None:
    # Execute / Assert
    assert validate_rpc_url("https://rpc.example.org/v1") == "https://rpc.example.org/v1"


def test_unreachable_node_is_a_chain_error_naming_the_url() -> None:
    # Execute
    with pytest.raises(ChainError) as caught:
        RpcChain("http://127.0.0.1:9", request_timeout=2)

    # Assert
    message = str(caught.value)
    assert "http://127.0.0.1:9" in message
    assert "is the node running?" in message


class _PoANode(BaseHTTPRequestHandler):
    """Answers the few calls RpcChain makes, with Clique-sized extraData in every block."""

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        results: dict[str, Any] = {
            "eth_chainId": "0x7a69",
            "eth_getBlockByNumber": {
                "number": "0x5",
                "hash": "0x" + "11" * 32,
                "parentHash": "0x" + "22" * 32,
                "timestamp": "0x6553f100",
                "extraData": POA_EXTRA_DATA,
                "gasLimit": "0x1c9c380",
                "gasUsed": "0x0",
                "miner": "0x" + "00" * 20,
                "difficulty": "0x2",
                "transactions": [],
                "baseFeePerGas": "0x7",
            },
        }
        body = json.dumps(
            {"jsonrpc": "2.0", "id": request["id"], "result": results[request["method"]]}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def poa_node() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _PoANode)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_proof_of_authority_chain_is_read_with_the_poa_middleware(poa_node: str) -> None:
    # Prepare
    chain = RpcChain(poa_node)

    # Execute
    now = chain.now()
    block = chain.w3.eth.get_block("latest")

    # Assert
    assert now == 0x6553F100
    assert block["proofOfAuthorityData"] == bytes.fromhex(POA_EXTRA_DATA[2:])
    assert chain.dev_accounts() == []
    chain.close()
