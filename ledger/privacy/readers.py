"""Who may read encrypted updates: the reader set's public keys, and a reader's secret.

An encrypted update is readable by the aggregator and the consortium's registered
auditors, and by nobody else. Their secp256k1 public keys are governed on chain (the
registry's reader-key registry); this module fixes the interface the envelope code needs,
`ReaderKeySource`, so sealing does not care where the keys come from: a static list (tests,
a private deployment) or the registry binding. Every key is checked against the address it
is listed under (``address == keccak(pubkey)[-20:]``), so a wrong or swapped key cannot
slip in under a trusted name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from coincurve import PrivateKey, PublicKey
from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from ledger.formats.fields import to_address
from ledger.privacy.errors import ReaderKeyError

__all__ = [
    "ReaderKey",
    "ReaderKeySource",
    "ReaderSecret",
    "StaticReaderKeys",
    "address_of_public_key",
]


def address_of_public_key(public_key: bytes) -> ChecksumAddress:
    """The Ethereum address of a 64-byte uncompressed secp256k1 public key (no 0x04 prefix)."""
    return to_checksum_address(keccak(public_key)[-20:])


def _normalise_public_key(value: bytes) -> bytes:
    """Accept 64 raw, 65 uncompressed or 33 compressed bytes; return the 64-byte form."""
    try:
        if len(value) == 64:
            value = b"\x04" + value
        return PublicKey(bytes(value)).format(compressed=False)[1:]
    except (ValueError, TypeError) as exc:
        raise ReaderKeyError(f"not a secp256k1 public key ({len(value)} bytes): {exc}") from exc


@dataclass(frozen=True)
class ReaderKey:
    """One reader: its address and its 64-byte uncompressed secp256k1 public key."""

    address: ChecksumAddress
    public_key: bytes

    def __post_init__(self) -> None:
        """Normalise the key and refuse one that does not belong to `address`."""
        key = _normalise_public_key(self.public_key)
        object.__setattr__(self, "public_key", key)
        address = to_address(self.address, "reader.address")
        object.__setattr__(self, "address", address)
        if address_of_public_key(key) != address:
            raise ReaderKeyError(
                f"the public key listed for reader {address} belongs to "
                f"{address_of_public_key(key)}: refusing to encrypt to it"
            )

    @classmethod
    def from_public_key(cls, public_key: bytes) -> ReaderKey:
        """The reader whose address is derived from `public_key`."""
        key = _normalise_public_key(public_key)
        return cls(address_of_public_key(key), key)


class ReaderKeySource(Protocol):
    """Where the current reader set comes from (a static list, or the on-chain registry)."""

    def reader_keys(self) -> tuple[ReaderKey, ...]:
        """The readers every new envelope must be encrypted to, sorted by address."""
        ...


class StaticReaderKeys:
    """A fixed reader set (tests, private deployments, and until the registry lists keys)."""

    def __init__(self, keys: Iterable[ReaderKey]) -> None:
        """Keep `keys` sorted by address; duplicate addresses are refused."""
        ordered = tuple(sorted(keys, key=lambda k: k.address.lower()))
        addresses = [k.address for k in ordered]
        if len(set(addresses)) != len(addresses):
            raise ReaderKeyError("the reader set lists an address twice")
        self._keys = ordered

    def reader_keys(self) -> tuple[ReaderKey, ...]:
        """The readers, sorted by address."""
        return self._keys


class ReaderSecret:
    """A reader's private key, which opens envelopes addressed to it; never shown.

    `repr` and `str` show the address only, and the object refuses to be pickled, as
    `ledger.keys.Signer` does for signing keys.
    """

    def __init__(self, private_key: bytes) -> None:
        """Wrap a 32-byte secp256k1 private key (an Ethereum account key)."""
        try:
            key = PrivateKey(bytes(private_key))
        except (ValueError, TypeError) as exc:
            raise ReaderKeyError(f"not a secp256k1 private key: {exc}") from exc
        self._key = key
        self.reader = ReaderKey.from_public_key(key.public_key.format(compressed=False))

    @property
    def address(self) -> ChecksumAddress:
        """The reader's address."""
        return self.reader.address

    def secret_bytes(self) -> bytes:
        """The 32 private-key bytes, for the ECIES decryption call only."""
        return bytes(self._key.secret)

    def __repr__(self) -> str:
        """The address only."""
        return f"ReaderSecret({self.address})"

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[object, ...]:
        """Refuse pickling: a secret key must not travel by accident."""
        raise TypeError("ReaderSecret cannot be pickled")
