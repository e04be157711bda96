"""Run a real IPFS daemon (js-ipfs) offline on 127.0.0.1, for integration tests and local runs.

No Kubo binary can be installed on the project's machines (its npm and Debian
packages download it at install time); js-ipfs 0.66.1, installed from the
committed lockfile in `scripts/ipfs/` by `scripts/ipfs/install.sh`, runs offline
and answers the Kubo RPC subset `DaemonStore` uses. This module initialises a
repository whose config keeps the node off the network (no bootstrap peers, no
MDNS, no delegates, no routing, no NAT port mapping, every listener on
127.0.0.1), starts the daemon on free ports, waits until its API answers, and
stops it by the process id it started (SIGTERM, then SIGKILL after a grace
period).

    python -m ledger.store.jsipfs --repo .fedledger/ipfs   # foreground, Ctrl-C stops
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Final, Self

from ledger.store.errors import StoreUnavailable

INSTALL_DIR: Final = Path(__file__).resolve().parents[2] / "scripts" / "ipfs"
"""Where `scripts/ipfs/install.sh` puts js-ipfs in a source checkout."""
READY_LINE: Final = "Daemon is ready"
"""What js-ipfs prints once it serves the API and handles SIGTERM."""
ENV_EXECUTABLE: Final = "FEDLEDGER_JSIPFS"
"""Environment variable naming the `jsipfs` executable, overriding the checkout's."""


