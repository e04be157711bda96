"""A canonical writer and a hostile-input reader for float32 safetensors files.

Why not `safetensors.torch.save`: its Rust core keeps ``__metadata__`` in a HashMap whose
iteration order is randomised per process, so the same tensors and metadata give different
bytes (and a different keccak256) in two processes; it also orders tensors by dtype and
name, not by layout. Our artifacts are registered on chain by the hash of their exact
bytes, so we write the (simple) format ourselves, canonically:

* 8 bytes: header length ``N`` as unsigned 64-bit little-endian;
* ``N`` bytes: header JSON, UTF-8, no whitespace, ``__metadata__`` first with its keys sorted,
  then one entry per tensor in layout order, each ``{"dtype":"F32","shape":[...],
  "data_offsets":[begin,end]}`` (keys in that order), padded with spaces (0x20) so that
  ``8 + N`` is a multiple of 8, as the reference writer pads;
* the tensors' float32 little-endian bytes, concatenated in layout order.

`safetensors.torch.load` reads these files (a test proves it). The reader accepts any valid
safetensors file holding only F32 tensors (entries in any order, any metadata order) and
refuses everything else with a typed error.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ledger.formats.canonical import json_nesting_depth
from ledger.formats.errors import (
    DtypeError,
    HeaderJsonError,
    MetadataError,
    NotSafetensorsError,
    TruncatedError,
)

__all__ = ["MAX_HEADER_BYTES", "TensorEntry", "TensorFile", "read_tensorfile", "write_tensorfile"]

MAX_HEADER_BYTES = 100 * 1024 * 1024
"""Same ceiling as the reference implementation; a real header is far smaller."""

_MAX_HEADER_DEPTH = 8  # a valid header nests 3 deep
_METADATA = "__metadata__"
_ENTRY_KEYS = ("dtype", "shape", "data_offsets")


@dataclass(frozen=True)
class TensorEntry:
    """Where one tensor's bytes lie in the data section."""

    name: str
    shape: tuple[int, ...]
    begin: int
    end: int


@dataclass(frozen=True)
class TensorFile:
    """A parsed safetensors file: metadata, tensor entries, and the data section."""

    metadata: Mapping[str, str]
    entries: Mapping[str, TensorEntry]
    data: memoryview

    def array(self, name: str) -> np.ndarray:
        """The tensor `name` as a read-only float32 numpy array of its shape."""
        entry = self.entries[name]
        count = (entry.end - entry.begin) // 4
        flat = np.frombuffer(self.data, dtype="<f4", count=count, offset=entry.begin)
        return flat.reshape(entry.shape)


