"""Model artifact: round-trip, metadata binding to round and task, hostile bytes."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save as st_save

from ledger.formats.errors import (
    LayoutMismatchError,
    MetadataError,
    NonFiniteError,
    RoundMismatchError,
    TaskHashMismatchError,
    TruncatedError,
)
from ledger.formats.layout import ParameterLayout
from ledger.formats.model import decode_model, encode_model
from ledger.formats.update import encode_update

from .conftest import BASE_HASH, TASK_HASH


def test_round_trip_drops_non_floating_buffers(state: dict[str, torch.Tensor],
                                               layout: ParameterLayout) -> None:
    # Execute
    data = encode_model(state, 0, TASK_HASH)
    model = decode_model(data, layout, 0, TASK_HASH)
    # Assert
    assert model.round == 0 and model.task_hash == TASK_HASH
    assert torch.equal(model.vector, layout.flatten(state))
    restored = model.state_dict()
    assert "bn.num_batches_tracked" not in restored
    assert torch.equal(restored["conv.weight"], state["conv.weight"])
    assert encode_model(state, 0, TASK_HASH, layout=layout) == data


def test_metadata_is_format_round_and_task(state: dict[str, torch.Tensor]) -> None:
    # Execute
    data = encode_model(state, 7, TASK_HASH)
    # Assert
    assert b'{"__metadata__":{"format":"fedledger-model/1","round":"7","task_hash":"0x' + (
        b"cd" * 32 + b'"}') in data[:200]


def test_expectations_are_checked_when_given(state: dict[str, torch.Tensor],
                                             layout: ParameterLayout) -> None:
    # Prepare
    data = encode_model(state, 2, TASK_HASH)
    # Execute / Assert
    with pytest.raises(RoundMismatchError, match="model claims round 2, expected 3"):
        decode_model(data, layout, 3, TASK_HASH)
    with pytest.raises(TaskHashMismatchError, match="model claims task 0xcdcd"):
        decode_model(data, layout, 2, BASE_HASH)
    assert decode_model(data, layout, None, None).round == 2


def test_an_update_is_not_a_model(state: dict[str, torch.Tensor], layout: ParameterLayout) -> None:
    # Prepare
    floating = {k: v for k, v in state.items() if v.is_floating_point()}
    update = encode_update(floating, 0, BASE_HASH, "0x" + "11" * 20)
    # Execute / Assert
    with pytest.raises(MetadataError, match="model metadata keys are"):
        decode_model(update, layout, 0, TASK_HASH)


def test_hostile_models_are_refused(state: dict[str, torch.Tensor],
                                    layout: ParameterLayout) -> None:
    # Prepare
    metadata = {"format": "fedledger-model/1", "round": "0", "task_hash": "0x" + "cd" * 32}
    floating = {k: v.clone() for k, v in state.items() if v.is_floating_point()}
    floating["fc.scale"] = torch.tensor(float("inf"))
    poisoned = st_save(floating, metadata=metadata)
    small = ParameterLayout((("conv.weight", (2, 1, 3, 3)),))
    good = encode_model(state, 0, TASK_HASH)
    # Execute / Assert
    with pytest.raises(NonFiniteError, match="model: tensor 'fc.scale' holds NaN or Inf"):
        decode_model(poisoned, layout, 0, TASK_HASH)
    with pytest.raises(LayoutMismatchError, match="model: unexpected tensor 'conv.bias'"):
        decode_model(good, small, 0, TASK_HASH)
    with pytest.raises(TruncatedError):
        decode_model(good[:100], layout, 0, TASK_HASH)
    with pytest.raises(MetadataError, match="format is 'x'"):
        decode_model(st_save(floating, metadata={**metadata, "format": "x"}), layout, 0, None)
