"""Keystores round-trip under a passphrase; every broken file fails with its own ConfigError."""

from __future__ import annotations

import json
import logging
import pickle
import stat
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from ledger.errors import ConfigError
from ledger.keys import (
    KeystoreCorrupt,
    KeystoreError,
    KeystoreExists,
    KeystoreNotFound,
    Signer,
    WrongPassphrase,
    create_keystore,
    keystore_address,
    load_keystore,
)

KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
ADDRESS = Account.from_key(KEY).address
FAST = {"kdf": "scrypt", "work_factor": 2**10}  # a test-sized scrypt; production uses 2**18


@pytest.fixture
def keystore(tmp_path: Path) -> Path:
    path = tmp_path / "alice.json"
    create_keystore(path, "correct horse", private_key=KEY, **FAST)  # type: ignore[arg-type]
    return path


def test_create_then_load_round_trips_the_key(keystore: Path) -> None:
    # Execute
    signer = load_keystore(keystore, "correct horse")

    # Assert
    assert signer.address == ADDRESS
    assert signer.local_account().key == KEY


def test_created_file_is_owner_only_and_records_the_address(keystore: Path) -> None:
    # Execute
    mode = stat.S_IMODE(keystore.stat().st_mode)
    document = json.loads(keystore.read_text())

    # Assert
    assert mode == 0o600
    assert document["version"] == 3
    assert document["address"] == ADDRESS[2:].lower()
    assert KEY.hex() not in keystore.read_text()
    assert keystore_address(keystore) == ADDRESS


def test_new_random_key_with_pbkdf2(tmp_path: Path) -> None:
    # Prepare
    path = tmp_path / "nested" / "new.json"

    # Execute
    created = create_keystore(path, "pw", kdf="pbkdf2", work_factor=1000)
    loaded = load_keystore(path, "pw")

    # Assert
    assert loaded == created
    assert json.loads(path.read_text())["crypto"]["kdf"] == "pbkdf2"


def test_wrong_passphrase_is_its_own_error(keystore: Path) -> None:
    # Execute
    with pytest.raises(WrongPassphrase) as caught:
        load_keystore(keystore, "wrong horse")

    # Assert
    assert str(caught.value) == f"wrong passphrase for keystore {keystore}"
    assert isinstance(caught.value, ConfigError)


def test_missing_file_says_how_to_create_one(tmp_path: Path) -> None:
    # Execute / Assert
    with pytest.raises(KeystoreNotFound, match="no keystore at .*nobody.json: create one"):
        load_keystore(tmp_path / "nobody.json", "pw")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON"),
        ("[1, 2]", "must hold a JSON object"),
        ('{"version": 2, "crypto": {}}', "has version 2; only v3"),
        ('{"version": 3, "crypto": {"cipher": "aes-128-ctr"}}', "lacks crypto fields"),
    ],
)
def test_corrupt_file_is_named_with_the_problem(tmp_path: Path, content: str, message: str) -> None:
    # Prepare
    path = tmp_path / "bad.json"
    path.write_text(content)

    # Execute / Assert
    with pytest.raises(KeystoreCorrupt, match=message):
        load_keystore(path, "pw")


def test_tampered_ciphertext_is_corrupt_or_wrong_not_a_crash(keystore: Path) -> None:
    # Prepare
    document = json.loads(keystore.read_text())
    document["crypto"]["ciphertext"] = "zz" + document["crypto"]["ciphertext"][2:]
    keystore.write_text(json.dumps(document))

    # Execute / Assert
    with pytest.raises(KeystoreCorrupt, match="malformed crypto parameters"):
        load_keystore(keystore, "correct horse")


def test_swapped_address_field_is_detected(keystore: Path) -> None:
    # Prepare
    document = json.loads(keystore.read_text())
    document["address"] = "11" * 20
    keystore.write_text(json.dumps(document))

    # Execute / Assert
    with pytest.raises(KeystoreCorrupt, match="records address 0x1111.* but holds the key of"):
        load_keystore(keystore, "correct horse")


def test_hostile_work_factor_is_refused_before_deriving(keystore: Path) -> None:
    # Prepare
    document = json.loads(keystore.read_text())
    document["crypto"]["kdfparams"]["n"] = 2**30
    keystore.write_text(json.dumps(document))

    # Execute / Assert
    with pytest.raises(KeystoreCorrupt, match="key-derivation work 1073741824"):
        load_keystore(keystore, "correct horse")


def test_existing_file_is_not_overwritten_unless_asked(keystore: Path) -> None:
    # Prepare
    before = keystore.read_text()

    # Execute
    with pytest.raises(KeystoreExists):
        create_keystore(keystore, "other", **FAST)  # type: ignore[arg-type]
    replaced = create_keystore(keystore, "other", overwrite=True, **FAST)  # type: ignore[arg-type]

    # Assert
    assert keystore.read_text() != before
    assert load_keystore(keystore, "other") == replaced


def test_empty_passphrase_is_refused(tmp_path: Path) -> None:
    # Execute / Assert
    with pytest.raises(KeystoreError, match="empty passphrase"):
        create_keystore(tmp_path / "k.json", "")
    assert not (tmp_path / "k.json").exists()


def test_directory_path_is_corrupt_not_a_crash(tmp_path: Path) -> None:
    # Execute / Assert
    with pytest.raises(KeystoreCorrupt, match="is a directory"):
        load_keystore(tmp_path, "pw")


def test_signer_never_shows_its_key(caplog: pytest.LogCaptureFixture) -> None:
    # Prepare
    signer = Signer.from_key(KEY)

    # Execute
    logging.getLogger("test").warning("using %s / %r", signer, signer)
    text = f"{signer} {signer!r} {[signer]}"

    # Assert
    assert text == f"Signer({ADDRESS}) Signer({ADDRESS}) [Signer({ADDRESS})]"
    assert KEY.hex() not in caplog.text
    assert not hasattr(signer, "key")
    assert not hasattr(signer, "__dict__")
    with pytest.raises(TypeError, match="never pickled"):
        pickle.dumps(signer)


def test_signer_signs_like_the_account_it_wraps() -> None:
    # Prepare
    signer = Signer.from_key(KEY)
    message = encode_defunct(text="round 3")
    tx = {
        "to": ADDRESS,
        "value": 1,
        "gas": 21000,
        "maxFeePerGas": 2,
        "maxPriorityFeePerGas": 1,
        "nonce": 0,
        "chainId": 31337,
    }

    # Execute
    signed_message = signer.sign_message(message)
    signed_tx = signer.sign_transaction(tx)

    # Assert
    assert Account.recover_message(message, signature=signed_message.signature) == ADDRESS
    assert Account.recover_transaction(signed_tx.raw_transaction) == ADDRESS


@pytest.mark.parametrize("bad", ["0x1234", "not hex at all", b"\x00" * 31])
def test_malformed_private_key_is_a_config_error(bad: str | bytes) -> None:
    # Execute / Assert
    with pytest.raises(ConfigError, match="private key is malformed"):
        Signer.from_key(bad)