def write_tensorfile(tensors: Sequence[tuple[str, np.ndarray]], metadata: Mapping[str, str]
                     ) -> bytes:
    """Write float32 `tensors` (in the given order) and `metadata` canonically."""
    header: dict[str, object] = {_METADATA: {key: metadata[key] for key in sorted(metadata)}}
    chunks: list[bytes] = []
    offset = 0
    for name, array in tensors:
        if name == _METADATA or name in header:
            raise HeaderJsonError(f"tensor name {name!r} is reserved or repeated")
        raw = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {
            "dtype": "F32",
            "shape": [int(d) for d in array.shape],
            "data_offsets": [offset, offset + len(raw)],
        }
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    text += b" " * (-(8 + len(text)) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def read_tensorfile(data: bytes, *, max_header_bytes: int = MAX_HEADER_BYTES) -> TensorFile:
    """Parse untrusted safetensors bytes holding only F32 tensors.

    `max_header_bytes` lets a caller who knows the expected tensors refuse an oversized
    header (a cheap way to make a reader parse megabytes of JSON) before parsing it.

    Raises
    ------
    NotSafetensorsError
        Fewer than 8 bytes, an implausible header length, or a header not starting with ``{``.
    TruncatedError
        The header or the tensor data is cut short.
    HeaderJsonError
        The header is not a JSON object of well-formed entries whose data offsets tile the
        data section exactly.
    MetadataError
        ``__metadata__`` is missing or not a string-to-string object.
    DtypeError
        A tensor is not F32.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise NotSafetensorsError(f"expected bytes, got {type(data).__name__}")
    view = memoryview(data).cast("B")
    if len(view) < 8:
        raise NotSafetensorsError(
            f"{len(view)} bytes is shorter than the 8-byte safetensors header length"
        )
    (size,) = struct.unpack("<Q", view[:8])
    if size < 2 or size > MAX_HEADER_BYTES:
        raise NotSafetensorsError(f"header length {size} is not plausible for safetensors")
    if size > max_header_bytes:
        raise NotSafetensorsError(
            f"header length {size} exceeds {max_header_bytes}, the most this layout needs"
        )
    if 8 + size > len(view):
        raise TruncatedError(
            f"header claims {size} bytes but only {len(view) - 8} bytes follow the length"
        )
    raw_header = bytes(view[8:8 + size])
    if raw_header[:1] != b"{":
        raise NotSafetensorsError("header does not start with '{'")
    header = _parse_header(raw_header)
    metadata = _parse_metadata(header.pop(_METADATA, None))
    body = view[8 + size:]
    entries = _parse_entries(header)
    _check_tiling(entries, len(body))
    return TensorFile(metadata, entries, body)


def _reject_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise HeaderJsonError(f"header repeats the key {key!r}")
        result[key] = value
    return result


def _reject_float(text: str) -> object:
    raise HeaderJsonError(f"header holds a non-integer number {text}")


def _parse_header(raw: bytes) -> dict[str, object]:
    if json_nesting_depth(raw) > _MAX_HEADER_DEPTH:
        raise HeaderJsonError(f"header nests deeper than {_MAX_HEADER_DEPTH} levels")
    try:
        text = raw.decode("utf-8")
        header = json.loads(text, object_pairs_hook=_reject_duplicates,
                            parse_float=_reject_float, parse_constant=_reject_float)
    except UnicodeDecodeError as exc:
        raise HeaderJsonError(f"header is not UTF-8: {exc}") from exc
    except RecursionError as exc:
        raise HeaderJsonError("header nests too deeply") from exc
    except json.JSONDecodeError as exc:
        raise HeaderJsonError(f"header is not valid JSON: {exc}") from exc
    if not isinstance(header, dict):
        raise HeaderJsonError("header is not a JSON object")
    return header


def _parse_metadata(value: object) -> dict[str, str]:
    if value is None:
        raise MetadataError("header has no __metadata__ block")
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise MetadataError("__metadata__ must map strings to strings")
    return value


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _parse_entries(header: Mapping[str, object]) -> dict[str, TensorEntry]:
    entries: dict[str, TensorEntry] = {}
    for name, spec in header.items():
        if not isinstance(spec, dict) or set(spec) != set(_ENTRY_KEYS):
            raise HeaderJsonError(
                f"tensor {name!r}: entry must have exactly the keys dtype, shape, data_offsets"
            )
        shape, offsets = spec["shape"], spec["data_offsets"]
        if not isinstance(shape, list) or not all(_is_count(d) for d in shape):
            raise HeaderJsonError(f"tensor {name!r}: shape must be a list of integers >= 0")
        if (not isinstance(offsets, list) or len(offsets) != 2
                or not all(_is_count(o) for o in offsets) or offsets[0] > offsets[1]):
            raise HeaderJsonError(f"tensor {name!r}: data_offsets must be [begin, end], "
                                  "0 <= begin <= end")
        if spec["dtype"] != "F32":
            raise DtypeError(f"tensor {name!r} has dtype {spec['dtype']!r}, expected 'F32'")
        count = 1
        for dim in shape:
            count *= dim
        if offsets[1] - offsets[0] != 4 * count:
            raise HeaderJsonError(
                f"tensor {name!r}: data_offsets span {offsets[1] - offsets[0]} bytes, "
                f"shape {shape} of F32 needs {4 * count}"
            )
        entries[name] = TensorEntry(name, tuple(shape), offsets[0], offsets[1])
    return entries


def _check_tiling(entries: Mapping[str, TensorEntry], body_size: int) -> None:
    position = 0
    for entry in sorted(entries.values(), key=lambda e: (e.begin, e.end)):
        if entry.begin != position:
            raise HeaderJsonError(
                f"tensor {entry.name!r} starts at byte {entry.begin}, expected {position} "
                "(tensor data overlaps or leaves a gap)"
            )
        position = entry.end
    if position > body_size:
        raise TruncatedError(
            f"tensor data should be {position} bytes but only {body_size} are present"
        )
    if position < body_size:
        raise HeaderJsonError(f"{body_size - position} bytes follow the last tensor's data")
