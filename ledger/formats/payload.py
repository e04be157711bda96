"""Moving float32 tensors between a state dict, a safetensors file and a flat vector.

Shared by the update and model artifacts: both hold exactly the layout's tensors, float32,
finite, written in layout order and read back into one flat vector in layout order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import torch

from ledger.formats.errors import FieldError, LayoutMismatchError, MetadataError, NonFiniteError
from ledger.formats.fields import UINT64_MAX
from ledger.formats.layout import ParameterLayout
from ledger.formats.tensorfile import TensorFile

__all__ = [
    "file_to_vector",
    "header_budget",
    "parse_round_text",
    "tensors_to_arrays",
    "uint64_value",
]

_ROUND_RE = re.compile(r"0|[1-9][0-9]{0,19}")


def uint64_value(value: int, field: str) -> int:
    """Check that a Python argument is an int in [0, 2**64 - 1]."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= UINT64_MAX:
        raise FieldError(field, f"expected an integer in [0, 2**64 - 1], got {value!r}")
    return value


def header_budget(layout: ParameterLayout) -> int:
    """Generous upper bound on the header length of a valid file for `layout`.

    Per tensor: its name, the entry's fixed text and up to 21 digits per number, doubled
    for writers that add whitespace or escape; plus 64 KiB for metadata.
    """
    per_tensor = sum(len(name) + 64 + 22 * (len(shape) + 2) for name, shape in layout.entries)
    return 65536 + 2 * per_tensor


def parse_round_text(text: str, what: str) -> int:
    """Read the decimal ``round`` metadata value of an artifact."""
    if _ROUND_RE.fullmatch(text) is None or int(text) > UINT64_MAX:
        raise MetadataError(f"{what} metadata: round {text!r} is not a uint64 in decimal")
    return int(text)


def tensors_to_arrays(tensors: Mapping[str, torch.Tensor], layout: ParameterLayout | None,
                      what: str) -> list[tuple[str, np.ndarray]]:
    """Check `tensors` against `layout` (or their own order) and return CPU arrays in order.

    Raises
    ------
    LayoutMismatchError, DtypeError, NonFiniteError
    """
    if layout is None:
        layout = ParameterLayout.from_state_dict(tensors)
    unexpected = sorted(set(tensors) - set(layout.names))
    if unexpected:
        raise LayoutMismatchError(f"{what}: unexpected tensor {unexpected[0]!r}")
    layout.validate(tensors, what)
    arrays = []
    for name in layout.names:
        array = tensors[name].detach().to("cpu").contiguous().numpy()
        if not np.isfinite(array).all():
            raise NonFiniteError(f"{what}: tensor {name!r} holds NaN or Inf")
        arrays.append((name, array))
    return arrays


def file_to_vector(file: TensorFile, layout: ParameterLayout, what: str) -> torch.Tensor:
    """Check a parsed file's tensors against `layout`; return them as one flat vector.

    Raises
    ------
    LayoutMismatchError
        A tensor is missing, unexpected, or has another shape (named in the message).
    NonFiniteError
        A tensor holds NaN or Inf (named in the message).
    """
    names = set(file.entries)
    for name in layout.names:
        if name not in names:
            raise LayoutMismatchError(f"{what}: missing tensor {name!r}")
    extra = sorted(names - set(layout.names))
    if extra:
        raise LayoutMismatchError(f"{what}: unexpected tensor {extra[0]!r}")
    vector = np.empty(layout.numel, dtype=np.float32)
    for (name, shape), start, size in zip(layout.entries, layout.offsets, layout.sizes):
        entry = file.entries[name]
        if entry.shape != shape:
            raise LayoutMismatchError(
                f"{what}: tensor {name!r} has shape {list(entry.shape)}, layout says {list(shape)}"
            )
        part = vector[start:start + size]
        part[:] = file.array(name).reshape(-1)
        if not np.isfinite(part).all():
            raise NonFiniteError(f"{what}: tensor {name!r} holds NaN or Inf")
    return torch.from_numpy(vector)
