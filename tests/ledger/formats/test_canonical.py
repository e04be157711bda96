"""Canonical JSON: exact bytes, and typed refusals of hostile documents."""

from __future__ import annotations

from decimal import Decimal

import pytest
from eth_utils.crypto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.formats.canonical import (
    MAX_SAFE_INTEGER,
    canonical_json,
    content_hash,
    format_decimal,
    from_fixed,
    json_nesting_depth,
    keccak_hex,
    parse_canonical_json,
    parse_decimal,
    parse_json,
    to_fixed,
)
from ledger.formats.errors import (
    FieldError,
    JsonSyntaxError,
    JsonTooDeepError,
    JsonTooLargeError,
    JsonValueError,
    NonCanonicalJsonError,
)


def test_canonical_json_sorts_keys_and_drops_whitespace() -> None:
    # Prepare
    value = {"b": [1, True, None], "a": {"z": "x", "é": "ü"}, "A": -3}
    # Execute
    encoded = canonical_json(value)
    # Assert
    assert encoded == '{"A":-3,"a":{"z":"x","é":"ü"},"b":[1,true,null]}'.encode()


def test_canonical_json_escapes_only_quote_backslash_and_controls() -> None:
    # Prepare
    value = 'q"b\\n\nt\t\x01\x7f\u2028😀'
    # Execute
    encoded = canonical_json(value)
    # Assert
    assert encoded == '"q\\"b\\\\n\\nt\\t\\u0001\x7f\u2028😀"'.encode()


def test_keys_sort_by_code_point_not_utf16() -> None:
    # Prepare: U+FF61 sorts before U+1F600 by code point, after it in UTF-16 units
    value = {"😀": 1, "｡": 2}
    # Execute / Assert
    assert canonical_json(value) == '{"｡":2,"😀":1}'.encode()


def test_hash_helpers_are_keccak256() -> None:
    # Prepare
    data = b"fedledger"
    # Execute / Assert
    assert content_hash(data) == keccak(data)
    assert keccak_hex(data) == "0x" + keccak(data).hex()
    assert keccak_hex(b"") == "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (1.5, "floats are not allowed"),
        ({"a": [0.0]}, r"\$\.a\[0\]: floats are not allowed"),
        (2**53, "outside"),
        (-(2**53), "outside"),
        ({1: "x"}, "object key 1 is not a string"),
        (b"bytes", "bytes cannot be encoded"),
        ("\ud800", "lone surrogate"),
    ],
)
def test_canonical_json_refuses_non_canonical_values(value: object, message: str) -> None:
    # Execute / Assert
    with pytest.raises(JsonValueError, match=message):
        canonical_json(value)


def test_canonical_json_accepts_the_safe_integer_edges() -> None:
    # Execute / Assert
    assert canonical_json([MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER]) == (
        b"[9007199254740991,-9007199254740991]"
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=60, deadline=None)
@given(value=json_values)
def test_round_trip_is_identity_on_bytes(value: object) -> None:
    # Execute
    encoded = canonical_json(value)
    decoded = parse_canonical_json(encoded)
    # Assert
    assert canonical_json(decoded) == encoded
    assert decoded == value


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        (b'{"a":1.0}', JsonValueError, "floats are not allowed"),
        (b'{"a":1e3}', JsonValueError, "floats are not allowed"),
        (b'{"a":NaN}', JsonValueError, "NaN is not allowed"),
        (b"[Infinity]", JsonValueError, "Infinity is not allowed"),
        (b'{"a":1,"a":2}', JsonValueError, "duplicate object key 'a'"),
        (b"[9007199254740992]", JsonValueError, "outside"),
        (b'{"a":', JsonSyntaxError, "invalid JSON"),
        (b"\xff\xfe", JsonSyntaxError, "not UTF-8"),
        ("\ufeff{}".encode(), JsonSyntaxError, "byte-order mark"),
        (b"[" * 40 + b"]" * 40, JsonTooDeepError, "nesting deeper than 32"),
        (b"[" * 100_000 + b"]" * 100_000, JsonTooDeepError, "nesting deeper than 32"),
    ],
)
def test_parse_json_refuses_hostile_documents(data: bytes, error: type[Exception],
                                              message: str) -> None:
    # Execute / Assert
    with pytest.raises(error, match=message):
        parse_json(data)


def test_parse_json_enforces_the_size_limit() -> None:
    # Prepare
    data = b'"' + b"x" * 100 + b'"'
    # Execute / Assert
    with pytest.raises(JsonTooLargeError, match="document is 102 bytes, limit is 101"):
        parse_json(data, max_bytes=101)
    assert parse_json(data, max_bytes=102) == "x" * 100