def find_jsipfs(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The `jsipfs` executable: `explicit`, else `$FEDLEDGER_JSIPFS`, else the checkout's."""
    for candidate in (
        explicit,
        os.environ.get(ENV_EXECUTABLE),
        INSTALL_DIR / "node_modules" / ".bin" / "jsipfs",
    ):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


def require_jsipfs(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Like `find_jsipfs`, but a missing executable is a `StoreUnavailable` saying what to run."""
    found = find_jsipfs(explicit)
    if found is None:
        raise StoreUnavailable(
            "js-ipfs is not installed: run scripts/ipfs/install.sh (needs Node 20 and npm), "
            f"or set {ENV_EXECUTABLE} to a jsipfs executable"
        )
    return found


@dataclass(frozen=True, slots=True)
class Ports:
    """The TCP ports one daemon listens on, all on the loopback host."""

    api: int
    gateway: int
    rpc: int
    swarm: int

    @classmethod
    def free(cls, host: str) -> Ports:
        """Ports the OS reports free right now (bound together so they differ)."""
        sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(4)]
        try:
            for sock in sockets:
                sock.bind((host, 0))
            api, gateway, rpc, swarm = (sock.getsockname()[1] for sock in sockets)
        finally:
            for sock in sockets:
                sock.close()
        return cls(api, gateway, rpc, swarm)


def offline_config(host: str, ports: Ports) -> dict[str, object]:
    """js-ipfs config that never reaches beyond `host` (merged over its defaults at init)."""
    return {
        "Addresses": {
            "API": f"/ip4/{host}/tcp/{ports.api}",
            "Gateway": f"/ip4/{host}/tcp/{ports.gateway}",
            "RPC": f"/ip4/{host}/tcp/{ports.rpc}",
            "Swarm": [f"/ip4/{host}/tcp/{ports.swarm}"],
            "Announce": [],
            "NoAnnounce": [],
            "Delegates": [],
        },
        "Bootstrap": [],
        "Discovery": {"MDNS": {"Enabled": False}, "webRTCStar": {"Enabled": False}},
        "Routing": {"Type": "none"},
        "Swarm": {"DisableNatPortMap": True},
    }


class JsIpfsDaemon:
    """One js-ipfs daemon process over one repository; a context manager.

    Parameters
    ----------
    repo
        Repository directory (`IPFS_PATH`); initialised on first start.
    executable
        The `jsipfs` script; found with `find_jsipfs` when omitted.
    host
        Loopback address every listener binds.
    startup_timeout
        Seconds to wait for the API to answer after spawning.
    """

    def __init__(
        self,
        repo: str | os.PathLike[str],
        *,
        executable: str | os.PathLike[str] | None = None,
        host: str = "127.0.0.1",
        startup_timeout: float = 90.0,
    ) -> None:
        self.repo = Path(repo).absolute()
        self._executable = require_jsipfs(executable)
        self.host = host
        self._startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self.ports: Ports | None = None

    @property
    def api_url(self) -> str:
        """`http://host:port` of the RPC API (only while running)."""
        if self.ports is None or not self.running:
            raise StoreUnavailable("the js-ipfs daemon is not running: call start() first")
        return f"http://{self.host}:{self.ports.api}"

    @property
    def running(self) -> bool:
        """Whether the daemon process this object started is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def log_path(self) -> Path:
        """Where the daemon's stdout and stderr go."""
        return self.repo / "daemon.log"

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["IPFS_PATH"] = str(self.repo)
        env.setdefault("NODE_OPTIONS", "--no-warnings")
        return env

    def init(self) -> None:
        """Create the repository with the offline config (no-op if it exists)."""
        if (self.repo / "config").is_file():
            return
        self.repo.mkdir(parents=True, exist_ok=True)
        config_file = self.repo.parent / f".{self.repo.name}.init-config.json"
        config_file.write_text(json.dumps(offline_config(self.host, Ports.free(self.host))))
        try:
            result = subprocess.run(
                [str(self._executable), "init", "--emptyRepo", "--defaultConfig", str(config_file)],
                env=self._env(),
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
        finally:
            config_file.unlink(missing_ok=True)
        if result.returncode != 0:
            raise StoreUnavailable(
                f"`jsipfs init` failed for {self.repo} (exit {result.returncode}): "
                f"{(result.stderr or result.stdout).strip()[-2000:]}"
            )

    def _write_addresses(self, ports: Ports) -> None:
        config_path = self.repo / "config"
        config = json.loads(config_path.read_text())
        wanted = offline_config(self.host, ports)
        for key, value in wanted.items():
            if isinstance(value, dict) and isinstance(config.get(key), dict):
                config[key].update(value)
            else:
                config[key] = value
        config_path.write_text(json.dumps(config, indent=2))

    def start(self) -> str:
        """Start the daemon on fresh free ports; return the API URL once it answers."""
        if self.running:
            return self.api_url
        self.init()
        for attempt in range(3):
            if self._spawn(Ports.free(self.host)):
                return self.api_url
            log_tail = self._log_tail()
            self.stop()
            if "EADDRINUSE" not in log_tail or attempt == 2:
                raise StoreUnavailable(
                    f"the js-ipfs daemon for {self.repo} did not come up within "
                    f"{self._startup_timeout:g} s; its log ends with:\n{log_tail}"
                )
        raise AssertionError("unreachable")  # pragma: no cover

    def restart(self) -> str:
        """Stop the daemon and start it again on the same ports, so clients keep their URL.

        What an operator's restart looks like to a `DaemonStore`: the API goes away and comes
        back at the same address with the same repository (pinned content survives).
        """
        ports = self.ports
        self.stop()
        if ports is None:
            return self.start()
        if not self._spawn(ports):
            log_tail = self._log_tail()
            self.stop()
            raise StoreUnavailable(
                f"the js-ipfs daemon for {self.repo} did not come back on port {ports.api} "
                f"within {self._startup_timeout:g} s; its log ends with:\n{log_tail}"
            )
        return self.api_url

    def _spawn(self, ports: Ports) -> bool:
        """Launch the daemon on `ports`; True once it is ready, False if it died or timed out."""
        self.ports = ports
        self._write_addresses(ports)
        with open(self.log_path, "wb") as log:
            self._process = subprocess.Popen(
                [str(self._executable), "daemon", "--offline", "--enable-preload=false"],
                env=self._env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return self._wait_ready()

    def _wait_ready(self) -> bool:
        """Wait for "Daemon is ready" in the log and an answering API.

        js-ipfs serves the API a moment before it installs its SIGTERM handler
        (right after printing "Daemon is ready"); a stop in between would kill it
        without a clean shutdown, so both are required.
        """
        assert self.ports is not None and self._process is not None
        url = f"http://{self.host}:{self.ports.api}/api/v0/version"
        deadline = time.monotonic() + self._startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            if READY_LINE in self._log_tail():
                try:
                    request = urllib.request.Request(url, method="POST")
                    with urllib.request.urlopen(request, timeout=2) as answer:
                        if answer.status == 200:
                            return True
                except (urllib.error.URLError, OSError):
                    pass
            time.sleep(0.2)
        return False

    def _log_tail(self, size: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-size:]
        except OSError:
            return "(no log)"

    def stop(self, grace: float = 15.0) -> None:
        """Stop the daemon this object started: SIGTERM, then SIGKILL after `grace` seconds."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=grace)
        self._process = None

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


def copy_repo(template: str | os.PathLike[str], dest: str | os.PathLike[str]) -> None:
    """Copy an initialised, stopped repository (tests reuse one to skip `jsipfs init`)."""
    shutil.copytree(template, dest, ignore=shutil.ignore_patterns("repo.lock", "daemon.log", "api"))


def main(argv: list[str] | None = None) -> int:
    """Run a daemon in the foreground until interrupted; print its API URL."""
    parser = argparse.ArgumentParser(
        prog="python -m ledger.store.jsipfs",
        description="Run an offline js-ipfs daemon on 127.0.0.1 for fedledger.",
    )
    parser.add_argument("--repo", default=".fedledger/ipfs", help="repository directory")
    args = parser.parse_args(argv)
    daemon = JsIpfsDaemon(args.repo)
    stop_requested = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    with daemon:
        print(daemon.api_url, flush=True)
        while not stop_requested and daemon.running:
            time.sleep(0.5)
        if not daemon.running:
            print(f"the daemon exited; see {daemon.log_path}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
