"""The parameter layout: the agreed order and shapes in which a model's numbers travel.

Updates, aggregation and audits work on flat float32 vectors; everyone must cut
and join them the same way. The layout is the ordered list of ``(name, shape)`` of
the floating tensors of a model's `state_dict()` (parameters and floating buffers,
in `state_dict()` order); flattening concatenates them in that order. States that
arrive from elsewhere (a global model, a peer's delta) are checked against a layout
before use: exact names, exact shapes, float dtype, finite values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch

from ledger.errors import FormatError

StateDict = Mapping[str, torch.Tensor]


@dataclass(frozen=True)
class ParamSpec:
    """Name and shape of one floating tensor in the layout."""

    name: str
    shape: tuple[int, ...]

    @property
    def numel(self) -> int:
        """Number of scalars in the tensor."""
        return math.prod(self.shape)


ParamLayout = tuple[ParamSpec, ...]


def parameter_layout(state: StateDict | torch.nn.Module) -> ParamLayout:
    """Layout of the floating tensors of a state dict (or a module's `state_dict()`)."""
    tensors = state.state_dict() if isinstance(state, torch.nn.Module) else state
    return tuple(
        ParamSpec(name, tuple(int(d) for d in tensor.shape))
        for name, tensor in tensors.items()
        if tensor.is_floating_point()
    )


def layout_size(layout: ParamLayout) -> int:
    """Total number of scalars in a layout."""
    return sum(spec.numel for spec in layout)


def check_state(state: StateDict, layout: ParamLayout, what: str = "state") -> None:
    """Raise `FormatError` unless `state` has exactly the layout's floating tensors, all finite.

    Non-floating entries of `state` (integer buffers) are ignored; the layout only
    covers floating tensors.
    """
    expected = [spec.name for spec in layout]
    present = [name for name, t in state.items() if t.is_floating_point()]
    missing = [name for name in expected if name not in state]
    if missing:
        raise FormatError(f"{what}: missing tensors {missing}")
    extra = [name for name in present if name not in set(expected)]
    if extra:
        raise FormatError(f"{what}: unexpected tensors {extra}")
    for spec in layout:
        tensor = state[spec.name]
        if not tensor.is_floating_point():
            raise FormatError(
                f"{what}: {spec.name} has dtype {tensor.dtype}, expected floating point"
            )
        if tuple(tensor.shape) != spec.shape:
            raise FormatError(
                f"{what}: {spec.name} has shape {tuple(tensor.shape)}, expected {spec.shape}"
            )
        if not bool(torch.isfinite(tensor).all()):
            raise FormatError(f"{what}: {spec.name} contains NaN or Inf")


def flatten_state(state: StateDict, layout: ParamLayout | None = None) -> torch.Tensor:
    """Concatenate the layout's tensors (float32, CPU) into one 1-D vector."""
    specs = layout if layout is not None else parameter_layout(state)
    check_state(state, specs)
    if not specs:
        return torch.zeros(0, dtype=torch.float32)
    return torch.cat(
        [state[spec.name].detach().to("cpu", torch.float32).reshape(-1) for spec in specs]
    )


def unflatten_state(vector: torch.Tensor, layout: ParamLayout) -> dict[str, torch.Tensor]:
    """Cut a 1-D vector back into named float32 tensors following `layout`."""
    if vector.ndim != 1 or vector.numel() != layout_size(layout):
        raise FormatError(
            f"vector of shape {tuple(vector.shape)} does not match a layout of "
            f"{layout_size(layout)} scalars"
        )
    flat = vector.detach().to("cpu", torch.float32)
    out: dict[str, torch.Tensor] = {}
    offset = 0
    for spec in layout:
        out[spec.name] = flat[offset : offset + spec.numel].reshape(spec.shape).clone()
        offset += spec.numel
    return out


def state_bytes(state: StateDict, layout: ParamLayout | None = None) -> bytes:
    """The little-endian float32 bytes of the flattened state (for hashing and comparisons)."""
    return flatten_state(state, layout).numpy().astype("<f4").tobytes()
