"""Checking one revealed submission: the same code for the aggregator and the auditor.

A reveal on chain names an update CID + hash and a proof CID + hash. Before an update
may influence the model, every claim around it is checked against what the chain says:
the bytes match the CID (the store re-hashes them) and the keccak hash, the update's
header names this round, this base model and this participant, the tensors fit the
task's layout, are finite and within the norm bound, and the proof is signed by the
participant over exactly this update and sample count. The auditor must reach the same
verdict from the same bytes, so this lives in `ledger`, which it trusts, rather than in
the aggregator, which it does not.

A failed check never raises: it becomes a `SubmissionCheck` with a stable code, which
the round report publishes, so one hostile participant cannot stop a round.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import torch
from eth_utils.crypto import keccak

from ledger.errors import ContentNotFound, FormatError, IntegrityError, StoreError
from ledger.formats.proof import ExpectedProof, parse_proof, verify_proof
from ledger.formats.task import TaskSpec
from ledger.formats.update import decode_update
from ledger.privacy.readers import ReaderSecret
from ledger.privacy.submission import SealedRefusal, open_if_sealed
from ledger.store.base import ContentStore
from ledger.store.errors import ContentTooLarge, InvalidCid

#: Room for the safetensors header on top of the raw float32 payload.
HEADER_ALLOWANCE = 64 * 1024
MAX_PROOF_BYTES = 64 * 1024
#: A refusal's detail is published as the report's `reason` (at most 1024 characters there):
#: a hostile reveal (a CID of thousands of characters) must not make it longer.
MAX_DETAIL = 1000
#: CIDs longer than this are shown abbreviated in details (a real CIDv1 has 59 characters).
SHOWN_CID = 100


@dataclass(frozen=True)
class RevealedSubmission:
    """What the chain recorded for one participant's reveal (from `UpdateRevealed`)."""

    round: int
    participant: str
    update_cid: str
    update_hash: bytes
    proof_cid: str
    proof_hash: bytes
    num_samples: int


@dataclass(frozen=True)
class SubmissionCheck:
    """The verdict on one submission: `vector` is set exactly when `code == "ok"`."""

    submission: RevealedSubmission
    code: str
    detail: str
    vector: torch.Tensor | None = None

    @property
    def ok(self) -> bool:
        return self.code == "ok"


def max_update_bytes(task: TaskSpec) -> int:
    """The largest update file a task can legitimately produce: fetches stop there."""
    return task.layout.numel * 4 + HEADER_ALLOWANCE


def _shown(cid: str) -> str:
    """`cid` as a detail names it: whole when plausible, else its start and its length."""
    if len(cid) <= SHOWN_CID:
        return cid
    return f"{cid[:SHOWN_CID]}... ({len(cid)} characters)"


def _refuse(sub: RevealedSubmission, code: str, detail: str) -> SubmissionCheck:
    if len(detail) > MAX_DETAIL:
        detail = detail[: MAX_DETAIL - 16] + " ... (cut short)"
    return SubmissionCheck(sub, code, detail)


def _fetch_pinned(store: ContentStore, sub: RevealedSubmission, what: str, cid: str,
                  expected_hash: bytes, max_size: int) -> bytes | SubmissionCheck:
    """The bytes at `cid` if they also match the reveal's keccak, else the refusal."""
    shown = _shown(cid)
    try:
        data = store.get_bytes(cid, max_size=max_size)
    except InvalidCid as exc:
        return _refuse(sub, "content.invalid_cid", f"{what} CID {shown!r}: {exc}")
    except ContentTooLarge as exc:
        return _refuse(sub, "content.too_large", f"{what} {shown}: {exc}")
    except ContentNotFound as exc:
        return _refuse(sub, "content.missing", f"{what} {shown}: {exc}")
    except IntegrityError as exc:
        return _refuse(sub, "content.cid_mismatch", f"{what} {shown}: {exc}")
    except StoreError as exc:
        return _refuse(sub, "content.unavailable", f"{what} {shown}: {exc}")
    digest = keccak(data)
    if digest != expected_hash:
        return _refuse(sub, f"{what}.hash_mismatch",
                       f"keccak of {what} {shown} is 0x{digest.hex()}, the reveal says "
                       f"0x{expected_hash.hex()}")
    return data


def _unseal(sub: RevealedSubmission, data: bytes, kind: str, reader: ReaderSecret | None,
            max_plaintext: int, required_reader: str | None) -> bytes | SubmissionCheck:
    """The plaintext of a sealed (encrypted) artifact, or the refusal: see ledger.privacy."""
    opened = open_if_sealed(data, kind, reader, max_plaintext, required_reader)
    if isinstance(opened, SealedRefusal):
        return _refuse(sub, opened.code, opened.detail)
    return opened


def check_submission(
    store: ContentStore,
    sub: RevealedSubmission,
    task: TaskSpec,
    base_model_hash: bytes,
    chain_id: int,
    registry: str,
    *,
    reader: ReaderSecret | None = None,
    required_reader: str | None = None,
) -> SubmissionCheck:
    """Fetch and verify one revealed update and its proof; never raises on bad content.

    `reader` opens encrypted submissions (the aggregator's or an auditor's reader key);
    without it an encrypted one is ``unverifiable.encrypted``. `required_reader` is the
    round's aggregator: an envelope not encrypted to it is refused by everyone alike.
    """
    update_bytes = _fetch_pinned(store, sub, "update", sub.update_cid, sub.update_hash,
                                 max_update_bytes(task))
    if isinstance(update_bytes, SubmissionCheck):
        return update_bytes
    update_bytes = _unseal(sub, update_bytes, "update", reader, max_update_bytes(task),
                           required_reader)
    if isinstance(update_bytes, SubmissionCheck):
        return update_bytes
    try:
        decoded = decode_update(
            update_bytes,
            task.layout,
            expected_round=sub.round,
            expected_base_hash=base_model_hash,
            expected_participant=sub.participant,
            max_norm=Decimal(task.update_norm_bound),
        )
    except FormatError as exc:
        return _refuse(sub, getattr(exc, "code", "format"), str(exc))

    proof_bytes = _fetch_pinned(store, sub, "proof", sub.proof_cid, sub.proof_hash,
                                MAX_PROOF_BYTES)
    if isinstance(proof_bytes, SubmissionCheck):
        return proof_bytes
    proof_bytes = _unseal(sub, proof_bytes, "proof", reader, MAX_PROOF_BYTES, required_reader)
    if isinstance(proof_bytes, SubmissionCheck):
        return proof_bytes
    try:
        proof = parse_proof(proof_bytes)
        verify_proof(
            proof,
            ExpectedProof(
                round=sub.round,
                participant=sub.participant,
                update_hash=sub.update_hash,
                num_samples=sub.num_samples,
                base_model_hash=base_model_hash,
                chain_id=chain_id,
                registry=registry,
            ),
        )
    except FormatError as exc:
        return _refuse(sub, getattr(exc, "code", "format"), str(exc))
    if proof.fields.training_config_hash != task.training.config_hash():
        return _refuse(
            sub,
            "proof.training_config",
            "the proof's training-config hash is not the task's: the participant trained "
            "with other hyper-parameters",
        )
    return SubmissionCheck(sub, "ok", "", decoded.vector)
