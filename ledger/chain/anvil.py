"""A managed anvil: the project's real multi-process dev chain, started and stopped by us.

anvil ships inside the npm package `@foundry-rs/anvil` (its platform package holds the binary;
npm 11 skips the wrapper's postinstall, so the binary is called directly). It is started on
127.0.0.1 on a free port with the EVM fork the contracts are compiled for (prague) and the
well-known dev mnemonic, so its funded keys are known here without asking it. Test powers
(`evm_setNextBlockTimestamp`, `evm_mine`, `evm_snapshot`) are offered only on an instance this
process started: `AnvilChain` is a `TestChainBackend`, a plain `RpcChain` to the same URL is not.
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import requests
from eth_account import Account
from eth_account.hdaccount import key_from_seed, seed_from_mnemonic
from eth_account.signers.local import LocalAccount

from ledger.chain.base import TestChainBackend
from ledger.chain.rpc import RpcChain
from ledger.errors import ChainError

ANVIL_ENV = "FEDLEDGER_ANVIL"
ANVIL_PACKAGE_BINARY = Path("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")
REPO_ROOT = Path(__file__).resolve().parents[2]
DEV_MNEMONIC = "test test test test test test test test test test test junk"
DEV_HD_PATH = "m/44'/60'/0'/0/{index}"
CHAIN_ID = 31337
HARDFORK = "prague"
DEFAULT_ACCOUNTS = 10
DEFAULT_BALANCE_ETH = 10_000
STARTUP_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 5.0


def find_anvil() -> Path:
    """The anvil binary: `$FEDLEDGER_ANVIL`, else the npm package's inside this repository."""
    configured = os.environ.get(ANVIL_ENV)
    if configured:
        path = Path(configured)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise ChainError(f"${ANVIL_ENV} points at {path}, which is not an executable file")
        return path
    path = REPO_ROOT / ANVIL_PACKAGE_BINARY
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise ChainError(
            f"anvil binary not found at {path}: run 'npm install' in {REPO_ROOT} "
            f"(package @foundry-rs/anvil) or set ${ANVIL_ENV} to an anvil executable"
        )
    return path


