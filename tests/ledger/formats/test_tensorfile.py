"""The canonical safetensors container itself (updates and models build on it)."""

from __future__ import annotations

import numpy as np
import pytest
from safetensors.numpy import load as st_load

from ledger.formats.errors import HeaderJsonError
from ledger.formats.tensorfile import read_tensorfile, write_tensorfile


def test_write_then_read_keeps_order_shapes_and_values() -> None:
    # Prepare
    tensors = [("b", np.arange(6, dtype=np.float32).reshape(2, 3)),
               ("a", np.array(2.5, dtype=np.float32)),
               ("empty", np.zeros((0, 4), dtype=np.float32))]
    # Execute
    data = write_tensorfile(tensors, {"z": "1", "a": "2"})
    parsed = read_tensorfile(data)
    # Assert
    assert dict(parsed.metadata) == {"a": "2", "z": "1"}
    assert list(parsed.entries) == ["b", "a", "empty"]
    assert parsed.entries["a"].begin == 24 and parsed.entries["empty"].end == 28
    assert np.array_equal(parsed.array("b"), tensors[0][1])
    assert parsed.array("empty").shape == (0, 4)
    assert (8 + int.from_bytes(data[:8], "little")) % 8 == 0
    loaded = st_load(data)
    assert np.array_equal(loaded["b"], tensors[0][1]) and loaded["a"] == np.float32(2.5)


def test_big_endian_input_is_written_little_endian() -> None:
    # Prepare
    value = np.array([1.0, -2.0], dtype=">f4")
    # Execute
    data = write_tensorfile([("x", value)], {})
    # Assert
    assert data.endswith(np.array([1.0, -2.0], dtype="<f4").tobytes())


def test_reserved_and_repeated_names_are_refused() -> None:
    # Prepare
    one = np.zeros(1, dtype=np.float32)
    # Execute / Assert
    with pytest.raises(HeaderJsonError, match="'__metadata__' is reserved or repeated"):
        write_tensorfile([("__metadata__", one)], {})
    with pytest.raises(HeaderJsonError, match="'x' is reserved or repeated"):
        write_tensorfile([("x", one), ("x", one)], {})
