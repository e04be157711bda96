"""Encrypted envelopes: an artifact readable only by a reader set, verifiable by everyone.

A participant who does not want its update (or proof) public puts it in an envelope:

    b"FLENV1" | uint32 big-endian header length | header (canonical JSON) | body

The body is the artifact encrypted once with AES-256-GCM under a fresh random content key
(``cryptography``'s AESGCM), with the header bytes as associated data, so the header cannot
be changed without the body failing to decrypt. The header lists each reader's address and
the content key wrapped to that reader's secp256k1 public key with ECIES (``eciespy``), and
commits to the plaintext: its keccak256 and size. Encrypting the payload once and wrapping
only the 32-byte key per reader keeps the envelope the size of the artifact plus about 240
bytes and 334 bytes per reader (measured: benchmarks/results/privacy.md).

The CID and the keccak256 on chain are those of the envelope bytes, which cover the header
and therefore the plaintext hash: a reader who decrypts checks the plaintext against that
commitment (`PlaintextHashMismatchError` otherwise), and everyone else can still check that
the envelope is the one revealed. Header::

    {"body_nonce": "0x<24 hex>", "format": "fedledger-envelope/1", "kind": "update",
     "plaintext_hash": "0x<64 hex>", "plaintext_size": 123,
     "readers": [{"address": "0x<40 hex>", "wrapped_key": "0x<hex>"}, ...]}
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass

import ecies
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eth_typing import ChecksumAddress
from eth_utils.crypto import keccak

from ledger.errors import FormatError
from ledger.formats.canonical import MAX_SAFE_INTEGER, canonical_json, parse_canonical_json
from ledger.formats.fields import ObjectReader, address_json, hash_json
from ledger.privacy.errors import (
    EnvelopeDecryptError,
    EnvelopeFormatError,
    NotAReaderError,
    PlaintextHashMismatchError,
)
from ledger.privacy.readers import ReaderKey, ReaderSecret

__all__ = [
    "ENVELOPE_FORMAT",
    "ENVELOPE_KINDS",
    "ENVELOPE_MAGIC",
    "Envelope",
    "EnvelopeHeader",
    "ReaderEntry",
    "is_envelope",
    "open_envelope",
    "parse_envelope",
    "seal",
    "seal_with_header",
]

ENVELOPE_MAGIC = b"FLENV1"
ENVELOPE_FORMAT = "fedledger-envelope/1"
ENVELOPE_KINDS = ("update", "proof", "noise_seed")
MAX_READERS = 64
_MAX_HEADER_BYTES = 64 * 1024
_KEY_BYTES = 32
_NONCE_BYTES = 12
_PREFIX = struct.Struct(">6sI")
_HEX = re.compile(r"0x(?:[0-9a-f]{2})+")


@dataclass(frozen=True)
class ReaderEntry:
    """One reader's address and the content key wrapped to its public key (ECIES)."""

    address: ChecksumAddress
    wrapped_key: bytes


@dataclass(frozen=True)
class EnvelopeHeader:
    """The envelope's cleartext header: what it holds, for whom, and its plaintext's hash."""

    kind: str
    plaintext_hash: bytes
    plaintext_size: int
    body_nonce: bytes
    readers: tuple[ReaderEntry, ...]

    def canonical_bytes(self) -> bytes:
        """The canonical JSON bytes (the AES-GCM associated data)."""
        return canonical_json({
            "body_nonce": "0x" + self.body_nonce.hex(),
            "format": ENVELOPE_FORMAT,
            "kind": self.kind,
            "plaintext_hash": hash_json(self.plaintext_hash),
            "plaintext_size": self.plaintext_size,
            "readers": [
                {"address": address_json(r.address), "wrapped_key": "0x" + r.wrapped_key.hex()}
                for r in self.readers
            ],
        })

    @property
    def reader_addresses(self) -> tuple[ChecksumAddress, ...]:
        """The addresses that can open the envelope."""
        return tuple(r.address for r in self.readers)


