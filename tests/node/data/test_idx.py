"""IDX parsing: exact arrays back, and every malformed file named in the error."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from node.data.errors import DatasetFormatError
from node.data.idx import parse_idx, read_idx

Encoder = Callable[[npt.NDArray[np.generic]], bytes]


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.float32])
def test_read_idx_round_trips_plain_and_gzip(
    tmp_path: Path, encode_idx: Encoder, dtype: type[np.generic]
) -> None:
    # Prepare
    array = np.arange(2 * 3 * 4).reshape(2, 3, 4).astype(dtype)
    plain = tmp_path / "a-idx3-ubyte"
    plain.write_bytes(encode_idx(array))
    packed = tmp_path / "a-idx3-ubyte.gz"
    packed.write_bytes(gzip.compress(encode_idx(array)))

    # Execute
    from_plain = read_idx(plain)
    from_gzip = read_idx(packed)

    # Assert
    np.testing.assert_array_equal(from_plain, array)
    np.testing.assert_array_equal(from_gzip, array)
    assert from_plain.dtype == np.dtype(dtype)
    assert from_plain.dtype.byteorder in ("=", "|")


def test_parse_idx_rejects_truncated_payload(encode_idx: Encoder) -> None:
    # Prepare
    data = encode_idx(np.zeros((3, 28, 28), dtype=np.uint8))[:-10]

    # Execute / Assert
    with pytest.raises(DatasetFormatError) as info:
        parse_idx(data, Path("train-images-idx3-ubyte"))
    assert info.value.path == Path("train-images-idx3-ubyte")
    assert "payload is 2342 bytes but header (3, 28, 28) of uint8 needs 2352" in str(info.value)
    assert "truncated download?" in str(info.value)


def test_parse_idx_rejects_trailing_garbage(encode_idx: Encoder) -> None:
    data = encode_idx(np.zeros((2,), dtype=np.uint8)) + b"xx"

    with pytest.raises(DatasetFormatError, match="payload is 4 bytes but header"):
        parse_idx(data, Path("labels"))


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"\x00\x00", "too short for an IDX header (2 bytes)"),
        (b"\x01\x00\x08\x01\x00\x00\x00\x01\x05", "not an IDX file (first two bytes must be zero)"),
        (b"\x00\x00\x07\x01\x00\x00\x00\x01\x05", "unknown IDX type code 0x07"),
        (b"\x00\x00\x08\x00", "IDX header declares zero dimensions"),
        (b"\x00\x00\x08\x03\x00\x00\x00\x01", "truncated IDX header: 3 dimensions declared"),
    ],
)
def test_parse_idx_rejects_bad_headers(data: bytes, problem: str) -> None:
    with pytest.raises(DatasetFormatError) as info:
        parse_idx(data, Path("x.idx"))
    assert str(info.value) == f"x.idx: {problem}"


def test_read_idx_names_a_truncated_gzip_file(tmp_path: Path, encode_idx: Encoder) -> None:
    # Prepare
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    full = gzip.compress(encode_idx(np.zeros((1000,), dtype=np.uint8)))
    path.write_bytes(full[: len(full) // 2])

    # Execute / Assert
    with pytest.raises(DatasetFormatError) as info:
        read_idx(path)
    assert info.value.path == path
    assert "corrupt or truncated gzip data" in str(info.value)
