"""open_chain picks the backend named by a spec string and refuses anything else."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.chain.anvil import AnvilChain
from ledger.chain.base import TestChainBackend
from ledger.chain.embedded import EmbeddedChain
from ledger.chain.factory import open_chain
from ledger.chain.rpc import RpcChain
from ledger.errors import ChainError, ConfigError


def test_embedded_spec_opens_an_in_process_chain() -> None:
    # Execute
    with open_chain(" embedded ") as chain:
        # Assert
        assert isinstance(chain, EmbeddedChain)
        assert isinstance(chain, TestChainBackend)
        assert chain.chain_id == 131277322940537


@pytest.mark.anvil
def test_anvil_spec_starts_and_stops_a_managed_anvil(anvil_binary: Path) -> None:
    # Execute
    with open_chain("anvil") as chain:
        assert isinstance(chain, AnvilChain)
        process = chain.process
        assert process.running()
        # Assert
        assert chain.chain_id == 31337
    assert not process.running()


@pytest.mark.anvil
def test_url_spec_opens_a_plain_rpc_chain_without_test_powers(anvil_chain: AnvilChain) -> None:
    # Execute
    with open_chain(anvil_chain.process.url) as chain:
        # Assert
        assert type(chain) is RpcChain
        assert not isinstance(chain, TestChainBackend)
        assert chain.block_number() == anvil_chain.block_number()


@pytest.mark.parametrize("spec", ["", "ganache", "ws://127.0.0.1:8546", "EMBEDDED"])
def test_unknown_spec_is_a_config_error_listing_the_choices(spec: str) -> None:
    # Execute
    with pytest.raises(ConfigError) as caught:
        open_chain(spec)

    # Assert
    assert "use 'embedded', 'anvil', or an http(s):// JSON-RPC URL" in str(caught.value)


def test_url_spec_to_nothing_is_a_chain_error() -> None:
    # Execute / Assert
    with pytest.raises(ChainError, match="cannot reach http://127.0.0.1:9"):
        open_chain("http://127.0.0.1:9")


def test_accounts_option_sizes_a_chain_the_project_starts() -> None:
    # Execute
    with open_chain("embedded", accounts=3) as chain:
        # Assert
        assert len(chain.dev_accounts()) == 3


def test_accounts_option_is_refused_for_someone_elses_chain() -> None:
    # Execute / Assert
    with pytest.raises(ConfigError, match="cannot create dev accounts on http://127.0.0.1:9"):
        open_chain("http://127.0.0.1:9", accounts=5)