@dataclass(frozen=True)
class Envelope:
    """A parsed envelope: its header (and exact header bytes) and the encrypted body."""

    header: EnvelopeHeader
    header_bytes: bytes
    body: bytes


def is_envelope(data: bytes) -> bool:
    """True when `data` starts like an envelope (and so is not a cleartext artifact)."""
    return data[: len(ENVELOPE_MAGIC)] == ENVELOPE_MAGIC


def _hex_bytes(reader: ObjectReader, key: str, size: int | None = None) -> bytes:
    text = reader.string(key, max_length=4096)
    if _HEX.fullmatch(text) is None:
        raise EnvelopeFormatError(f"envelope header: {reader.where(key)} is not lowercase 0x hex")
    raw = bytes.fromhex(text[2:])
    if size is not None and len(raw) != size:
        raise EnvelopeFormatError(f"envelope header: {reader.where(key)} must be {size} bytes")
    return raw


def _parse_header(data: bytes) -> EnvelopeHeader:
    reader = ObjectReader(parse_canonical_json(data, max_bytes=_MAX_HEADER_BYTES), "envelope")
    reader.expect("format", ENVELOPE_FORMAT)
    kind = reader.string("kind")
    if kind not in ENVELOPE_KINDS:
        raise EnvelopeFormatError(f"envelope header: kind {kind!r} is not one of "
                                  f"{', '.join(ENVELOPE_KINDS)}")
    entries = reader.array("readers", max_items=MAX_READERS)
    readers = []
    for i, item in enumerate(entries):
        entry = ObjectReader(item, f"envelope.readers[{i}]")
        readers.append(ReaderEntry(entry.address("address"), _hex_bytes(entry, "wrapped_key")))
        entry.finish()
    header = EnvelopeHeader(
        kind=kind,
        plaintext_hash=reader.hash("plaintext_hash"),
        plaintext_size=reader.integer("plaintext_size", maximum=MAX_SAFE_INTEGER),
        body_nonce=_hex_bytes(reader, "body_nonce", _NONCE_BYTES),
        readers=tuple(readers),
    )
    reader.finish()
    keys = [r.address.lower() for r in header.readers]
    if not keys or keys != sorted(set(keys)):
        raise EnvelopeFormatError("envelope header: readers must be a non-empty list sorted by "
                                  "address, each once")
    return header


def parse_envelope(data: bytes) -> Envelope:
    """Split untrusted envelope bytes into header and body, validating the header.

    Raises
    ------
    EnvelopeFormatError
        Wrong magic, truncated, or a header that is not a canonical envelope header.
    """
    if len(data) < _PREFIX.size or not is_envelope(data):
        raise EnvelopeFormatError("not an envelope: missing the FLENV1 magic")
    _, length = _PREFIX.unpack_from(data)
    if length > _MAX_HEADER_BYTES or _PREFIX.size + length > len(data):
        raise EnvelopeFormatError(f"envelope header length {length} runs past the data "
                                  f"({len(data)} bytes) or the {_MAX_HEADER_BYTES}-byte limit")
    header_bytes = data[_PREFIX.size:_PREFIX.size + length]
    try:
        header = _parse_header(header_bytes)
    except EnvelopeFormatError:
        raise
    except FormatError as exc:
        raise EnvelopeFormatError(f"envelope header: {exc}") from exc
    body = data[_PREFIX.size + length:]
    return Envelope(header, header_bytes, body)


def seal_with_header(header: EnvelopeHeader, content_key: bytes, plaintext: bytes) -> bytes:
    """Encrypt `plaintext` under `content_key` with `header` bound in as associated data.

    `seal` is the normal entry point; this lower layer exists so a test can build an
    envelope whose header commits to the wrong plaintext (a lying sender) and prove
    readers refuse it.
    """
    header_bytes = header.canonical_bytes()
    body = AESGCM(content_key).encrypt(header.body_nonce, plaintext, header_bytes)
    return _PREFIX.pack(ENVELOPE_MAGIC, len(header_bytes)) + header_bytes + body


