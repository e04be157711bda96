"""Carrying a rule's decision through canonical JSON, which forbids floats.

Rules publish float-side choices (Krum scores, Weiszfeld weights) already rounded to
a stated precision; canonical JSON (`ledger.formats.canonical`) refuses floats because
their text form is not unique. Each float therefore travels as the string
``"float:" + repr(x)``: `repr` round-trips a float exactly, and the tag keeps the value
apart from genuine strings, so `decode(encode(d)) == d` for every decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.errors import FormatError

_TAG = "float:"


def _encode(value: Any) -> Any:
    if isinstance(value, float):
        return _TAG + repr(value)
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _encode(v) for k, v in value.items()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_TAG):
        try:
            return float(value[len(_TAG):])
        except ValueError:
            raise FormatError(f"decision value {value!r} is not a tagged float") from None
    if isinstance(value, (list, tuple)):
        return [_decode(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _decode(v) for k, v in value.items()}
    return value


def encode_decision(decision: Mapping[str, Any]) -> dict[str, Any]:
    """A decision with every float replaced by its tagged exact string."""
    return {k: _encode(v) for k, v in decision.items()}


def decode_decision(decision: Mapping[str, Any]) -> dict[str, Any]:
    """The inverse of `encode_decision`."""
    return {k: _decode(v) for k, v in decision.items()}
