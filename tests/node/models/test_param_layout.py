"""Parameter layout: order, flatten/unflatten round trip, and checks of foreign states."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from ledger.errors import FormatError
from node.models.factory import initial_state
from node.models.param_layout import (
    ParamSpec,
    check_state,
    flatten_state,
    layout_size,
    parameter_layout,
    state_bytes,
    unflatten_state,
)


def _state() -> dict[str, torch.Tensor]:
    return {
        "a.weight": torch.arange(6, dtype=torch.float32).reshape(2, 3),
        "a.bias": torch.tensor([10.0, 11.0]),
        "steps": torch.tensor(7, dtype=torch.int64),
    }


def test_parameter_layout_follows_state_dict_order_of_floating_tensors() -> None:
    layout = parameter_layout(_state())

    assert layout == (ParamSpec("a.weight", (2, 3)), ParamSpec("a.bias", (2,)))
    assert layout_size(layout) == 8


def test_flatten_and_unflatten_round_trip() -> None:
    # Prepare
    state = _state()
    layout = parameter_layout(state)

    # Execute
    vector = flatten_state(state)
    back = unflatten_state(vector, layout)

    # Assert
    assert vector.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 10.0, 11.0]
    assert list(back) == ["a.weight", "a.bias"]
    assert torch.equal(back["a.weight"], state["a.weight"])
    assert state_bytes(state) == vector.numpy().astype("<f4").tobytes()


def test_layout_of_a_module_matches_its_state_dict() -> None:
    state = initial_state("cnn", (1, 8, 8), 10, seed=0)

    layout = parameter_layout(state)

    assert [s.name for s in layout] == list(state)
    assert layout_size(layout) == 38_282


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda s: s.pop("a.bias"), r"state: missing tensors \['a.bias'\]"),
        (lambda s: s.update(extra=torch.zeros(1)), r"state: unexpected tensors \['extra'\]"),
        (
            lambda s: s.update({"a.bias": torch.zeros(3)}),
            r"a.bias has shape \(3,\), expected \(2,\)",
        ),
        (
            lambda s: s.update({"a.bias": torch.tensor([1.0, float("nan")])}),
            "a.bias contains NaN or Inf",
        ),
        (
            lambda s: s.update({"a.bias": torch.tensor([1, 2])}),
            "a.bias has dtype torch.int64, expected floating point",
        ),
    ],
)
def test_check_state_rejects_foreign_states(
    mutate: Callable[[dict[str, torch.Tensor]], object], message: str
) -> None:
    # Prepare
    layout = parameter_layout(_state())
    state = _state()
    mutate(state)

    # Execute / Assert
    with pytest.raises(FormatError, match=message):
        check_state(state, layout)


def test_unflatten_rejects_wrong_length() -> None:
    with pytest.raises(FormatError, match=r"vector of shape \(7,\) does not match a layout of 8"):
        unflatten_state(torch.zeros(7), parameter_layout(_state()))