def seal(plaintext: bytes, readers: Sequence[ReaderKey], kind: str = "update") -> bytes:
    """Encrypt `plaintext` to every reader in `readers`; returns the envelope bytes.

    Raises
    ------
    EnvelopeFormatError
        No readers, too many, a repeated address, or an unknown `kind`.
    """
    if kind not in ENVELOPE_KINDS:
        raise EnvelopeFormatError(f"kind {kind!r} is not one of {', '.join(ENVELOPE_KINDS)}")
    ordered = sorted(readers, key=lambda r: r.address.lower())
    if not ordered or len(ordered) > MAX_READERS:
        raise EnvelopeFormatError(f"an envelope needs 1 to {MAX_READERS} readers, "
                                  f"got {len(ordered)}")
    if len({r.address for r in ordered}) != len(ordered):
        raise EnvelopeFormatError("the reader set lists an address twice")
    content_key = AESGCM.generate_key(bit_length=8 * _KEY_BYTES)
    header = EnvelopeHeader(
        kind=kind,
        plaintext_hash=keccak(plaintext),
        plaintext_size=len(plaintext),
        body_nonce=os.urandom(_NONCE_BYTES),
        readers=tuple(ReaderEntry(r.address, ecies.encrypt(r.public_key, content_key))
                      for r in ordered),
    )
    return seal_with_header(header, content_key, plaintext)


def open_envelope(data: bytes, secret: ReaderSecret, *, expected_kind: str | None = None,
                  max_plaintext: int | None = None) -> bytes:
    """Decrypt an envelope with a reader's key and verify the plaintext commitment.

    Raises
    ------
    EnvelopeFormatError
        Malformed envelope, another kind than `expected_kind`, or a stated plaintext
        size above `max_plaintext`.
    NotAReaderError
        `secret` is not one of the envelope's readers (the message lists them).
    EnvelopeDecryptError
        This reader's wrapped key or the body does not decrypt (tampered or forged).
    PlaintextHashMismatchError
        The decrypted bytes do not match the header's plaintext hash or size.
    """
    envelope = parse_envelope(data)
    header = envelope.header
    if expected_kind is not None and header.kind != expected_kind:
        raise EnvelopeFormatError(f"envelope holds a {header.kind}, expected a {expected_kind}")
    if max_plaintext is not None and header.plaintext_size > max_plaintext:
        raise EnvelopeFormatError(f"envelope claims {header.plaintext_size} plaintext bytes, "
                                  f"limit {max_plaintext}")
    entry = next((r for r in header.readers if r.address == secret.address), None)
    if entry is None:
        readers = ", ".join(header.reader_addresses)
        raise NotAReaderError(
            f"this {header.kind} is encrypted to {readers}; the key of {secret.address} is not "
            "among its readers: use a registered reader key"
        )
    try:
        content_key = ecies.decrypt(secret.secret_bytes(), entry.wrapped_key)
    except (ValueError, TypeError) as exc:
        raise EnvelopeDecryptError(
            f"the content key wrapped for {secret.address} does not decrypt with its key: "
            "the envelope was tampered with or built with another key for this address"
        ) from exc
    if len(content_key) != _KEY_BYTES:
        raise EnvelopeDecryptError(f"the content key wrapped for {secret.address} is "
                                   f"{len(content_key)} bytes, expected {_KEY_BYTES}")
    try:
        plaintext = AESGCM(content_key).decrypt(header.body_nonce, envelope.body,
                                                envelope.header_bytes)
    except InvalidTag as exc:
        raise EnvelopeDecryptError("the envelope body fails authentication: tampered") from exc
    digest = keccak(plaintext)
    if digest != header.plaintext_hash or len(plaintext) != header.plaintext_size:
        raise PlaintextHashMismatchError(
            f"decrypted {header.kind} hashes to {hash_json(digest)} ({len(plaintext)} bytes), "
            f"the envelope commits to {hash_json(header.plaintext_hash)} "
            f"({header.plaintext_size} bytes)"
        )
    return plaintext