def derive_dev_accounts(
    count: int, mnemonic: str = DEV_MNEMONIC, hd_path: str = DEV_HD_PATH
) -> list[LocalAccount]:
    """The first `count` accounts anvil funds for `mnemonic` (one seed, many derivations)."""
    seed = seed_from_mnemonic(mnemonic, "")
    return [Account.from_key(key_from_seed(seed, hd_path.format(index=i))) for i in range(count)]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _die_with_parent() -> None:
    """In the child: ask Linux to SIGTERM anvil if this Python process dies without stopping it."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


class AnvilProcess:
    """One anvil child process on 127.0.0.1; start, poll until it answers, stop cleanly."""

    def __init__(
        self,
        *,
        binary: Path | None = None,
        accounts: int = DEFAULT_ACCOUNTS,
        balance_eth: int = DEFAULT_BALANCE_ETH,
        timestamp: int | None = None,
        mnemonic: str = DEV_MNEMONIC,
        extra_args: Sequence[str] = (),
        startup_timeout: float = STARTUP_TIMEOUT_S,
        port: int | None = None,
    ) -> None:
        """`port` None picks a free one; a fixed port lets a restarted anvil keep its URL."""
        if accounts < 1:
            raise ChainError(f"anvil needs at least one dev account, got {accounts}")
        self._binary = binary if binary is not None else find_anvil()
        self._accounts = accounts
        self._balance_eth = balance_eth
        self._timestamp = timestamp
        self._mnemonic = mnemonic
        self._extra_args = list(extra_args)
        self._startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._log: Any = None
        self._port: int | None = None
        self._requested_port = port

    @property
    def url(self) -> str:
        """The JSON-RPC URL of the running instance."""
        if self._port is None or self._process is None:
            raise ChainError("anvil is not running: call start() first")
        return f"http://127.0.0.1:{self._port}"

    @property
    def pid(self) -> int | None:
        """Process id while running."""
        return self._process.pid if self._process is not None else None

    @property
    def mnemonic(self) -> str:
        """The mnemonic whose keys anvil funds."""
        return self._mnemonic

    @property
    def accounts(self) -> int:
        """How many dev accounts anvil funds."""
        return self._accounts

    def command(self, port: int) -> list[str]:
        """The exact command line used to start anvil on `port`."""
        args = [
            str(self._binary),
            "--host", "127.0.0.1",
            "--port", str(port),
            "--chain-id", str(CHAIN_ID),
            "--hardfork", HARDFORK,
            "--accounts", str(self._accounts),
            "--balance", str(self._balance_eth),
            "--mnemonic", self._mnemonic,
        ]  # fmt: skip
        if self._timestamp is not None:
            args += ["--timestamp", str(self._timestamp)]
        return args + self._extra_args

    def start(self) -> str:
        """Start anvil and wait until it answers JSON-RPC; return its URL."""
        if self._process is not None:
            return self.url
        port = self._requested_port if self._requested_port is not None else _free_port()
        self._log = tempfile.TemporaryFile(prefix="anvil-", suffix=".log")  # noqa: SIM115 - lives as long as anvil
        try:
            self._process = subprocess.Popen(
                self.command(port),
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                # prctl only: async-signal-safe, so fine in a threaded parent
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,  # noqa: PLW1509
            )
        except OSError as exc:
            self._log.close()
            self._log = None
            raise ChainError(f"cannot start anvil ({self._binary}): {exc}") from exc
        self._port = port
        atexit.register(self.stop)
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self.url

    def _wait_until_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self._startup_timeout
        payload: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
        while True:
            if self._process.poll() is not None:
                raise ChainError(
                    f"anvil exited with code {self._process.returncode} while starting: "
                    f"{self.log_tail()}"
                )
            try:
                answer = requests.post(self.url, json=payload, timeout=1.0)
                if answer.ok and answer.json().get("result") == hex(CHAIN_ID):
                    return
            except (requests.RequestException, ValueError):
                pass
            if time.monotonic() > deadline:
                raise ChainError(
                    f"anvil did not answer on {self.url} within {self._startup_timeout:.0f} s: "
                    f"{self.log_tail()}"
                )
            time.sleep(0.05)

    def log_tail(self, limit: int = 2000) -> str:
        """The end of anvil's output, for error messages."""
        if self._log is None:
            return "(no output)"
        self._log.flush()
        self._log.seek(0)
        text = self._log.read().decode("utf-8", "replace").strip()
        return text[-limit:] or "(no output)"

    def running(self) -> bool:
        """True while the child process is alive."""
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        """Terminate anvil, wait, kill if it lingers; safe to call twice."""
        process, self._process = self._process, None
        atexit.unregister(self.stop)
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class AnvilChain(RpcChain, TestChainBackend):
    """A chain backend over an anvil this object started and will stop on `close()`."""

    def __init__(
        self,
        *,
        accounts: int = DEFAULT_ACCOUNTS,
        timestamp: int | None = None,
        binary: Path | None = None,
        extra_args: Sequence[str] = (),
        request_timeout: float = 10.0,
        receipt_timeout: float = 60.0,
    ) -> None:
        self._anvil = AnvilProcess(
            binary=binary, accounts=accounts, timestamp=timestamp, extra_args=extra_args
        )
        url = self._anvil.start()
        try:
            super().__init__(
                url,
                accounts=derive_dev_accounts(accounts, self._anvil.mnemonic),
                request_timeout=request_timeout,
                receipt_timeout=receipt_timeout,
                poll_interval=0.01,
            )
        except BaseException:
            self._anvil.stop()
            raise

    @property
    def process(self) -> AnvilProcess:
        """The managed anvil process (its pid, URL and log)."""
        return self._anvil

    def close(self) -> None:
        super().close()
        self._anvil.stop()

    def _rpc(self, method: str, params: list[Any]) -> Any:
        def request() -> Any:
            response = self._provider.make_request(method, params)
            error = response.get("error")
            if error:
                message = error.get("message") if isinstance(error, dict) else error
                raise ChainError(f"anvil refused {method}: {message}")
            return response.get("result")

        return self._guard(method, request)

    def set_next_block_timestamp(self, timestamp: int) -> None:
        latest = self.now()
        if timestamp <= latest:
            raise ChainError(
                f"next block timestamp {timestamp} must be after the latest block's {latest}"
            )
        self._rpc("evm_setNextBlockTimestamp", [timestamp])

    def mine(self, timestamp: int | None = None) -> int:
        if timestamp is not None:
            self.set_next_block_timestamp(timestamp)
        self._rpc("evm_mine", [])
        return self.block_number()

    def snapshot(self) -> int:
        return int(self._rpc("evm_snapshot", []), 16)

    def revert(self, snapshot_id: int) -> None:
        if not self._rpc("evm_revert", [hex(snapshot_id)]):
            raise ChainError(f"cannot revert to snapshot {snapshot_id}: anvil does not know it")
        self._forget_chain_state()
