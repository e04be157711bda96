"""ParameterLayout: state dict <-> flat float32 vector, and refusals naming the tensor."""

from __future__ import annotations

import pytest
import torch

from ledger.formats.canonical import canonical_json, content_hash
from ledger.formats.errors import DtypeError, FieldError, LayoutMismatchError
from ledger.formats.layout import ParameterLayout

from .conftest import small_state


def test_from_state_dict_keeps_floating_tensors_in_order(state: dict[str, torch.Tensor]) -> None:
    # Execute
    layout = ParameterLayout.from_state_dict(state)
    # Assert
    assert layout.entries == (
        ("conv.weight", (2, 1, 3, 3)), ("conv.bias", (2,)), ("fc.weight", (3, 4)), ("fc.scale", ()),
    )
    assert layout.sizes == (18, 2, 12, 1)
    assert layout.offsets == (0, 18, 20, 32)
    assert layout.numel == 33


def test_flatten_then_unflatten_is_identity(layout: ParameterLayout,
                                            state: dict[str, torch.Tensor]) -> None:
    # Execute
    vector = layout.flatten(state)
    tensors = layout.unflatten(vector)
    # Assert
    assert vector.dtype == torch.float32 and vector.shape == (33,)
    assert torch.equal(vector[18:20], state["conv.bias"])
    assert list(tensors) == list(layout.names)
    for name in layout.names:
        assert torch.equal(tensors[name], state[name])
    assert tensors["fc.scale"].shape == ()


def test_layout_hash_is_keccak_of_canonical_json(layout: ParameterLayout) -> None:
    # Execute
    digest = layout.layout_hash()
    # Assert
    assert layout.to_json_value()[0] == ["conv.weight", [2, 1, 3, 3]]
    assert digest == content_hash(canonical_json(layout.to_json_value()))
    assert ParameterLayout.from_json_value(layout.to_json_value()) == layout
    reordered = ParameterLayout(tuple(reversed(layout.entries)))
    assert reordered.layout_hash() != digest


def test_validate_names_the_missing_tensor(layout: ParameterLayout) -> None:
    # Prepare
    state = small_state()
    del state["fc.weight"]
    # Execute / Assert
    with pytest.raises(LayoutMismatchError, match="state dict: missing tensor 'fc.weight'"):
        layout.validate(state)


def test_validate_names_the_unexpected_tensor(layout: ParameterLayout) -> None:
    # Prepare
    state = small_state()
    state["extra.weight"] = torch.zeros(2)
    # Execute / Assert
    with pytest.raises(LayoutMismatchError, match="unexpected tensor 'extra.weight'"):
        layout.validate(state)


def test_validate_names_the_misshapen_tensor(layout: ParameterLayout) -> None:
    # Prepare
    state = small_state()
    state["fc.weight"] = torch.zeros(4, 3)
    # Execute / Assert
    with pytest.raises(LayoutMismatchError,
                       match=r"tensor 'fc.weight' has shape \[4, 3\], layout says \[3, 4\]"):
        layout.validate(state)


def test_validate_refuses_other_float_dtypes(layout: ParameterLayout) -> None:
    # Prepare
    state = small_state()
    state["conv.bias"] = state["conv.bias"].double()
    # Execute / Assert
    with pytest.raises(DtypeError, match="tensor 'conv.bias' is torch.float64, expected float32"):
        layout.flatten(state)


def test_validate_ignores_non_floating_buffers(layout: ParameterLayout) -> None:
    # Prepare
    state = small_state()
    state["other.num_batches_tracked"] = torch.tensor(1)
    # Execute / Assert
    layout.validate(state)


@pytest.mark.parametrize(
    ("vector", "error", "message"),
    [
        (torch.zeros(32), LayoutMismatchError, "flat vector has 32 elements, layout needs 33"),
        (torch.zeros(33, dtype=torch.float64), DtypeError, "flat vector is torch.float64"),
        (torch.zeros(3, 11), LayoutMismatchError, "must be a 1-D tensor"),
    ],
)
def test_unflatten_refuses_wrong_vectors(layout: ParameterLayout, vector: torch.Tensor,
                                         error: type[Exception], message: str) -> None:
    # Execute / Assert
    with pytest.raises(error, match=message):
        layout.unflatten(vector)


@pytest.mark.parametrize(
    ("entries", "field", "message"),
    [
        ((), "layout", "must list at least one tensor"),
        ((("a", (1,)), ("a", (2,))), "layout[1]", "appears twice"),
        ((("", (1,)),), "layout[0]", "is empty"),
        ((("a b", (1,)),), "layout[0]", "characters outside"),
        ((("a", (-1,)),), "layout[0]", "must be a tuple of ints >= 0"),
        ((("a", (True,)),), "layout[0]", "must be a tuple of ints >= 0"),
    ],
)
def test_layout_refuses_malformed_entries(entries: tuple[object, ...], field: str,
                                          message: str) -> None:
    # Execute / Assert
    with pytest.raises(FieldError, match=message) as caught:
        ParameterLayout(entries)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_from_json_value_refuses_wrong_shapes_of_json() -> None:
    # Execute / Assert
    with pytest.raises(FieldError, match=r"task.layout\[0\]: must be a \[name, \[dims...\]\] pair"):
        ParameterLayout.from_json_value([["a", 3]], "task.layout")
    with pytest.raises(FieldError, match="task.layout: must be a list"):
        ParameterLayout.from_json_value({"a": [3]}, "task.layout")
