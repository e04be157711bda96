"""`fedledger node` commands through Typer's CliRunner: set-up, key handling and refusals.

`run` and `status` against a live chain are exercised by the multi-process test
(tests/node/test_multiprocess.py); here every refusal happens before any chain is contacted,
so the configs point at a port nothing listens on.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fedledger.cli.node import app
from ledger.keys import load_keystore
from node.config import load_config

PASSPHRASE = "correct horse battery staple"
KEY = "0x" + "4c" * 32
FAST_SCRYPT = ["--scrypt-n", "1024"]


def _plain(text: str) -> str:
    """Terminal output without rich's box borders and line wrapping."""
    return " ".join(text.replace("│", " ").split())


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def passfile(tmp_path: Path) -> Path:
    path = tmp_path / "passphrase.txt"
    path.write_text(PASSPHRASE + "\n", encoding="utf-8")
    return path


def _init_args(tmp_path: Path, *extra: str) -> list[str]:
    return ["init", "--config", str(tmp_path / "node.toml"), "--rpc-url", "http://127.0.0.1:9",
            "--network", str(tmp_path / "network.json"), "--store", str(tmp_path / "store"),
            *FAST_SCRYPT, *extra]


def test_init_writes_the_config_and_an_encrypted_keystore(
    runner: CliRunner, tmp_path: Path, passfile: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Prepare
    monkeypatch.delenv("FEDLEDGER_PASSPHRASE", raising=False)

    # Execute
    result = runner.invoke(app, _init_args(
        tmp_path, "--passphrase-file", str(passfile), "--partition", "dirichlet",
        "--clients", "5", "--client-index", "2", "--seed", "9", "--device", "cpu"))

    # Assert
    assert result.exit_code == 0, result.output
    address = result.stdout.strip()
    config = load_config(tmp_path / "node.toml")
    assert config.chain.rpc_url == "http://127.0.0.1:9"
    assert config.chain.network == tmp_path / "network.json"
    assert config.store.spec == str(tmp_path / "store")
    assert (config.data.partition, config.data.clients, config.data.client_index,
            config.data.seed) == ("dirichlet", 5, 2, 9)
    assert config.node.keystore == tmp_path / "keystore.json"
    assert config.node.journal_dir == tmp_path / "journal"
    assert config.node.device == "cpu"
    assert load_keystore(config.node.keystore, PASSPHRASE).address == address
    assert stat.S_IMODE(config.node.keystore.stat().st_mode) == 0o600
    assert PASSPHRASE not in (tmp_path / "node.toml").read_text()


def test_init_prompts_for_the_passphrase_twice_without_file_or_env(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FEDLEDGER_PASSPHRASE", raising=False)

    result = runner.invoke(app, _init_args(tmp_path), input=f"{PASSPHRASE}\n{PASSPHRASE}\n")

    assert result.exit_code == 0, result.output
    keystore = tmp_path / "keystore.json"
    assert load_keystore(keystore, PASSPHRASE).address == result.stdout.strip()


def test_init_takes_the_passphrase_from_the_environment(
    runner: CliRunner, tmp_path: Path
) -> None:
    result = runner.invoke(app, _init_args(tmp_path), env={"FEDLEDGER_PASSPHRASE": "from-env"})

    assert result.exit_code == 0, result.output
    assert load_keystore(tmp_path / "keystore.json", "from-env").address == result.stdout.strip()


def test_init_refuses_to_overwrite_a_config_and_keeps_an_existing_keystore(
    runner: CliRunner, tmp_path: Path, passfile: Path
) -> None:
    # Prepare
    first = runner.invoke(app, _init_args(tmp_path, "--passphrase-file", str(passfile)))
    keystore_bytes = (tmp_path / "keystore.json").read_bytes()

    # Execute
    refused = runner.invoke(app, _init_args(tmp_path, "--passphrase-file", str(passfile)))
    forced = runner.invoke(app, _init_args(tmp_path, "--force", "--device", "cuda:1"))

    # Assert
    assert refused.exit_code == 1
    assert (f"error: {tmp_path / 'node.toml'} already exists: edit it, or pass --force to "
            "rewrite it") in _plain(refused.stderr)
    assert forced.exit_code == 0, forced.output
    assert forced.stdout.strip() == first.stdout.strip()  # same key, no passphrase asked
    assert (tmp_path / "keystore.json").read_bytes() == keystore_bytes
    assert load_config(tmp_path / "node.toml").node.device == "cuda:1"


def test_import_key_reads_the_key_from_a_file_only(
    runner: CliRunner, tmp_path: Path, passfile: Path
) -> None:
    # Prepare: a config whose keystore does not exist yet
    runner.invoke(app, _init_args(tmp_path, "--passphrase-file", str(passfile),
                                  "--keystore", str(tmp_path / "first.json")))
    config = tmp_path / "node.toml"
    text = config.read_text().replace(str(tmp_path / "first.json"), str(tmp_path / "imported.json"))
    config.write_text(text)
    key_file = tmp_path / "key.hex"
    key_file.write_text(KEY + "\n")
    bad_key = tmp_path / "bad.hex"
    bad_key.write_text("0x1234zz")

    # Execute
    imported = runner.invoke(app, ["import-key", str(key_file), "--config", str(config),
                                   "--passphrase-file", str(passfile), *FAST_SCRYPT])
    again = runner.invoke(app, ["import-key", str(key_file), "--config", str(config),
                                "--passphrase-file", str(passfile), *FAST_SCRYPT])
    malformed = runner.invoke(app, ["import-key", str(bad_key), "--config", str(config),
                                    "--passphrase-file", str(passfile)])
    on_command_line = runner.invoke(app, ["import-key", KEY, "--config", str(config)])

    # Assert
    assert imported.exit_code == 0, imported.output
    signer = load_keystore(tmp_path / "imported.json", PASSPHRASE)
    assert imported.stdout.strip() == signer.address
    assert again.exit_code == 1
    assert f"keystore {tmp_path / 'imported.json'} already exists" in _plain(again.stderr)
    assert malformed.exit_code == 1
    assert "private key is malformed: expected 32 bytes or 64 hex digits" in malformed.stderr
    assert "1234zz" not in malformed.output
    assert on_command_line.exit_code == 2  # a key is not a file path: usage error
    assert "does not exist" in _plain(on_command_line.stderr)


@pytest.fixture
def initialised(runner: CliRunner, tmp_path: Path, passfile: Path) -> Path:
    """A node config (with keystore) whose chain URL nothing answers."""
    result = runner.invoke(app, _init_args(tmp_path, "--passphrase-file", str(passfile)))
    assert result.exit_code == 0, result.output
    return tmp_path / "node.toml"


def test_run_without_a_keystore_says_how_to_create_one(
    runner: CliRunner, initialised: Path, passfile: Path, tmp_path: Path
) -> None:
    # Prepare
    (tmp_path / "keystore.json").unlink()

    # Execute
    result = runner.invoke(app, ["run", "--config", str(initialised), "--once",
                                 "--passphrase-file", str(passfile)])

    # Assert
    assert result.exit_code == 1
    assert _plain(result.stderr) == (
        f"error: no keystore at {tmp_path / 'keystore.json'}: create one with `fedledger "
        "node init` (new key) or `fedledger node import-key` (existing key)")
    assert not (tmp_path / "journal").exists()


def test_status_without_a_keystore_says_how_to_create_one(
    runner: CliRunner, initialised: Path, tmp_path: Path
) -> None:
    (tmp_path / "keystore.json").unlink()

    result = runner.invoke(app, ["status", "--config", str(initialised)])

    assert result.exit_code == 1
    assert _plain(result.stderr) == (
        f"error: no keystore at {tmp_path / 'keystore.json'}: create one with `fedledger "
        "node init` (new key) or `fedledger node import-key` (existing key)")


def test_run_with_a_wrong_passphrase_stops_before_touching_anything(
    runner: CliRunner, initialised: Path, tmp_path: Path
) -> None:
    # Prepare
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("not it")
    keystore_bytes = (tmp_path / "keystore.json").read_bytes()

    # Execute
    result = runner.invoke(app, ["run", "--config", str(initialised), "--once",
                                 "--passphrase-file", str(wrong)])

    # Assert
    assert result.exit_code == 1
    assert _plain(result.stderr) == (
        f"error: wrong passphrase for keystore {tmp_path / 'keystore.json'}")
    assert (tmp_path / "keystore.json").read_bytes() == keystore_bytes
    assert not (tmp_path / "journal").exists()


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--once", "--rounds", "2"], 2, "--once and --rounds exclude each other"),
        (["--rounds", "0"], 2, "Invalid value for '--rounds'"),
        (["--poll-seconds", "0"], 2, "Invalid value for '--poll-seconds'"),
        (["--device", "tpu"], 1, ("error: flag --device: must be auto, cpu, cuda or cuda:N, "
                                 "got 'tpu'")),
        (["--rpc-url", "ftp://host"], 1, ("error: flag --rpc-url: chain RPC URL 'ftp://host' is "
                                         "not an http:// or https:// URL with a host")),
        (["--private-key", KEY], 2, "No such option: --private-key"),
    ],
)
def test_run_refuses_bad_flags(
    runner: CliRunner, initialised: Path, passfile: Path, args: list[str], code: int,
    message: str,
) -> None:
    result = runner.invoke(app, ["run", "--config", str(initialised),
                                 "--passphrase-file", str(passfile), *args])

    assert result.exit_code == code
    assert message in _plain(result.stderr)


