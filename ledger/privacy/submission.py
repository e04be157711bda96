"""Opening a sealed submission inside the shared submission check.

A revealed update or proof may be an envelope (`ledger.privacy.envelope`): its CID and
keccak on chain are the envelope's, which `check_submission` verifies first as for any
artifact. Then, before the format checks, the envelope is opened with the checker's reader
key and the plaintext checked against the envelope's commitment. Outcomes, as stable codes
for the round report:

- not an envelope: the bytes pass through unchanged (cleartext mode);
- no reader key: ``unverifiable.encrypted`` (an auditor without a key cannot judge it,
  which is not the participant's fault; the auditor reports the round unverifiable);
- the checker is not a reader: ``envelope.not_reader`` (for the aggregator this is the
  participant's fault: it did not encrypt to the aggregator);
- tampered or lying envelopes: ``envelope.decrypt``, ``envelope.plaintext_hash``,
  ``envelope.format``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.privacy.envelope import is_envelope, open_envelope, parse_envelope
from ledger.privacy.errors import PrivacyFormatError
from ledger.privacy.readers import ReaderSecret

__all__ = ["UNVERIFIABLE_ENCRYPTED", "SealedRefusal", "open_if_sealed"]

UNVERIFIABLE_ENCRYPTED = "unverifiable.encrypted"


@dataclass(frozen=True)
class SealedRefusal:
    """Why a sealed artifact could not be opened: a report code and a message."""

    code: str
    detail: str


def open_if_sealed(data: bytes, kind: str, reader: ReaderSecret | None,
                   max_plaintext: int) -> bytes | SealedRefusal:
    """The plaintext of `data` (unchanged when it is not an envelope), or the refusal."""
    if not is_envelope(data):
        return data
    try:
        if reader is None:
            readers = ", ".join(parse_envelope(data).header.reader_addresses)
            return SealedRefusal(UNVERIFIABLE_ENCRYPTED,
                                 f"unverifiable: encrypted: the {kind} is encrypted to {readers} "
                                 "and no reader key was given")
        return open_envelope(data, reader, expected_kind=kind, max_plaintext=max_plaintext)
    except PrivacyFormatError as exc:
        return SealedRefusal(exc.code, f"{kind}: {exc}")
