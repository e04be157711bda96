"""Shared field spellings: one spelling per hash and address in JSON, lenient Python input."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.formats.errors import FieldError
from ledger.formats.fields import (
    ObjectReader,
    address_json,
    hash_json,
    int_map,
    parse_address,
    parse_hash,
    scalar_map,
    to_address,
    to_bytes32,
)

CHECKSUMMED = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def test_python_inputs_accept_any_valid_spelling() -> None:
    # Execute / Assert
    assert to_bytes32("0x" + "AB" * 32, "h") == bytes.fromhex("ab" * 32)
    assert to_bytes32(b"\x01" * 32, "h") == b"\x01" * 32
    assert to_address(CHECKSUMMED.lower(), "a") == CHECKSUMMED
    assert to_address(bytes.fromhex(CHECKSUMMED[2:]), "a") == CHECKSUMMED
    assert address_json(CHECKSUMMED) == CHECKSUMMED.lower()
    assert hash_json(b"\x00" * 32) == "0x" + "00" * 32


def test_json_inputs_accept_only_the_canonical_spelling() -> None:
    # Execute / Assert
    assert parse_address(CHECKSUMMED.lower(), "a") == CHECKSUMMED
    with pytest.raises(FieldError, match="a: expected an address as 0x \\+ 40 lowercase"):
        parse_address(CHECKSUMMED, "a")
    with pytest.raises(FieldError, match="h: expected 0x \\+ 64 lowercase hex digits"):
        parse_hash("0x" + "AB" * 32, "h")
    with pytest.raises(FieldError, match="h: expected 0x \\+ 64 lowercase hex digits"):
        parse_hash("ab" * 32, "h")


def test_mixed_case_address_with_a_wrong_checksum_is_refused() -> None:
    # Prepare
    wrong = CHECKSUMMED[:3] + CHECKSUMMED[3].lower() + CHECKSUMMED[4:]  # F -> f
    # Execute / Assert
    with pytest.raises(FieldError, match="participant: mixed-case address .* wrong EIP-55"):
        to_address(wrong, "participant")
    assert to_address(CHECKSUMMED.upper().replace("0X", "0x"), "participant") == CHECKSUMMED


def test_object_reader_tracks_paths_and_unknown_fields() -> None:
    # Prepare
    reader = ObjectReader({"a": {"b": "1.50", "c": True, "x": 0}, "z": 1}, "task")
    inner = reader.obj("a")
    # Execute / Assert
    with pytest.raises(FieldError, match="task.a.b: expected a canonical decimal string"):
        inner.decimal("b")
    assert inner.boolean("c") is True
    with pytest.raises(FieldError, match="task.a.x: is not a known field"):
        inner.finish()
    with pytest.raises(FieldError, match="task.z: is not a known field"):
        reader.finish()
    with pytest.raises(FieldError, match="task.q: is missing"):
        reader.raw("q")


def test_reader_bounds() -> None:
    # Prepare
    reader = ObjectReader({"n": 5, "d": "2.5", "s": "x" * 10, "a": "12"}, "")
    # Execute / Assert
    with pytest.raises(FieldError, match="n: 5 is outside \\[6, 9\\]"):
        reader.integer("n", minimum=6, maximum=9)
    with pytest.raises(FieldError, match="d: 2.5 is above 2"):
        reader.decimal("d", maximum=Decimal(2))
    with pytest.raises(FieldError, match="s: is longer than 5 characters"):
        reader.string("s", max_length=5)
    with pytest.raises(FieldError, match="a: 12 exceeds 10"):
        reader.amount("a", maximum=10)


def test_maps_of_scalars_and_integers() -> None:
    # Execute / Assert
    assert scalar_map({"f": 1, "name": "x", "on": True, "none": None}, "p") == {
        "f": 1, "name": "x", "on": True, "none": None}
    with pytest.raises(FieldError, match="p.f: expected a scalar"):
        scalar_map({"f": [1]}, "p")
    with pytest.raises(FieldError, match="m.acc: expected an integer \\(fixed-point\\)"):
        int_map({"acc": True}, "m")
    with pytest.raises(FieldError, match="m: has 2 entries, limit 1"):
        int_map({"a": 1, "b": 2}, "m", max_items=1)
