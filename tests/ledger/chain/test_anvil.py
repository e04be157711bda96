"""The managed anvil passes the backend conformance suite; its process is managed cleanly."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from ledger.chain import anvil as anvil_module
from ledger.chain.anvil import (
    ANVIL_ENV,
    AnvilChain,
    AnvilProcess,
    derive_dev_accounts,
    find_anvil,
)
from ledger.errors import ChainError
from tests.ledger.chain.conformance import ChainPowersConformance

pytestmark = pytest.mark.anvil

ANVIL_CHAIN_ID = 31337
FIRST_ANVIL_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


class TestAnvilChain(ChainPowersConformance):
    expected_chain_id = ANVIL_CHAIN_ID

    @pytest.fixture
    def backend(self, anvil_chain: AnvilChain) -> Iterator[AnvilChain]:
        snapshot = anvil_chain.snapshot()
        yield anvil_chain
        anvil_chain.revert(snapshot)


def test_dev_accounts_are_the_ones_anvil_funds(anvil_chain: AnvilChain) -> None:
    # Execute
    ours = [a.address for a in anvil_chain.dev_accounts()]
    theirs = anvil_chain.w3.eth.accounts

    # Assert
    assert ours[0] == FIRST_ANVIL_ADDRESS
    assert ours == list(theirs)


def test_derive_dev_accounts_follows_the_hd_path() -> None:
    # Execute
    accounts = derive_dev_accounts(2)

    # Assert
    assert [a.address for a in accounts] == [
        FIRST_ANVIL_ADDRESS,
        "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    ]


def test_command_pins_host_fork_chain_id_and_timestamp(tmp_path: Path) -> None:
    # Prepare
    process = AnvilProcess(binary=tmp_path / "anvil", timestamp=1_700_000_000, accounts=3)

    # Execute
    command = process.command(8545)

    # Assert
    assert command[0] == str(tmp_path / "anvil")
    pairs = dict(zip(command[1::2], command[2::2], strict=False))
    assert pairs["--host"] == "127.0.0.1"
    assert pairs["--port"] == "8545"
    assert pairs["--hardfork"] == "prague"
    assert pairs["--chain-id"] == "31337"
    assert pairs["--timestamp"] == "1700000000"
    assert pairs["--accounts"] == "3"


def test_genesis_timestamp_is_honoured(anvil_binary: Path) -> None:
    # Execute
    with AnvilChain(accounts=1, timestamp=1_700_000_000) as chain:
        genesis = chain.w3.eth.get_block(0)["timestamp"]

    # Assert
    assert genesis == 1_700_000_000


def test_close_stops_the_process(anvil_binary: Path) -> None:
    # Prepare
    chain = AnvilChain(accounts=1)
    process = chain.process
    url = process.url

    # Execute
    chain.close()
    chain.close()

    # Assert
    assert not process.running()
    with pytest.raises(requests.ConnectionError):
        requests.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}, timeout=2)


def test_killed_anvil_gives_a_chain_error_not_a_hang(anvil_binary: Path) -> None:
    # Prepare
    chain = AnvilChain(accounts=2)
    sender, receiver = chain.dev_accounts()
    pid = chain.process.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)

    # Execute
    with pytest.raises(ChainError, match="cannot reach") as caught:
        chain.send_value(sender, receiver.address, 1)
    with pytest.raises(ChainError, match="cannot reach"):
        chain.now()
    chain.close()

    # Assert
    assert "is the node running?" in str(caught.value)


def test_missing_binary_names_the_path_and_npm_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Prepare
    monkeypatch.delenv(ANVIL_ENV, raising=False)
    monkeypatch.setattr(anvil_module, "REPO_ROOT", tmp_path)

    # Execute
    with pytest.raises(ChainError) as caught:
        AnvilChain()

    # Assert
    message = str(caught.value)
    assert str(tmp_path / "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil") in message
    assert "npm install" in message


def test_env_override_must_be_executable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Prepare
    bogus = tmp_path / "not-anvil"
    bogus.write_text("plain text")
    monkeypatch.setenv(ANVIL_ENV, str(bogus))

    # Execute / Assert
    with pytest.raises(ChainError, match=f"{ANVIL_ENV} points at .*not-anvil"):
        find_anvil()


def test_binary_that_exits_at_start_reports_its_output(tmp_path: Path) -> None:
    # Prepare
    fake = tmp_path / "anvil"
    fake.write_text("#!/bin/sh\necho 'fake anvil: unsupported hardfork' >&2\nexit 3\n")
    fake.chmod(0o755)

    # Execute
    with pytest.raises(ChainError) as caught:
        AnvilProcess(binary=fake).start()

    # Assert
    assert "exited with code 3" in str(caught.value)
    assert "fake anvil: unsupported hardfork" in str(caught.value)
