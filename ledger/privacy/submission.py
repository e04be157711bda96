"""Opening a sealed submission inside the shared submission check.

A revealed update or proof may be an envelope (`ledger.privacy.envelope`): its CID and
keccak on chain are the envelope's, which `check_submission` verifies first as for any
artifact. Then, before the format checks, the envelope is opened with the checker's reader
key and the plaintext checked against the envelope's commitment. Outcomes, as stable codes
for the round report:

- not an envelope: the bytes pass through unchanged (cleartext mode);
- no reader key: ``unverifiable.encrypted`` (an auditor without a key cannot judge it,
  which is not the participant's fault; the auditor reports the round unverifiable);
- the round's aggregator (`required_reader`) is not among the readers:
  ``envelope.not_for_aggregator``, decided from the cleartext header so that the aggregator and
  every auditor, with or without a key, reach the same verdict (the participant did not
  encrypt to the one who must aggregate it);
- the checker's key is not a reader: ``envelope.not_reader`` too (an auditor reports
  that as unverifiable, `ledger.audit.privacy`);
- tampered or lying envelopes: ``envelope.decrypt``, ``envelope.plaintext_hash``,
  ``envelope.format``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.privacy.envelope import is_envelope, open_envelope, parse_envelope
from ledger.privacy.errors import PrivacyFormatError
from ledger.privacy.readers import ReaderSecret

__all__ = ["NOT_FOR_AGGREGATOR", "UNVERIFIABLE_ENCRYPTED", "SealedRefusal", "open_if_sealed"]

UNVERIFIABLE_ENCRYPTED = "unverifiable.encrypted"
NOT_FOR_AGGREGATOR = "envelope.not_for_aggregator"


@dataclass(frozen=True)
class SealedRefusal:
    """Why a sealed artifact could not be opened: a report code and a message."""

    code: str
    detail: str


def open_if_sealed(data: bytes, kind: str, reader: ReaderSecret | None,
                   max_plaintext: int, required_reader: str | None = None) -> bytes | SealedRefusal:
    """The plaintext of `data` (unchanged when it is not an envelope), or the refusal."""
    if not is_envelope(data):
        return data
    try:
        header = parse_envelope(data).header
        readers = ", ".join(header.reader_addresses)
        listed = {a.lower() for a in header.reader_addresses}
        if required_reader is not None and required_reader.lower() not in listed:
            return SealedRefusal(NOT_FOR_AGGREGATOR,
                                 f"{kind}: it is encrypted to {readers}, not to the round's "
                                 f"aggregator {required_reader}, who could not aggregate it")
        if reader is None:
            return SealedRefusal(UNVERIFIABLE_ENCRYPTED,
                                 f"unverifiable: encrypted: the {kind} is encrypted to {readers} "
                                 "and no reader key was given")
        return open_envelope(data, reader, expected_kind=kind, max_plaintext=max_plaintext)
    except PrivacyFormatError as exc:
        return SealedRefusal(exc.code, f"{kind}: {exc}")
