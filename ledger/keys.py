"""Account keys at rest (eth-account keystore files) and in memory (a `Signer` that never shows them).

A participant's key signs its transactions and its contribution proofs; losing it costs stake and
rewards, leaking it costs more. Keys therefore live on disk only as Web3 Secret Storage (v3)
files encrypted with a passphrase (the format geth, Foundry and MetaMask read), written with
owner-only permissions, and in memory only inside a `Signer` whose `repr`, `str` and logging show
the address alone and which refuses to be pickled. Every failure to load one is a specific
`ConfigError` subclass that says what to do.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from eth_account import Account
from eth_account.datastructures import SignedMessage, SignedTransaction
from eth_account.messages import SignableMessage
from eth_account.signers.local import LocalAccount
from eth_keyfile.exceptions import EthKeyfileValueError
from eth_typing import ChecksumAddress
from eth_utils.address import is_hex_address, to_checksum_address

from ledger.errors import ConfigError

Kdf = Literal["scrypt", "pbkdf2"]
KEYSTORE_VERSION = 3
MAX_SCRYPT_N = 2**20  # geth's "standard" is 2**18; more would let a hostile file eat memory
MAX_PBKDF2_ROUNDS = 10_000_000


class KeystoreError(ConfigError):
    """A keystore file could not be created or opened."""


class KeystoreNotFound(KeystoreError):
    """No keystore file exists at the given path."""


class KeystoreExists(KeystoreError):
    """Creating a keystore would overwrite an existing file."""


class KeystoreCorrupt(KeystoreError):
    """The file is not a readable v3 keystore (bad JSON, missing or malformed fields)."""


class WrongPassphrase(KeystoreError):
    """The passphrase does not decrypt the keystore (its MAC does not match)."""


class Signer:
    """Signs transactions and messages with a private key it never reveals.

    It satisfies `ledger.chain.base.TxSigner` and offers `sign_message` for EIP-191/EIP-712
    signatures (contribution proofs). There is deliberately no property returning the key.
    """

    __slots__ = ("_account",)

    def __init__(self, account: LocalAccount) -> None:
        self._account = account

    @classmethod
    def from_key(cls, private_key: bytes | str) -> Signer:
        """Wrap a raw private key (32 bytes or 0x-hex); a malformed key is a `ConfigError`."""
        try:
            return cls(Account.from_key(private_key))
        except (ValueError, TypeError):
            # `from None`: the underlying message may quote the key material
            raise ConfigError(
                "private key is malformed: expected 32 bytes or 64 hex digits"
            ) from None

    @classmethod
    def generate(cls) -> Signer:
        """A fresh random key (from the OS's CSPRNG)."""
        return cls(Account.create())

    @property
    def address(self) -> ChecksumAddress:
        """The account's checksummed address."""
        return self._account.address

    def sign_transaction(self, transaction_dict: Mapping[str, Any]) -> SignedTransaction:
        """Sign a transaction dict (as built by web3) for sending raw."""
        return self._account.sign_transaction(dict(transaction_dict))

    def sign_message(self, signable_message: SignableMessage) -> SignedMessage:
        """Sign an EIP-191 message (including EIP-712 typed data encoded as one)."""
        return self._account.sign_message(signable_message)

    def local_account(self) -> LocalAccount:
        """The eth-account object, for libraries that insist on one; keep it out of logs too."""
        return self._account

    def __repr__(self) -> str:
        return f"Signer({self.address})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Signer) and other.address == self.address

    def __hash__(self) -> int:
        return hash(self.address)

    def __reduce__(self) -> Any:
        raise TypeError("a Signer holds a private key and is never pickled; pass a keystore path")


def create_keystore(
    path: Path,
    passphrase: str,
    *,
    private_key: bytes | str | None = None,
    overwrite: bool = False,
    kdf: Kdf = "scrypt",
    work_factor: int | None = None,
) -> Signer:
    """Write a v3 keystore for `private_key` (a new random key if None) and return its Signer.

    `work_factor` is scrypt's n or pbkdf2's iteration count (eth-account's defaults when None:
    n = 2**18, the geth standard). The file is written atomically with mode 0600.
    """
    if not passphrase:
        raise KeystoreError("refusing to create a keystore with an empty passphrase")
    if path.exists() and not overwrite:
        raise KeystoreExists(
            f"keystore {path} already exists: choose another path or pass overwrite"
        )
    signer = Signer.generate() if private_key is None else Signer.from_key(private_key)
    document = Account.encrypt(
        signer.local_account().key, passphrase, kdf=kdf, iterations=work_factor
    )
    document["address"] = signer.address[2:].lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, partial = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(document, handle)
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return signer


def _read_keystore(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise KeystoreNotFound(
            f"no keystore at {path}: create one with create_keystore (or `fedledger keys new`)"
        ) from exc
    except IsADirectoryError as exc:
        raise KeystoreCorrupt(f"keystore path {path} is a directory, not a file") from exc
    except UnicodeDecodeError as exc:
        raise KeystoreCorrupt(f"keystore {path} is not UTF-8 text") from exc
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise KeystoreCorrupt(
            f"keystore {path} is not valid JSON ({exc.msg} at line {exc.lineno})"
        ) from exc
    if not isinstance(document, dict):
        raise KeystoreCorrupt(f"keystore {path} must hold a JSON object")
    if document.get("version") != KEYSTORE_VERSION:
        raise KeystoreCorrupt(
            f"keystore {path} has version {document.get('version')!r}; only v3 is supported"
        )
    crypto = document.get("crypto", document.get("Crypto"))
    required = ("cipher", "cipherparams", "ciphertext", "kdf", "kdfparams", "mac")
    if not isinstance(crypto, dict) or any(key not in crypto for key in required):
        raise KeystoreCorrupt(f"keystore {path} lacks crypto fields {', '.join(required)}")
    params = crypto["kdfparams"]
    work = params.get("n", params.get("c")) if isinstance(params, dict) else None
    limit = MAX_SCRYPT_N if crypto["kdf"] == "scrypt" else MAX_PBKDF2_ROUNDS
    if isinstance(work, int) and work > limit:
        raise KeystoreCorrupt(
            f"keystore {path} asks for key-derivation work {work} (limit {limit}): refusing"
        )
    return document


def keystore_address(path: Path) -> ChecksumAddress:
    """The address recorded in a keystore, read without the passphrase (for listings)."""
    document = _read_keystore(path)
    address = document.get("address")
    if not isinstance(address, str) or not is_hex_address("0x" + address.removeprefix("0x")):
        raise KeystoreCorrupt(f"keystore {path} records no valid address")
    return to_checksum_address("0x" + address.removeprefix("0x"))


def load_keystore(path: Path, passphrase: str) -> Signer:
    """Decrypt the keystore at `path`; the recorded address (if any) must match the key."""
    document = _read_keystore(path)
    try:
        key = Account.decrypt(document, passphrase)
    except EthKeyfileValueError as exc:
        if "MAC mismatch" in str(exc):
            raise WrongPassphrase(f"wrong passphrase for keystore {path}") from exc
        raise KeystoreCorrupt(f"keystore {path} cannot be decrypted: {exc}") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise KeystoreCorrupt(f"keystore {path} has malformed crypto parameters: {exc}") from exc
    signer = Signer.from_key(bytes(key))
    recorded = document.get("address")
    if (
        isinstance(recorded, str)
        and recorded.removeprefix("0x").lower() != signer.address[2:].lower()
    ):
        raise KeystoreCorrupt(
            f"keystore {path} records address 0x{recorded.removeprefix('0x')} but holds the key "
            f"of {signer.address}: the file was tampered with or mixed up"
        )
    return signer
