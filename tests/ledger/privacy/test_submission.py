"""Encrypted submissions through the shared submission check (aggregator and auditor)."""

from __future__ import annotations

from pathlib import Path

import ecies
import pytest
import torch
from eth_utils.crypto import keccak

from ledger.formats.proof import sign_proof
from ledger.formats.update import encode_update
from ledger.privacy.envelope import EnvelopeHeader, ReaderEntry, seal_with_header
from ledger.privacy.readers import ReaderSecret, StaticReaderKeys
from ledger.store.disk import DiskStore
from ledger.submissions import SubmissionCheck, check_submission
from node.privacy.sealing import seal_submission
from tests.ledger.submission_kit import (
    ACCOUNTS,
    BASE_HASH,
    CHAIN_ID,
    LAYOUT,
    REGISTRY,
    ROUND,
    Built,
    honest_delta,
    make_task,
    proof_fields,
    publish,
    signed_proof,
)

TASK = make_task()
AGGREGATOR = ReaderSecret(bytes([0] * 31 + [0x21]))
AUDITOR = ReaderSecret(bytes([0] * 31 + [0x22]))
OUTSIDER = ReaderSecret(bytes([0] * 31 + [0x23]))
READERS = StaticReaderKeys([AGGREGATOR.reader, AUDITOR.reader])
ALICE = ACCOUNTS[0]


@pytest.fixture
def store(tmp_path: Path) -> DiskStore:
    return DiskStore(tmp_path / "store")


def cleartext_update() -> bytes:
    return encode_update(honest_delta(0), ROUND, BASE_HASH, ALICE.address, layout=LAYOUT)


def sealed(store: DiskStore) -> Built:
    sealed = seal_submission(
        cleartext_update(),
        lambda update_hash: sign_proof(proof_fields(ALICE, update_hash), ALICE, CHAIN_ID,
                                       REGISTRY).canonical_bytes(),
        READERS)
    return publish(store, ALICE, sealed.update, sealed.proof)


def run(store: DiskStore, built: Built, reader: ReaderSecret | None) -> SubmissionCheck:
    return check_submission(store, built.sub, TASK, BASE_HASH, CHAIN_ID, REGISTRY, reader=reader)


def test_every_reader_verifies_the_sealed_submission(store: DiskStore) -> None:
    # Prepare
    built = sealed(store)
    # Execute
    checks = [run(store, built, AGGREGATOR), run(store, built, AUDITOR)]
    # Assert
    expected = LAYOUT.flatten(honest_delta(0))
    for check in checks:
        assert (check.code, check.detail) == ("ok", "")
        assert check.vector is not None and torch.equal(check.vector, expected)
    assert cleartext_update() not in store.get_bytes(built.sub.update_cid)


def test_without_a_reader_key_the_submission_is_unverifiable_encrypted(store: DiskStore) -> None:
    # Prepare
    built = sealed(store)
    # Execute
    check = run(store, built, None)
    # Assert
    readers = ", ".join(sorted([AGGREGATOR.address, AUDITOR.address], key=str.lower))
    assert (check.code, check.detail) == (
        "unverifiable.encrypted",
        (f"unverifiable: encrypted: the update is encrypted to {readers} and no reader key "
         "was given"))
    assert check.vector is None


def test_a_key_outside_the_reader_set_is_refused_by_name(store: DiskStore) -> None:
    # Prepare
    built = sealed(store)
    # Execute
    check = run(store, built, OUTSIDER)
    # Assert
    assert check.code == "envelope.not_reader"
    assert f"the key of {OUTSIDER.address} is not among its readers" in check.detail


def test_an_update_not_matching_its_plaintext_commitment_is_rejected(store: DiskStore) -> None:
    # Prepare: the header commits to a different update than the one encrypted
    key = bytes(range(32))
    claimed = keccak(b"an update the participant never sent")
    plain = cleartext_update()
    header = EnvelopeHeader("update", claimed, len(plain), bytes(12), (
        ReaderEntry(AGGREGATOR.address, ecies.encrypt(AGGREGATOR.reader.public_key, key)),))
    envelope = seal_with_header(header, key, plain)
    built = publish(store, ALICE, envelope, signed_proof(ALICE, envelope).canonical_bytes())
    # Execute
    check = run(store, built, AGGREGATOR)
    # Assert
    assert check.code == "envelope.plaintext_hash"
    assert check.detail == (
        f"update: decrypted update hashes to 0x{keccak(plain).hex()} ({len(plain)} bytes), the "
        f"envelope commits to 0x{claimed.hex()} ({len(plain)} bytes)")
    assert check.vector is None


def test_a_proof_envelope_in_the_update_slot_is_refused(store: DiskStore) -> None:
    # Prepare
    good = sealed(store)
    swapped = publish(store, ALICE, good.proof, good.proof)
    # Execute
    check = run(store, swapped, AGGREGATOR)
    # Assert
    assert (check.code, check.detail) == ("envelope.format",
                                          "update: envelope holds a proof, expected a update")


def test_an_envelope_the_aggregator_cannot_open_is_refused_by_every_checker(
        store: DiskStore) -> None:
    # Prepare: sealed to the auditor only
    sealed = seal_submission(
        cleartext_update(),
        lambda update_hash: sign_proof(proof_fields(ALICE, update_hash), ALICE, CHAIN_ID,
                                       REGISTRY).canonical_bytes(),
        StaticReaderKeys([AUDITOR.reader]))
    built = publish(store, ALICE, sealed.update, sealed.proof)
    # Execute
    checks = [check_submission(store, built.sub, TASK, BASE_HASH, CHAIN_ID, REGISTRY,
                               reader=reader, required_reader=AGGREGATOR.address)
              for reader in (AUDITOR, None, AGGREGATOR)]
    # Assert
    expected = (f"update: it is encrypted to {AUDITOR.address}, not to the round's aggregator "
                f"{AGGREGATOR.address}, who could not aggregate it")
    assert [(c.code, c.detail) for c in checks] == [("envelope.not_for_aggregator", expected)] * 3
