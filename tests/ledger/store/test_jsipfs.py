"""The js-ipfs manager: finds the install, keeps the node offline, starts and stops cleanly."""

from __future__ import annotations

import json
import socket
import urllib.request
from pathlib import Path

import pytest

from ledger.store import jsipfs
from ledger.store.errors import StoreUnavailable
from ledger.store.jsipfs import JsIpfsDaemon, Ports, find_jsipfs, offline_config, require_jsipfs


def _script(path: Path, body: str) -> Path:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def no_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend no js-ipfs is installed anywhere."""
    monkeypatch.delenv("FEDLEDGER_JSIPFS", raising=False)
    monkeypatch.setattr(jsipfs, "INSTALL_DIR", tmp_path / "nowhere")


@pytest.mark.usefixtures("no_install")
def test_missing_install_says_what_to_run() -> None:
    # Execute / Assert
    assert find_jsipfs() is None
    with pytest.raises(
        StoreUnavailable, match="js-ipfs is not installed: run scripts/ipfs/install.sh"
    ):
        require_jsipfs()


@pytest.mark.usefixtures("no_install")
def test_environment_variable_names_the_executable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Prepare
    script = _script(tmp_path / "jsipfs", "exit 0")
    monkeypatch.setenv("FEDLEDGER_JSIPFS", str(script))

    # Execute / Assert
    assert find_jsipfs() == script


@pytest.mark.usefixtures("no_install")
def test_non_executable_file_is_not_an_install(tmp_path: Path) -> None:
    # Prepare
    plain = tmp_path / "jsipfs"
    plain.write_text("not a program")

    # Execute / Assert
    assert find_jsipfs(plain) is None


def test_offline_config_keeps_every_listener_local_and_every_discovery_off() -> None:
    # Execute
    config = offline_config("127.0.0.1", Ports(1001, 1002, 1003, 1004))

    # Assert
    assert config["Addresses"] == {
        "API": "/ip4/127.0.0.1/tcp/1001",
        "Gateway": "/ip4/127.0.0.1/tcp/1002",
        "RPC": "/ip4/127.0.0.1/tcp/1003",
        "Swarm": ["/ip4/127.0.0.1/tcp/1004"],
        "Announce": [],
        "NoAnnounce": [],
        "Delegates": [],
    }
    assert config["Bootstrap"] == []
    assert config["Discovery"] == {"MDNS": {"Enabled": False}, "webRTCStar": {"Enabled": False}}
    assert config["Routing"] == {"Type": "none"}
    assert config["Swarm"] == {"DisableNatPortMap": True}


def test_free_ports_are_distinct() -> None:
    ports = Ports.free("127.0.0.1")
    assert len({ports.api, ports.gateway, ports.rpc, ports.swarm}) == 4


def test_failed_init_reports_the_tools_message(tmp_path: Path) -> None:
    # Prepare
    script = _script(tmp_path / "jsipfs", 'echo "repo is locked" >&2; exit 3')
    daemon = JsIpfsDaemon(tmp_path / "repo", executable=script)

    # Execute / Assert
    with pytest.raises(
        StoreUnavailable,
        match=r"`jsipfs init` failed for .*repo \(exit 3\): "
        "repo is locked",
    ):
        daemon.init()


def test_daemon_that_dies_at_start_reports_its_log(tmp_path: Path) -> None:
    # Prepare: an "installed" jsipfs whose daemon exits at once
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "config").write_text(json.dumps({"Addresses": {}}))
    script = _script(tmp_path / "jsipfs", 'echo "Error: no such repo version"; exit 1')
    daemon = JsIpfsDaemon(repo, executable=script, startup_timeout=10)

    # Execute
    with pytest.raises(StoreUnavailable) as caught:
        daemon.start()

    # Assert
    assert "did not come up within 10 s" in str(caught.value)
    assert "Error: no such repo version" in str(caught.value)
    assert not daemon.running
    written = json.loads((repo / "config").read_text())
    assert written["Bootstrap"] == [] and written["Routing"] == {"Type": "none"}


def test_api_url_before_start_is_an_error(tmp_path: Path) -> None:
    # Prepare
    daemon = JsIpfsDaemon(tmp_path / "repo", executable=_script(tmp_path / "j", "exit 0"))

    # Execute / Assert
    with pytest.raises(StoreUnavailable, match="the js-ipfs daemon is not running"):
        _ = daemon.api_url


@pytest.mark.ipfs_daemon
def test_real_daemon_stops_cleanly_and_restarts_on_its_repo(jsipfs_daemon: JsIpfsDaemon) -> None:
    # Prepare
    old_port = int(jsipfs_daemon.api_url.rsplit(":", 1)[1])

    # Execute
    jsipfs_daemon.stop()
    stopped = not jsipfs_daemon.running
    shutdown_log = jsipfs_daemon.log_path.read_text()
    with socket.socket() as probe:
        refused = probe.connect_ex(("127.0.0.1", old_port)) != 0
    lock_left = (jsipfs_daemon.repo / "repo.lock").exists()
    url = jsipfs_daemon.start()

    # Assert
    assert stopped and refused and not lock_left
    assert "Received interrupt signal, shutting down" in shutdown_log
    request = urllib.request.Request(f"{url}/api/v0/version", method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert json.load(answer)["Version"] == "0.18.1"
