"""Canonical JSON: one value, one byte string, one hash.

Artifacts are identified on chain by keccak256 of their exact bytes, so two honest
implementations must serialise the same value to the same bytes. The rules (also in
docs/formats.md):

* UTF-8, no byte-order mark, no insignificant whitespace.
* Object keys are strings, unique, sorted by Unicode code point (= UTF-8 byte order).
* Strings escape only ``"``, ``\\`` and control characters below U+0020 (``\\b \\f \\n \\r \\t``
  by name, the rest as ``\\u00xx`` with lowercase hex); everything else is written as UTF-8.
* Numbers are integers within the IEEE-754 safe range ``|n| <= 2**53 - 1`` written in plain
  decimal. Floats are forbidden: schemas carry fractional quantities as decimal strings
  (see `format_decimal`) or as integers scaled by ``10**decimals`` (see `to_fixed`).
  Larger integers (token amounts) are decimal strings.
* ``true``, ``false``, ``null`` as usual.

Parsing treats the bytes as hostile: a size limit, a nesting-depth limit, no floats,
no NaN/Infinity, no duplicate keys, and (by default) the bytes must already be canonical.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import TypeAlias

import numpy as np
from eth_hash.auto import keccak

from ledger.formats.errors import (
    FieldError,
    JsonSyntaxError,
    JsonTooDeepError,
    JsonTooLargeError,
    JsonValueError,
    NonCanonicalJsonError,
)

__all__ = [
    "MAX_JSON_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_SAFE_INTEGER",
    "JsonValue",
    "canonical_json",
    "content_hash",
    "format_decimal",
    "from_fixed",
    "json_nesting_depth",
    "keccak_hex",
    "parse_canonical_json",
    "parse_decimal",
    "parse_json",
    "to_fixed",
]

JsonValue: TypeAlias = "None | bool | int | str | Sequence[JsonValue] | Mapping[str, JsonValue]"

MAX_SAFE_INTEGER = 2**53 - 1
"""Largest integer every JSON implementation (JavaScript included) reads exactly."""

MAX_JSON_BYTES = 8 * 1024 * 1024
"""Default size limit for a parsed document (a round report of thousands of entries fits)."""

MAX_JSON_DEPTH = 32
"""Default nesting limit; no fedledger schema nests deeper than 6."""

_STRING_LITERAL_RE = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_DECIMAL_RE = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?")


def keccak_hex(data: bytes) -> str:
    """Return ``0x`` + 64 lowercase hex digits of keccak256(`data`)."""
    return "0x" + keccak(data).hex()


def content_hash(data: bytes) -> bytes:
    """Return the 32-byte keccak256 of `data`: the `bytes32` an artifact is registered under."""
    return keccak(data)


def canonical_json(value: object) -> bytes:
    """Encode `value` (dicts, lists/tuples, str, int, bool, None) as canonical JSON bytes.

    Raises
    ------
    JsonValueError
        For floats, integers outside the safe range, non-string keys, lone surrogates or
        any other type.
    """
    _check_encodable(value, "$", 0)
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogate in some string
        raise JsonValueError(f"string is not valid Unicode (lone surrogate): {exc}") from exc


def _check_encodable(value: object, path: str, depth: int) -> None:
    if isinstance(value, (Mapping, list, tuple)) and depth + 1 > MAX_JSON_DEPTH:
        raise JsonTooDeepError(f"{path}: nesting deeper than {MAX_JSON_DEPTH}")
    if value is None or isinstance(value, (bool, str)):
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise JsonValueError(
                f"{path}: integer {value} is outside +/-(2**53-1); encode it as a decimal string"
            )
        return
    if isinstance(value, float):
        raise JsonValueError(
            f"{path}: floats are not allowed in canonical JSON ({value!r}); "
            "use a decimal string or a scaled integer"
        )
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise JsonValueError(f"{path}: object key {key!r} is not a string")
            _check_encodable(item, f"{path}.{key}", depth + 1)
        return
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check_encodable(item, f"{path}[{index}]", depth + 1)
        return
    raise JsonValueError(f"{path}: {type(value).__name__} cannot be encoded as canonical JSON")


def _reject_float(text: str) -> object:
    raise JsonValueError(f"floats are not allowed in canonical JSON (found {text})")


def _reject_constant(text: str) -> object:
    raise JsonValueError(f"{text} is not allowed in canonical JSON")


def _unique_object(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, item in pairs:
        if key in result:
            raise JsonValueError(f"duplicate object key {key!r}")
        result[key] = item
    return result


def parse_json(
    data: bytes, *, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH
) -> object:
    """Parse untrusted JSON bytes under the canonical value rules (not byte-canonical).

    Raises
    ------
    JsonTooLargeError, JsonTooDeepError, JsonSyntaxError, JsonValueError
        As their names say; the message tells what and where.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise JsonSyntaxError(f"expected bytes, got {type(data).__name__}")
    if len(data) > max_bytes:
        raise JsonTooLargeError(f"document is {len(data)} bytes, limit is {max_bytes}")
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JsonSyntaxError(f"document is not UTF-8: {exc}") from exc
    if text.startswith("\ufeff"):
        raise JsonSyntaxError("document starts with a byte-order mark")
    if json_nesting_depth(bytes(data)) > max_depth:
        raise JsonTooDeepError(f"nesting deeper than {max_depth}")
    try:
        value = json.loads(
            text,
            parse_float=_reject_float,
            parse_constant=_reject_constant,
            object_pairs_hook=_unique_object,
        )
    except RecursionError as exc:
        raise JsonTooDeepError(f"nesting deeper than {max_depth}") from exc
    except json.JSONDecodeError as exc:
        raise JsonSyntaxError(f"invalid JSON: {exc}") from exc
    _check_depth(value, max_depth)
    _check_encodable_numbers(value)
    return value


