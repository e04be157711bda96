"""Field encodings shared by every artifact, and a strict reader for parsed JSON objects.

Hashes are ``0x`` + 64 lowercase hex digits, addresses ``0x`` + 40 lowercase hex digits
(no EIP-55 mixed case: one value, one spelling), counts are JSON integers, token amounts
decimal strings. Python callers get `bytes` for hashes and EIP-55 checksummed strings for
addresses (what web3 wants).

`ObjectReader` walks a parsed JSON object field by field, so that every refusal names the
dotted path of the field at fault, and unknown fields are refused rather than ignored.
"""

from __future__ import annotations

import re
from decimal import Decimal

from eth_typing import ChecksumAddress
from eth_utils.address import is_checksum_address, is_hex_address, to_checksum_address

from ledger.formats.canonical import MAX_SAFE_INTEGER, parse_decimal
from ledger.formats.errors import FieldError

__all__ = [
    "UINT64_MAX",
    "UINT256_MAX",
    "ObjectReader",
    "address_json",
    "check_safe_uint",
    "hash_json",
    "int_map",
    "parse_address",
    "parse_hash",
    "scalar_map",
    "to_address",
    "to_bytes32",
]

_HASH_RE = re.compile(r"0x[0-9a-f]{64}")
_ADDRESS_RE = re.compile(r"0x[0-9a-f]{40}")
_AMOUNT_RE = re.compile(r"0|[1-9][0-9]*")
UINT64_MAX = 2**64 - 1
UINT256_MAX = 2**256 - 1


def to_bytes32(value: bytes | str, field: str) -> bytes:
    """Accept 32 bytes or a ``0x`` hex string of 32 bytes (any case) from a Python caller."""
    if isinstance(value, str) and re.fullmatch(r"0[xX][0-9a-fA-F]{64}", value):
        return bytes.fromhex(value[2:])
    if isinstance(value, (bytes, bytearray)) and len(value) == 32:
        return bytes(value)
    raise FieldError(field, f"expected 32 bytes or 0x + 64 hex digits, got {value!r}")


def to_address(value: str | bytes, field: str) -> ChecksumAddress:
    """Accept an address (20 bytes, or hex in one case or valid EIP-55); return it checksummed.

    eth-utils' `is_address` accepts mixed case with a wrong checksum; a typo'd address
    must not pass, so mixed case is checked here.
    """
    if isinstance(value, (bytes, bytearray)) and len(value) == 20:
        return to_checksum_address(bytes(value))
    if isinstance(value, str) and is_hex_address(value):
        body = value[2:]
        if body not in (body.lower(), body.upper()) and not is_checksum_address(value):
            raise FieldError(field, f"mixed-case address {value!r} has a wrong EIP-55 checksum")
        return to_checksum_address(value)
    raise FieldError(field, f"expected an Ethereum address, got {value!r}")


def hash_json(value: bytes) -> str:
    """The JSON spelling of a 32-byte hash."""
    return "0x" + value.hex()


def address_json(value: str) -> str:
    """The JSON spelling of an address: lowercase hex."""
    return value.lower()


def parse_hash(value: object, field: str) -> bytes:
    """Read a hash spelled exactly ``0x`` + 64 lowercase hex digits."""
    if not isinstance(value, str) or _HASH_RE.fullmatch(value) is None:
        raise FieldError(field, f"expected 0x + 64 lowercase hex digits, got {value!r}")
    return bytes.fromhex(value[2:])


