"""Sealing a participant's submission to the reader set (encrypted-updates mode).

Order matters, because the chain pins ciphertexts: the update is sealed first, the
contribution proof then vouches for the *envelope's* keccak (the ``updateHash`` the reveal
names, and which covers the committed plaintext hash), and the signed proof is sealed
last. Readers open both and check each plaintext against its envelope's commitment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from eth_utils.crypto import keccak

from ledger.privacy.envelope import seal
from ledger.privacy.readers import ReaderKeySource

__all__ = ["SealedSubmission", "seal_submission"]


@dataclass(frozen=True)
class SealedSubmission:
    """The two envelopes to store and reveal, with the hashes the reveal names."""

    update: bytes
    proof: bytes

    @property
    def update_hash(self) -> bytes:
        """keccak256 of the update envelope (the on-chain ``updateHash``)."""
        return keccak(self.update)

    @property
    def proof_hash(self) -> bytes:
        """keccak256 of the proof envelope (the on-chain ``proofHash``)."""
        return keccak(self.proof)


def seal_submission(update: bytes, sign_proof_for: Callable[[bytes], bytes],
                    readers: ReaderKeySource) -> SealedSubmission:
    """Seal `update`, have the proof signed over the envelope's hash, and seal the proof.

    `sign_proof_for(update_hash)` returns the canonical bytes of the signed proof for
    the given on-chain update hash.
    """
    keys = readers.reader_keys()
    update_envelope = seal(update, keys, kind="update")
    proof = sign_proof_for(keccak(update_envelope))
    return SealedSubmission(update_envelope, seal(proof, keys, kind="proof"))
