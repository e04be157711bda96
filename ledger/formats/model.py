"""The global Model artifact: the full float32 parameters every round starts from.

Same canonical safetensors container as an update (`ledger.formats.tensorfile`), with
tensors holding the parameters themselves and metadata

    {"format": "fedledger-model/1", "round": "<decimal>", "task_hash": "0x<64 hex>"}

where ``round`` is the round this model is the base of: the initial model is round 0, the
model produced by finalizing round r is round r + 1. So an update for round r names as its
base the hash of the model artifact whose ``round`` is r. Its keccak256 is the ``modelHash``
of ``openRound`` and the ``newModelHash`` of ``finalizeRound``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch

from ledger.formats.errors import (
    FieldError,
    MetadataError,
    RoundMismatchError,
    TaskHashMismatchError,
)
from ledger.formats.fields import hash_json, parse_hash, to_bytes32
from ledger.formats.layout import ParameterLayout
from ledger.formats.payload import (
    file_to_vector,
    header_budget,
    parse_round_text,
    tensors_to_arrays,
    uint64_value,
)
from ledger.formats.tensorfile import read_tensorfile, write_tensorfile

__all__ = ["MODEL_FORMAT", "DecodedModel", "decode_model", "encode_model"]

MODEL_FORMAT = "fedledger-model/1"


@dataclass(frozen=True, eq=False)
class DecodedModel:
    """A validated global model: its claims and its parameters as one flat vector."""

    round: int
    task_hash: bytes
    layout: ParameterLayout
    vector: torch.Tensor

    def state_dict(self) -> dict[str, torch.Tensor]:
        """Named parameter tensors (views into `vector`) for `load_state_dict(strict=False)`.

        Non-floating buffers (BatchNorm's ``num_batches_tracked``) are not part of the
        artifact, hence ``strict=False``.
        """
        return self.layout.unflatten(self.vector)


def encode_model(params: Mapping[str, torch.Tensor], round: int, task_hash: bytes | str, *,
                 layout: ParameterLayout | None = None) -> bytes:
    """Encode float32 model parameters as canonical model bytes.

    Non-floating entries of a state dict are left out when no layout is given; with a
    layout, `params` must hold exactly its tensors (plus, optionally, non-floating ones).
    """
    floating = {name: t for name, t in params.items() if t.is_floating_point()}
    metadata = {
        "format": MODEL_FORMAT,
        "round": str(uint64_value(round, "round")),
        "task_hash": hash_json(to_bytes32(task_hash, "task_hash")),
    }
    return write_tensorfile(tensors_to_arrays(floating, layout, "model"), metadata)


def decode_model(data: bytes, layout: ParameterLayout, expected_round: int | None,
                 expected_task_hash: bytes | str | None) -> DecodedModel:
    """Validate untrusted model bytes: container, metadata, layout, finite values.

    `expected_round`/`expected_task_hash` None skip that comparison (e.g. when inspecting
    a model found on disk); from the chain, pass both.

    Raises
    ------
    NotSafetensorsError, TruncatedError, HeaderJsonError, DtypeError, MetadataError,
    RoundMismatchError, TaskHashMismatchError, LayoutMismatchError, NonFiniteError
    """
    file = read_tensorfile(data, max_header_bytes=header_budget(layout))
    metadata = file.metadata
    expected_keys = {"format", "round", "task_hash"}
    if set(metadata) != expected_keys:
        raise MetadataError(f"model metadata keys are {sorted(metadata)}, "
                            f"expected {sorted(expected_keys)}")
    if metadata["format"] != MODEL_FORMAT:
        raise MetadataError(f"model metadata: format is {metadata['format']!r}, "
                            f"expected {MODEL_FORMAT!r}")
    round_ = parse_round_text(metadata["round"], "model")
    try:
        task_hash = parse_hash(metadata["task_hash"], "task_hash")
    except FieldError as exc:
        raise MetadataError(f"model metadata: {exc}") from exc
    if expected_round is not None and round_ != expected_round:
        raise RoundMismatchError(f"model claims round {round_}, expected {expected_round}")
    if expected_task_hash is not None:
        expected = to_bytes32(expected_task_hash, "expected_task_hash")
        if task_hash != expected:
            raise TaskHashMismatchError(
                f"model claims task {hash_json(task_hash)}, expected {hash_json(expected)}"
            )
    return DecodedModel(round_, task_hash, layout, file_to_vector(file, layout, "model"))
