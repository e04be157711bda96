"""Envelopes: round trip for every reader, clear errors for outsiders, lying senders refused."""

from __future__ import annotations

import struct

import ecies
import pytest
from eth_utils.crypto import keccak

from ledger.privacy.envelope import (
    EnvelopeHeader,
    ReaderEntry,
    is_envelope,
    open_envelope,
    parse_envelope,
    seal,
    seal_with_header,
)
from ledger.privacy.errors import (
    EnvelopeDecryptError,
    EnvelopeFormatError,
    NotAReaderError,
    PlaintextHashMismatchError,
)
from ledger.privacy.readers import ReaderSecret

AGGREGATOR = ReaderSecret(bytes([0] * 31 + [0x21]))
AUDITOR = ReaderSecret(bytes([0] * 31 + [0x22]))
OUTSIDER = ReaderSecret(bytes([0] * 31 + [0x23]))
READERS = [AUDITOR.reader, AGGREGATOR.reader]
PLAINTEXT = bytes(range(256)) * 40


def test_every_reader_decrypts_the_same_plaintext() -> None:
    # Prepare
    envelope = seal(PLAINTEXT, READERS)
    # Execute
    opened = [open_envelope(envelope, secret) for secret in (AGGREGATOR, AUDITOR)]
    # Assert
    assert opened == [PLAINTEXT, PLAINTEXT]
    header = parse_envelope(envelope).header
    assert header.plaintext_hash == keccak(PLAINTEXT)
    assert header.plaintext_size == len(PLAINTEXT)
    assert list(header.reader_addresses) == sorted(
        [AGGREGATOR.address, AUDITOR.address], key=str.lower)
    assert is_envelope(envelope) and PLAINTEXT not in envelope


def test_sealing_twice_gives_different_ciphertexts() -> None:
    # Execute
    first, second = seal(PLAINTEXT, READERS), seal(PLAINTEXT, READERS)
    # Assert
    assert first != second
    assert parse_envelope(first).header.plaintext_hash == parse_envelope(
        second).header.plaintext_hash


def test_a_key_outside_the_reader_set_gets_a_clear_error() -> None:
    # Prepare
    envelope = seal(PLAINTEXT, READERS)
    # Execute
    with pytest.raises(NotAReaderError) as caught:
        open_envelope(envelope, OUTSIDER)
    # Assert
    assert str(caught.value) == (
        f"this update is encrypted to {', '.join(sorted([AGGREGATOR.address, AUDITOR.address], key=str.lower))}; "
        f"the key of {OUTSIDER.address} is not among its readers: use a registered reader key")
    assert caught.value.code == "envelope.not_reader"


def test_a_wrapped_key_made_for_another_key_does_not_open() -> None:
    # Prepare: the header lists the aggregator's address but wraps the key to the outsider
    content_key = bytes(range(32))
    header = EnvelopeHeader("update", keccak(PLAINTEXT), len(PLAINTEXT), bytes(12), (
        ReaderEntry(AGGREGATOR.address, ecies.encrypt(OUTSIDER.reader.public_key, content_key)),))
    envelope = seal_with_header(header, content_key, PLAINTEXT)
    # Execute
    with pytest.raises(EnvelopeDecryptError) as caught:
        open_envelope(envelope, AGGREGATOR)
    # Assert
    assert "does not decrypt with its key" in str(caught.value)


def test_a_plaintext_that_does_not_match_its_commitment_is_refused() -> None:
    # Prepare: a lying sender commits to one update and encrypts another
    content_key = bytes(range(32))
    header = EnvelopeHeader("update", keccak(b"the update I claim"), len(PLAINTEXT), bytes(12), (
        ReaderEntry(AGGREGATOR.address, ecies.encrypt(AGGREGATOR.reader.public_key,
                                                      content_key)),))
    envelope = seal_with_header(header, content_key, PLAINTEXT)
    # Execute
    with pytest.raises(PlaintextHashMismatchError) as caught:
        open_envelope(envelope, AGGREGATOR)
    # Assert
    assert caught.value.code == "envelope.plaintext_hash"
    assert str(caught.value) == (
        f"decrypted update hashes to 0x{keccak(PLAINTEXT).hex()} ({len(PLAINTEXT)} bytes), the "
        f"envelope commits to 0x{keccak(b'the update I claim').hex()} ({len(PLAINTEXT)} bytes)")


def test_a_flipped_body_bit_fails_authentication() -> None:
    # Prepare
    envelope = bytearray(seal(PLAINTEXT, READERS))
    envelope[-1] ^= 1
    # Execute
    with pytest.raises(EnvelopeDecryptError, match="fails authentication: tampered"):
        open_envelope(bytes(envelope), AUDITOR)


def test_a_changed_header_fails_authentication() -> None:
    # Prepare: the header is the body's associated data, so changing it breaks the body
    envelope = seal(PLAINTEXT, READERS, kind="proof")
    parsed = parse_envelope(envelope)
    forged_header = parsed.header_bytes.replace(b'"plaintext_size":10240',
                                                b'"plaintext_size":10241')
    forged = struct.pack(">6sI", b"FLENV1", len(forged_header)) + forged_header + parsed.body
    # Execute
    with pytest.raises(EnvelopeDecryptError, match="fails authentication: tampered"):
        open_envelope(forged, AUDITOR)


@pytest.mark.parametrize(("data", "message"), [
    (b"", "not an envelope: missing the FLENV1 magic"),
    (b"PK\x03\x04 not an envelope", "not an envelope: missing the FLENV1 magic"),
    (struct.pack(">6sI", b"FLENV1", 1 << 20), "envelope header length 1048576 runs past"),
    (struct.pack(">6sI", b"FLENV1", 2) + b"{}", "envelope header: envelope.format: is missing"),
    (struct.pack(">6sI", b"FLENV1", 4) + b"null", "envelope header: envelope: expected a JSON object, got NoneType"),
])
def test_malformed_envelopes_are_refused(data: bytes, message: str) -> None:
    # Execute
    with pytest.raises(EnvelopeFormatError) as caught:
        open_envelope(data, AUDITOR)
    # Assert
    assert str(caught.value).startswith(message)


def test_sealing_needs_readers_and_a_known_kind() -> None:
    # Execute / Assert
    with pytest.raises(EnvelopeFormatError, match="an envelope needs 1 to 64 readers, got 0"):
        seal(PLAINTEXT, [])
    with pytest.raises(EnvelopeFormatError, match="kind 'model' is not one of"):
        seal(PLAINTEXT, READERS, kind="model")
    with pytest.raises(EnvelopeFormatError, match="lists an address twice"):
        seal(PLAINTEXT, [AUDITOR.reader, AUDITOR.reader])


def test_expected_kind_and_size_limit_are_enforced() -> None:
    # Prepare
    envelope = seal(PLAINTEXT, READERS, kind="proof")
    # Execute / Assert
    with pytest.raises(EnvelopeFormatError, match="envelope holds a proof, expected a update"):
        open_envelope(envelope, AUDITOR, expected_kind="update")
    with pytest.raises(EnvelopeFormatError, match="claims 10240 plaintext bytes, limit 100"):
        open_envelope(envelope, AUDITOR, max_plaintext=100)
