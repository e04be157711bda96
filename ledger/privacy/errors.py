"""Typed refusals of encrypted envelopes and privacy checks.

Each carries a stable `code` (like `ledger.formats.errors`) so the aggregator can record
why it refused a submission, and the auditor can tell "I hold no key" (unverifiable) from
"the participant lied" (rejected).
"""

from __future__ import annotations

from typing import ClassVar

from ledger.errors import FormatError

__all__ = [
    "ClipBoundError",
    "EnvelopeDecryptError",
    "EnvelopeFormatError",
    "NotAReaderError",
    "PlaintextHashMismatchError",
    "PrivacyFormatError",
    "ReaderKeyError",
]


class PrivacyFormatError(FormatError):
    """Root of the privacy refusals; `code` names the failure in round reports."""

    code: ClassVar[str] = "privacy"


class EnvelopeFormatError(PrivacyFormatError):
    """The bytes are not a well-formed envelope (magic, header length, header JSON)."""

    code = "envelope.format"


class NotAReaderError(PrivacyFormatError):
    """The envelope was not encrypted to the key trying to open it."""

    code = "envelope.not_reader"


class EnvelopeDecryptError(PrivacyFormatError):
    """A wrapped key or the body does not decrypt (tampered, or a forged reader entry)."""

    code = "envelope.decrypt"


class PlaintextHashMismatchError(PrivacyFormatError):
    """The decrypted bytes do not hash to the plaintext hash the envelope commits to."""

    code = "envelope.plaintext_hash"


class ClipBoundError(PrivacyFormatError):
    """An update's L2 norm exceeds the round's DP clipping norm (client-side clipping)."""

    code = "privacy.clip_bound"


class ReaderKeyError(PrivacyFormatError):
    """A reader public key is malformed or does not belong to the address it is listed for."""

    code = "privacy.reader_key"