def test_depth_limit_counts_containers() -> None:
    # Prepare
    at_limit = b"[" * 32 + b"]" * 32
    # Execute / Assert
    assert parse_json(at_limit) is not None
    assert parse_json(b'["[[[[", {"a": "]]]{{{"}]', max_depth=2) == ["[[[[", {"a": "]]]{{{"}]
    with pytest.raises(JsonTooDeepError, match="nesting deeper than 2"):
        parse_json(b"[[[]]]", max_depth=2)
    with pytest.raises(JsonTooDeepError, match="nesting deeper than 32"):
        canonical_json(json_loads_deep(33))


def json_loads_deep(levels: int) -> list[object]:
    value: list[object] = []
    for _ in range(levels - 1):
        value = [value]
    return value


def test_nesting_depth_ignores_brackets_inside_strings() -> None:
    # Prepare: an escaped quote inside a string must not end the string
    data = b'{"k":"[\\\"[[{"}'
    # Execute / Assert
    assert json_nesting_depth(data) == 1
    assert json_nesting_depth(b"[[],[[{}]]]") == 4
    assert json_nesting_depth(b"7") == 0


def test_deep_nesting_is_refused_under_a_raised_recursion_limit() -> None:
    # Prepare: eth-account (via py_ecc) raises the recursion limit to 100000 at import;
    # json.loads would then recurse until the C stack overflows (a segfault, not an error)
    import sys

    import eth_account  # noqa: F401

    assert sys.getrecursionlimit() >= 100_000
    data = b"[" * 200_000 + b"]" * 200_000
    # Execute / Assert
    with pytest.raises(JsonTooDeepError, match="nesting deeper than 32"):
        parse_json(data)


@pytest.mark.parametrize(
    "data",
    [b'{"b":1,"a":2}', b'{"a": 1}', b'{"a":1}\n', b'"\\u00e9"', b'"\\/"', b'{"a":"\\u001F"}'],
)
def test_parse_canonical_refuses_valid_but_non_canonical_bytes(data: bytes) -> None:
    # Prepare: each parses as JSON
    parse_json(data)
    # Execute / Assert
    with pytest.raises(NonCanonicalJsonError, match="not canonical"):
        parse_canonical_json(data)


@pytest.mark.parametrize(
    ("value", "text"),
    [(Decimal("0.050"), "0.05"), (Decimal(10), "10"), (Decimal("1E+2"), "100"),
     (Decimal("-0.0"), "0"), (Decimal("-2.50"), "-2.5"), (3, "3"), (Decimal("1E-8"), "0.00000001")],
)
def test_format_decimal_is_canonical(value: Decimal, text: str) -> None:
    # Execute / Assert
    assert format_decimal(value) == text
    assert parse_decimal(text, "x") == Decimal(value)


@pytest.mark.parametrize("text", ["0.50", "01", "-0", "1e3", ".5", "5.", "+1", " 1", "NaN", 5])
def test_parse_decimal_refuses_non_canonical_spellings(text: object) -> None:
    # Execute / Assert
    with pytest.raises(FieldError, match="training.lr: expected a canonical decimal string"):
        parse_decimal(text, "training.lr")


def test_format_decimal_refuses_floats_and_infinity() -> None:
    # Execute / Assert
    with pytest.raises(JsonValueError, match="expected Decimal or int, got float"):
        format_decimal(0.1)  # type: ignore[arg-type]
    with pytest.raises(JsonValueError, match="not finite"):
        format_decimal(Decimal("Infinity"))


@pytest.mark.parametrize(
    ("value", "decimals", "units"),
    [(0.9123, 6, 912300), (0.5, 0, 0), (1.5, 0, 2), (2.5, 0, 2), (-1.25, 1, -12),
     # 2.5e-6 is stored as 2.50000000000000015e-6: not a tie, so it rounds up
     (2.5e-6, 6, 3), (0.1, 6, 100000), (7, 3, 7000)],
)
def test_to_fixed_rounds_the_exact_value_half_to_even(value: float, decimals: int,
                                                      units: int) -> None:
    # Execute / Assert
    assert to_fixed(value, decimals) == units


def test_to_fixed_refuses_nan_and_from_fixed_inverts() -> None:
    # Execute / Assert
    with pytest.raises(JsonValueError, match="non-finite"):
        to_fixed(float("nan"), 6)
    with pytest.raises(JsonValueError, match="non-finite"):
        to_fixed(float("inf"), 6)
    assert from_fixed(912300, 6) == 0.9123