def json_nesting_depth(data: bytes) -> int:
    """Upper bound of the array/object nesting depth of JSON bytes, without parsing them.

    Run before `json.loads`, whose C scanner recurses once per level: importing
    eth-account (through py_ecc) raises the interpreter's recursion limit to 100000, so a
    document nested a few ten thousand levels deep overflows the C stack and kills the
    process instead of raising RecursionError. String literals are blanked first, so
    brackets inside strings do not count. For valid JSON the result is exact.
    """
    stripped = _STRING_LITERAL_RE.sub(b'""', data)
    codes = np.frombuffer(stripped, dtype=np.uint8)
    steps = np.zeros(codes.shape, dtype=np.int64)
    steps[(codes == 0x5B) | (codes == 0x7B)] = 1
    steps[(codes == 0x5D) | (codes == 0x7D)] = -1
    return int(np.cumsum(steps).max(initial=0))


def _check_depth(value: object, max_depth: int) -> None:
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: list[object] = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth + 1 > max_depth:
            raise JsonTooDeepError(f"nesting deeper than {max_depth}")
        stack.extend((child, depth + 1) for child in children)


def _check_encodable_numbers(value: object) -> None:
    stack: list[object] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, int) and not isinstance(item, bool) and abs(item) > MAX_SAFE_INTEGER:
            raise JsonValueError(
                f"integer {item} is outside +/-(2**53-1); such values must be decimal strings"
            )


def parse_canonical_json(
    data: bytes, *, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH
) -> object:
    """Parse untrusted bytes and require them to be exactly the canonical encoding.

    Raises
    ------
    NonCanonicalJsonError
        When the JSON is valid but re-encoding it gives different bytes (whitespace, key
        order, escapes).
    """
    value = parse_json(data, max_bytes=max_bytes, max_depth=max_depth)
    if canonical_json(value) != bytes(data):
        raise NonCanonicalJsonError(
            "JSON is valid but not canonical (sorted keys, no whitespace, minimal escapes)"
        )
    return value


# --- decimal strings and fixed-point integers -----------------------------------------------


def format_decimal(value: Decimal | int) -> str:
    """Write an exact decimal as its canonical string: no exponent, no trailing zeros.

    ``Decimal("0.050")`` -> ``"0.05"``, ``Decimal("10")`` -> ``"10"``, ``-0`` -> ``"0"``.
    """
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise JsonValueError(f"expected Decimal or int, got {type(value).__name__}")
    number = Decimal(value)
    if not number.is_finite():
        raise JsonValueError(f"decimal {value} is not finite")
    if number == 0:
        return "0"
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def parse_decimal(text: object, field: str) -> Decimal:
    """Read a canonical decimal string (as written by `format_decimal`).

    Raises
    ------
    FieldError
        Naming `field` when `text` is not a string of the form ``-?(0|[1-9]\\d*)(\\.\\d*[1-9])?``.
    """
    if not isinstance(text, str) or _DECIMAL_RE.fullmatch(text) is None or text == "-0":
        raise FieldError(field, f"expected a canonical decimal string like '0.05', got {text!r}")
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only valid input
        raise FieldError(field, f"not a decimal: {text!r}") from exc


def to_fixed(value: float, decimals: int) -> int:
    """Round `value` to an integer count of ``10**-decimals`` units (half to even, exact).

    The float is converted exactly (no binary-to-decimal slop) before rounding, so every
    machine gets the same integer.
    """
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise JsonValueError(f"expected a number, got {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise JsonValueError(f"cannot encode non-finite number {value!r}")
    units: int = round(Fraction(value) * 10**decimals)
    return units


def from_fixed(units: int, decimals: int) -> float:
    """Inverse of `to_fixed` up to rounding: ``units * 10**-decimals`` as the nearest float."""
    return float(Fraction(units, 10**decimals))