def test_run_reports_a_config_error_with_file_and_key(
    runner: CliRunner, initialised: Path, passfile: Path
) -> None:
    # Prepare
    initialised.write_text(initialised.read_text() + "colour = \"blue\"\n")

    # Execute
    result = runner.invoke(app, ["run", "--config", str(initialised), "--once",
                                 "--passphrase-file", str(passfile)])

    # Assert
    assert result.exit_code == 1
    assert _plain(result.stderr) == (
        f"error: {initialised.resolve()}: unknown key node.colour; known keys in [node]: "
        "keystore, journal_dir, device, poll_seconds")


def test_status_without_a_config_says_how_to_create_one(
    runner: CliRunner, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["status", "--config", str(tmp_path / "none.toml")])

    assert result.exit_code == 1
    assert _plain(result.stderr) == (
        f"error: no node configuration at {tmp_path / 'none.toml'}: create one with "
        "`fedledger node init`")


def test_keystore_never_holds_the_key_in_clear(
    runner: CliRunner, initialised: Path, tmp_path: Path
) -> None:
    document = json.loads((tmp_path / "keystore.json").read_text())
    signer = load_keystore(tmp_path / "keystore.json", PASSPHRASE)

    assert document["crypto"]["kdf"] == "scrypt"
    assert signer.local_account().key.hex() not in (tmp_path / "keystore.json").read_text()
