"""`fedledger aggregator serve`: refuses bad configuration by name; starts a working service."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from fedledger.cli.aggregator import app
from ledger.chain.base import TestChainBackend
from ledger.contracts.registry import RoundStatus
from ledger.store.disk import DiskStore
from tests.aggregator.network_harness import NetworkHarness

KEY_ENV = "FEDLEDGER_AGGREGATOR_KEY"
TOKEN = "cli-admin-token-0123456789"


def _invoke(args: list[str], env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(app, args, env=env)


def test_help_lists_serve_and_its_flags() -> None:
    # Execute
    top = _invoke(["--help"])
    serve = _invoke(["serve", "--help"])

    # Assert
    assert top.exit_code == 0 and "serve" in top.output
    assert serve.exit_code == 0
    for flag in ("--config", "--chain", "--store", "--network", "--keystore", "--rounds",
                 "--auto-open", "--no-loop", "--port"):
        assert flag in serve.output


@pytest.mark.parametrize(("config", "env", "message"), [
    ("prot = 1\n", {KEY_ENV: "0x" + "11" * 32}, "unknown key 'prot'"),
    ('admin_token = "short"\n', {KEY_ENV: "0x" + "11" * 32}, "the admin token has 5 characters"),
    ("", {}, "no aggregator key: give --keystore"),
    ("", {KEY_ENV: "not-a-key"}, "FEDLEDGER_AGGREGATOR_KEY is not a 32-byte hex private key"),
    ('network = "missing.json"\n', {KEY_ENV: "0x" + "11" * 32}, "no network file at"),
])
def test_bad_configuration_stops_before_serving_with_the_reason(
        tmp_path: Path, config: str, env: dict[str, str], message: str) -> None:
    # Prepare
    path = tmp_path / "aggregator.toml"
    path.write_text(config)

    # Execute
    result = _invoke(["serve", "--config", str(path)], env={KEY_ENV: "", **env})

    # Assert
    assert result.exit_code == 2
    flat = " ".join(result.output.split())
    assert "cannot start the aggregator service:" in flat
    assert message in flat


@pytest.fixture
def anvil_network(anvil_chain: TestChainBackend, tmp_path: Path) -> Iterator[NetworkHarness]:
    snapshot = anvil_chain.snapshot()
    harness = NetworkHarness(anvil_chain, DiskStore(tmp_path / "store"), tmp_path)
    yield harness
    anvil_chain.revert(snapshot)


@pytest.mark.anvil
def test_serve_builds_the_service_from_the_config_and_runs_the_loop(
        anvil_chain: Any, anvil_network: NetworkHarness, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Prepare: a network file, a store, a config file; uvicorn is replaced by an in-process
    # client so the test can talk to exactly the app `serve` built
    anvil_network.network.info.save(tmp_path / "network.json")
    (tmp_path / "aggregator.toml").write_text(
        f'chain = "{anvil_chain.process.url}"\nstore = "store"\nnetwork = "network.json"\n'
        f'poll_seconds = 0.1\nadmin_token = "{TOKEN}"\nport = 8799\n')
    key = next(a for a in anvil_chain.dev_accounts()
               if a.address == anvil_network.aggregator.address).key.hex()
    seen: dict[str, Any] = {}

    def fake_run(asgi_app: Any, host: str, port: int, log_level: str) -> None:
        seen["bind"] = (host, port)
        with TestClient(asgi_app) as client:
            deadline = time.monotonic() + 60
            while client.get("/api/health").json()["current_round"] != 0:
                assert time.monotonic() < deadline, "the loop never opened round 0"
                time.sleep(0.1)
            seen["health"] = client.get("/api/health").json()
            seen["unauthorized"] = client.post("/api/admin/pause").status_code
            seen["paused"] = client.post(
                "/api/admin/pause", headers={"Authorization": f"Bearer {TOKEN}"}).json()

    monkeypatch.setattr(uvicorn, "run", fake_run)

    # Execute
    result = _invoke(["serve", "--config", str(tmp_path / "aggregator.toml"), "--rounds", "1"],
                     env={KEY_ENV: "0x" + key.removeprefix("0x")})

    # Assert
    assert result.exit_code == 0, result.output
    assert seen["bind"] == ("127.0.0.1", 8799)
    health = seen["health"]
    assert health["status"] == "ok" and health["chain_id"] == 31337
    assert health["aggregator"] == anvil_network.aggregator.address
    assert health["loop"]["target_rounds"] == 1
    assert seen["unauthorized"] == 401
    assert seen["paused"]["loop"]["paused"] is True
    info = anvil_network.network.registry.round_info(0)
    assert info.status is RoundStatus.OPEN
    assert info.model_hash == anvil_network.network.registry.events_round_opened(round=0)[0].model_hash
