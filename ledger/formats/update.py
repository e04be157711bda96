"""The Update artifact: one participant's float32 parameter delta for one round.

An update is a canonical safetensors file (see `ledger.formats.tensorfile`) whose tensors
are the delta ``local - global`` in the task's parameter layout, and whose metadata binds it
to a round, the global model it was trained from, and the participant who publishes it:

    {"base_model_hash": "0x<64 hex>", "format": "fedledger-update/1",
     "participant": "0x<40 hex, lowercase>", "round": "<decimal>"}

Its keccak256 is the ``updateHash`` revealed on chain. `decode_update` is what the
aggregator and the auditor run on bytes fetched from IPFS: it refuses, with a distinct
error type each, anything that is not exactly such an update for the expected round, base
model and participant, with finite values and an L2 norm within the task's bound.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import torch
from eth_typing import ChecksumAddress

from ledger.formats.errors import (
    BaseModelMismatchError,
    FieldError,
    MetadataError,
    NormBoundError,
    ParticipantMismatchError,
    RoundMismatchError,
)
from ledger.formats.fields import (
    address_json,
    hash_json,
    parse_address,
    parse_hash,
    to_address,
    to_bytes32,
)
from ledger.formats.layout import ParameterLayout
from ledger.formats.norm import exact_squared_norm, exceeds_bound
from ledger.formats.payload import (
    file_to_vector,
    header_budget,
    parse_round_text,
    tensors_to_arrays,
    uint64_value,
)
from ledger.formats.tensorfile import read_tensorfile, write_tensorfile

__all__ = [
    "UPDATE_FORMAT",
    "DecodedUpdate",
    "UpdateHeader",
    "decode_update",
    "encode_update",
    "read_update_header",
]

UPDATE_FORMAT = "fedledger-update/1"

NormBound = Decimal | Fraction | int | float


@dataclass(frozen=True)
class UpdateHeader:
    """What an update's metadata claims, before any expectation is checked."""

    round: int
    base_model_hash: bytes
    participant: ChecksumAddress


@dataclass(frozen=True, eq=False)
class DecodedUpdate:
    """A validated update: its claims, and the delta as one flat float32 vector.

    `squared_norm` is exact; `norm` is the float nearest its square root.
    """

    header: UpdateHeader
    layout: ParameterLayout
    vector: torch.Tensor
    squared_norm: Fraction

    @property
    def round(self) -> int:
        """The round the update is for."""
        return self.header.round

    @property
    def base_model_hash(self) -> bytes:
        """Hash of the global model the delta is relative to."""
        return self.header.base_model_hash

    @property
    def participant(self) -> ChecksumAddress:
        """The participant who published it."""
        return self.header.participant

    @property
    def norm(self) -> float:
        """The L2 norm of the delta."""
        return math.sqrt(self.squared_norm)

    def tensors(self) -> dict[str, torch.Tensor]:
        """The delta as named tensors (views into `vector`)."""
        return self.layout.unflatten(self.vector)


def encode_update(delta: Mapping[str, torch.Tensor], round: int, base_model_hash: bytes | str,
                  participant: str, *, layout: ParameterLayout | None = None) -> bytes:
    """Encode a float32 delta as canonical update bytes (same inputs -> same bytes).

    Tensors are written in `layout` order; without a layout, in `delta`'s order (a
    state dict's order is its layout's order). The delta must be float32 and finite.
    """
    metadata = {
        "format": UPDATE_FORMAT,
        "round": str(uint64_value(round, "round")),
        "base_model_hash": hash_json(to_bytes32(base_model_hash, "base_model_hash")),
        "participant": address_json(to_address(participant, "participant")),
    }
    return write_tensorfile(tensors_to_arrays(delta, layout, "update"), metadata)


def _parse_header(metadata: Mapping[str, str]) -> UpdateHeader:
    expected_keys = {"format", "round", "base_model_hash", "participant"}
    if set(metadata) != expected_keys:
        missing = sorted(expected_keys - set(metadata))
        extra = sorted(set(metadata) - expected_keys)
        detail = f"missing {missing[0]!r}" if missing else f"unknown key {extra[0]!r}"
        raise MetadataError(f"update metadata: {detail}")
    if metadata["format"] != UPDATE_FORMAT:
        raise MetadataError(
            f"update metadata: format is {metadata['format']!r}, expected {UPDATE_FORMAT!r}"
        )
    round_ = parse_round_text(metadata["round"], "update")
    try:
        base = parse_hash(metadata["base_model_hash"], "base_model_hash")
        participant = parse_address(metadata["participant"], "participant")
    except FieldError as exc:
        raise MetadataError(f"update metadata: {exc}") from exc
    return UpdateHeader(round_, base, participant)


def read_update_header(data: bytes) -> UpdateHeader:
    """Parse the container and metadata only (no expectations, no tensor checks)."""
    return _parse_header(read_tensorfile(data).metadata)


def decode_update(data: bytes, layout: ParameterLayout, expected_round: int,
                  expected_base_hash: bytes | str, expected_participant: str,
                  max_norm: NormBound | None) -> DecodedUpdate:
    """Validate untrusted update bytes against the chain's expectations and the task.

    Checks, in order: container (`NotSafetensorsError`, `TruncatedError`,
    `HeaderJsonError`, `DtypeError`), metadata (`MetadataError`), claims
    (`RoundMismatchError`, `BaseModelMismatchError`, `ParticipantMismatchError`), tensors
    (`LayoutMismatchError`, `NonFiniteError`) and the norm (`NormBoundError`; `max_norm`
    None means the task sets no bound).
    """
    file = read_tensorfile(data, max_header_bytes=header_budget(layout))
    header = _parse_header(file.metadata)
    if header.round != expected_round:
        raise RoundMismatchError(
            f"update claims round {header.round}, expected round {expected_round}"
        )
    expected_base = to_bytes32(expected_base_hash, "expected_base_hash")
    if header.base_model_hash != expected_base:
        raise BaseModelMismatchError(
            f"update claims base model {hash_json(header.base_model_hash)}, "
            f"expected {hash_json(expected_base)}"
        )
    expected_sender = to_address(expected_participant, "expected_participant")
    if header.participant != expected_sender:
        raise ParticipantMismatchError(
            f"update claims participant {header.participant}, revealed by {expected_sender}"
        )
    vector = file_to_vector(file, layout, "update")
    squared = exact_squared_norm(vector)
    if max_norm is not None and exceeds_bound(squared, max_norm):
        raise NormBoundError(
            f"update L2 norm {float(squared) ** 0.5:.6g} exceeds the bound {max_norm}"
        )
    return DecodedUpdate(header, layout, vector, squared)
