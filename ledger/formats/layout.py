"""The parameter layout: which float32 tensors a model has, in which order, of which shape.

Updates, models and aggregation all handle one flat float32 vector per participant; the
layout is the contract that turns a `state_dict` into that vector and back. It is part of
the task spec (hashed on chain), so a participant cannot smuggle in extra tensors, drop
one, or reshape one without being refused with a message naming the tensor.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property

import torch

from ledger.formats.canonical import canonical_json, content_hash
from ledger.formats.errors import DtypeError, FieldError, LayoutMismatchError

__all__ = ["ParameterLayout"]

_MAX_TENSORS = 100_000
_MAX_NAME = 512
_NAME_RE = re.compile(r"[A-Za-z0-9_.\-:/]+")


@dataclass(frozen=True)
class ParameterLayout:
    """Ordered ``(name, shape)`` entries of a model's floating-point state tensors.

    Non-floating entries of a state dict (BatchNorm's ``num_batches_tracked``) are not
    parameters: they are ignored by `from_state_dict`, `validate` and `flatten`.
    """

    entries: tuple[tuple[str, tuple[int, ...]], ...]

    def __post_init__(self) -> None:
        """Refuse empty, duplicated, oddly named or negatively shaped entries."""
        if not isinstance(self.entries, tuple) or not self.entries:
            raise FieldError("layout", "must list at least one tensor")
        if len(self.entries) > _MAX_TENSORS:
            raise FieldError("layout", f"has {len(self.entries)} tensors, limit {_MAX_TENSORS}")
        seen: set[str] = set()
        for index, entry in enumerate(self.entries):
            where = f"layout[{index}]"
            if not isinstance(entry, tuple) or len(entry) != 2:
                raise FieldError(where, "must be a (name, shape) pair")
            name, shape = entry
            if not isinstance(name, str) or not _NAME_RE.fullmatch(name) or len(name) > _MAX_NAME:
                raise FieldError(where, f"tensor name {name!r} is empty, too long or has "
                                        "characters outside [A-Za-z0-9_.-:/]")
            if name in seen:
                raise FieldError(where, f"tensor name {name!r} appears twice")
            seen.add(name)
            if not isinstance(shape, tuple) or any(
                isinstance(d, bool) or not isinstance(d, int) or d < 0 for d in shape
            ):
                raise FieldError(where, f"shape of {name!r} must be a tuple of ints >= 0, "
                                        f"got {shape!r}")

    # -- construction --

    @classmethod
    def from_state_dict(cls, state: Mapping[str, torch.Tensor]) -> ParameterLayout:
        """The layout of `state`'s floating-point tensors, in the state dict's order."""
        return cls(tuple(
            (name, tuple(int(d) for d in tensor.shape))
            for name, tensor in state.items()
            if tensor.is_floating_point()
        ))

    @classmethod
    def from_json_value(cls, value: object, field: str = "layout") -> ParameterLayout:
        """Read the JSON form ``[[name, [d0, d1, ...]], ...]`` (see `to_json_value`)."""
        if not isinstance(value, list):
            raise FieldError(field, "must be a list of [name, shape] pairs")
        entries = []
        for index, item in enumerate(value):
            if (not isinstance(item, list) or len(item) != 2 or not isinstance(item[0], str)
                    or not isinstance(item[1], list)):
                raise FieldError(f"{field}[{index}]", "must be a [name, [dims...]] pair")
            entries.append((item[0], tuple(item[1])))
        try:
            return cls(tuple(entries))
        except FieldError as exc:
            raise FieldError(exc.field.replace("layout", field, 1), exc.problem) from exc

    def to_json_value(self) -> list[list[object]]:
        """The JSON form: a list of ``[name, [dims...]]`` pairs in layout order."""
        return [[name, list(shape)] for name, shape in self.entries]

    # -- derived facts --

    @property
    def names(self) -> tuple[str, ...]:
        """Tensor names in layout order."""
        return tuple(name for name, _ in self.entries)

    @cached_property
    def sizes(self) -> tuple[int, ...]:
        """Element count of each tensor, in layout order."""
        return tuple(math.prod(shape) for _, shape in self.entries)

    @cached_property
    def offsets(self) -> tuple[int, ...]:
        """Start of each tensor in the flat vector, in layout order."""
        starts, total = [], 0
        for size in self.sizes:
            starts.append(total)
            total += size
        return tuple(starts)

    @property
    def numel(self) -> int:
        """Length of the flat vector."""
        return sum(self.sizes)

    def layout_hash(self) -> bytes:
        """keccak256 of the canonical JSON of `to_json_value` (32 bytes)."""
        return content_hash(canonical_json(self.to_json_value()))

    def __iter__(self) -> Iterator[tuple[str, tuple[int, ...]]]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    # -- checking and (un)flattening --

    def validate(self, state: Mapping[str, torch.Tensor], what: str = "state dict") -> None:
        """Check that `state`'s floating tensors are exactly this layout, all float32.

        Raises
        ------
        LayoutMismatchError
            Missing or unexpected tensor, or wrong shape (the message names it).
        DtypeError
            A layout tensor is not float32.
        """
        expected = dict(self.entries)
        for name, tensor in state.items():
            if not isinstance(tensor, torch.Tensor):
                raise LayoutMismatchError(f"{what}: {name!r} is not a tensor")
            if name not in expected and tensor.is_floating_point():
                raise LayoutMismatchError(f"{what}: unexpected tensor {name!r}")
        for name, shape in self.entries:
            if name not in state:
                raise LayoutMismatchError(f"{what}: missing tensor {name!r}")
            tensor = state[name]
            if tuple(tensor.shape) != shape:
                raise LayoutMismatchError(
                    f"{what}: tensor {name!r} has shape {list(tensor.shape)}, "
                    f"layout says {list(shape)}"
                )
            if tensor.dtype != torch.float32:
                raise DtypeError(f"{what}: tensor {name!r} is {tensor.dtype}, expected float32")

    def flatten(self, state: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Concatenate `state`'s layout tensors into one 1-D float32 tensor (layout order)."""
        self.validate(state)
        parts = [state[name].detach().reshape(-1) for name in self.names]
        return torch.cat(parts)

    def unflatten(self, vector: torch.Tensor) -> dict[str, torch.Tensor]:
        """Split a flat float32 vector into named tensors (views into `vector`)."""
        if not isinstance(vector, torch.Tensor) or vector.dim() != 1:
            raise LayoutMismatchError("flat vector must be a 1-D tensor")
        if vector.dtype != torch.float32:
            raise DtypeError(f"flat vector is {vector.dtype}, expected float32")
        if vector.numel() != self.numel:
            raise LayoutMismatchError(
                f"flat vector has {vector.numel()} elements, layout needs {self.numel}"
            )
        return {
            name: vector[start:start + size].view(shape)
            for (name, shape), start, size in zip(self.entries, self.offsets, self.sizes)
        }