def parse_address(value: object, field: str) -> ChecksumAddress:
    """Read an address spelled exactly ``0x`` + 40 lowercase hex digits."""
    if not isinstance(value, str) or _ADDRESS_RE.fullmatch(value) is None:
        raise FieldError(field, f"expected an address as 0x + 40 lowercase hex digits, "
                                f"got {value!r}")
    return to_checksum_address(value)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class ObjectReader:
    """Reads the fields of one JSON object; `finish` refuses fields nobody asked for."""

    def __init__(self, value: object, path: str) -> None:
        """Wrap `value`, which must be a JSON object; `path` names it in errors."""
        if not isinstance(value, dict):
            raise FieldError(path, f"expected a JSON object, got {type(value).__name__}")
        self._value: dict[str, object] = value
        self._path = path
        self._seen: set[str] = set()

    def where(self, key: str) -> str:
        """The dotted path of `key` inside this object."""
        return f"{self._path}.{key}" if self._path else key

    def raw(self, key: str) -> object:
        """The value of a required field, unchecked."""
        if key not in self._value:
            raise FieldError(self.where(key), "is missing")
        self._seen.add(key)
        return self._value[key]

    def string(self, key: str, *, pattern: str | None = None, max_length: int = 256,
               allow_empty: bool = False) -> str:
        """A string field, optionally matching a regular expression."""
        value = self.raw(key)
        if not isinstance(value, str):
            raise FieldError(self.where(key), f"expected a string, got {value!r}")
        if not value and not allow_empty:
            raise FieldError(self.where(key), "must not be empty")
        if len(value) > max_length:
            raise FieldError(self.where(key), f"is longer than {max_length} characters")
        if pattern is not None and value and re.fullmatch(pattern, value) is None:
            raise FieldError(self.where(key), f"{value!r} does not match {pattern}")
        return value

    def integer(self, key: str, *, minimum: int = 0, maximum: int = MAX_SAFE_INTEGER) -> int:
        """A JSON integer field within [minimum, maximum]."""
        value = self.raw(key)
        if not _is_int(value):
            raise FieldError(self.where(key), f"expected an integer, got {value!r}")
        assert isinstance(value, int)
        if not minimum <= value <= maximum:
            raise FieldError(self.where(key), f"{value} is outside [{minimum}, {maximum}]")
        return value

    def amount(self, key: str, *, maximum: int = UINT256_MAX) -> int:
        """A non-negative integer written as a decimal string (token amounts, uint256)."""
        value = self.raw(key)
        if not isinstance(value, str) or _AMOUNT_RE.fullmatch(value) is None or len(value) > 78:
            raise FieldError(self.where(key),
                             f"expected a decimal string of a non-negative integer, got {value!r}")
        number = int(value)
        if number > maximum:
            raise FieldError(self.where(key), f"{number} exceeds {maximum}")
        return number

    def boolean(self, key: str) -> bool:
        """A JSON boolean field."""
        value = self.raw(key)
        if not isinstance(value, bool):
            raise FieldError(self.where(key), f"expected true or false, got {value!r}")
        return value

    def decimal(self, key: str, *, minimum: Decimal | None = None,
                maximum: Decimal | None = None) -> Decimal:
        """A canonical decimal string field within the given bounds."""
        number = parse_decimal(self.raw(key), self.where(key))
        if minimum is not None and number < minimum:
            raise FieldError(self.where(key), f"{number} is below {minimum}")
        if maximum is not None and number > maximum:
            raise FieldError(self.where(key), f"{number} is above {maximum}")
        return number

    def hash(self, key: str) -> bytes:
        """A 32-byte hash field."""
        return parse_hash(self.raw(key), self.where(key))

    def address(self, key: str) -> ChecksumAddress:
        """An address field."""
        return parse_address(self.raw(key), self.where(key))

    def obj(self, key: str) -> ObjectReader:
        """A nested object field, as its own reader."""
        return ObjectReader(self.raw(key), self.where(key))

    def array(self, key: str, *, max_items: int = 100_000) -> list[object]:
        """A JSON array field."""
        value = self.raw(key)
        if not isinstance(value, list):
            raise FieldError(self.where(key), f"expected an array, got {type(value).__name__}")
        if len(value) > max_items:
            raise FieldError(self.where(key), f"has {len(value)} items, limit {max_items}")
        return value

    def keys(self) -> list[str]:
        """All keys of the object (for maps with free-form keys); marks them read."""
        self._seen.update(self._value)
        return list(self._value)

    def expect(self, key: str, constant: object) -> None:
        """A field that must hold exactly `constant` (format tags)."""
        value = self.raw(key)
        if value != constant or type(value) is not type(constant):
            raise FieldError(self.where(key), f"expected {constant!r}, got {value!r}")

    def finish(self) -> None:
        """Refuse any field that was not read."""
        extra = sorted(set(self._value) - self._seen)
        if extra:
            raise FieldError(self.where(extra[0]), "is not a known field")


def scalar_map(value: object, path: str, *, max_items: int = 64) -> dict[str, object]:
    """A JSON object whose values are scalars (int, str, bool, null); keys are identifiers."""
    reader = ObjectReader(value, path)
    keys = reader.keys()
    if len(keys) > max_items:
        raise FieldError(path, f"has {len(keys)} entries, limit {max_items}")
    result: dict[str, object] = {}
    for key in keys:
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]{0,63}", key) is None:
            raise FieldError(reader.where(key), "key must be an identifier of <= 64 characters")
        item = reader.raw(key)
        if item is not None and not isinstance(item, (bool, int, str)):
            raise FieldError(reader.where(key), f"expected a scalar (int, string, bool, null), "
                                                f"got {type(item).__name__}")
        result[key] = item
    return result


def int_map(value: object, path: str, *, max_items: int = 64) -> dict[str, int]:
    """A JSON object of identifier -> JSON integer (fixed-point metrics)."""
    result = scalar_map(value, path, max_items=max_items)
    for key, item in result.items():
        if not _is_int(item):
            raise FieldError(f"{path}.{key}", f"expected an integer (fixed-point), got {item!r}")
        if abs(item) > MAX_SAFE_INTEGER:  # type: ignore[arg-type]
            raise FieldError(f"{path}.{key}", f"{item} is outside +/-(2**53 - 1)")
    return result  # type: ignore[return-value]


def check_safe_uint(value: object, field: str) -> int:
    """A Python int in [0, 2**53 - 1] (uint64 on chain, safe integer in JSON)."""
    if not _is_int(value) or not 0 <= value <= MAX_SAFE_INTEGER:  # type: ignore[operator]
        raise FieldError(field, f"expected an integer in [0, 2**53 - 1], got {value!r}")
    return value  # type: ignore[return-value]
