"""Reader keys: a key must belong to the address it is listed under; secrets never show."""

from __future__ import annotations

import pickle

import pytest
from coincurve import PrivateKey
from eth_account import Account

from ledger.privacy.errors import ReaderKeyError
from ledger.privacy.readers import ReaderKey, ReaderSecret, StaticReaderKeys

SECRET = bytes([0] * 31 + [0x21])


def test_reader_address_is_the_ethereum_address_of_the_key() -> None:
    # Execute
    secret = ReaderSecret(SECRET)
    # Assert
    assert secret.address == Account.from_key(SECRET).address
    assert len(secret.reader.public_key) == 64


def test_compressed_and_uncompressed_keys_give_the_same_reader() -> None:
    # Prepare
    key = PrivateKey(SECRET).public_key
    # Execute
    readers = {ReaderKey.from_public_key(key.format(compressed=True)),
               ReaderKey.from_public_key(key.format(compressed=False))}
    # Assert
    assert len(readers) == 1


def test_a_key_listed_under_another_address_is_refused() -> None:
    # Prepare
    other = Account.from_key(bytes([0] * 31 + [0x22])).address
    key = ReaderSecret(SECRET).reader.public_key
    # Execute
    with pytest.raises(ReaderKeyError) as caught:
        ReaderKey(other, key)  # type: ignore[arg-type]
    # Assert
    assert str(caught.value) == (
        f"the public key listed for reader {other} belongs to "
        f"{ReaderSecret(SECRET).address}: refusing to encrypt to it")


@pytest.mark.parametrize("bad", [b"", bytes(64), b"\x05" + bytes(64)])
def test_malformed_public_keys_are_refused(bad: bytes) -> None:
    # Execute / Assert
    with pytest.raises(ReaderKeyError, match="not a secp256k1 public key"):
        ReaderKey.from_public_key(bad)


def test_secret_shows_only_its_address_and_refuses_pickling() -> None:
    # Prepare
    secret = ReaderSecret(SECRET)
    # Execute / Assert
    assert repr(secret) == str(secret) == f"ReaderSecret({secret.address})"
    assert SECRET.hex() not in repr(secret)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(secret)
    with pytest.raises(ReaderKeyError, match="not a secp256k1 private key"):
        ReaderSecret(bytes(32))


def test_static_reader_set_is_sorted_and_refuses_duplicates() -> None:
    # Prepare
    a, b = ReaderSecret(SECRET).reader, ReaderSecret(bytes([0] * 31 + [0x22])).reader
    # Execute
    source = StaticReaderKeys([b, a])
    # Assert
    assert [k.address.lower() for k in source.reader_keys()] == sorted(
        [a.address.lower(), b.address.lower()])
    with pytest.raises(ReaderKeyError, match="lists an address twice"):
        StaticReaderKeys([a, a])
