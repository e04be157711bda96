"""Reader for the IDX format of MNIST and Fashion-MNIST, written against the format itself.

torchvision is not a dependency, so the four standard files are parsed here with
numpy. The header is two zero bytes, a type code, the number of dimensions, then
one big-endian uint32 per dimension; the payload is the array in C order, big-endian.
Files may be gzip-compressed (detected by their magic bytes, not their name). Any
mismatch between header and payload is a `DatasetFormatError` naming the file: a
truncated download must never become a silently shorter dataset.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np
import numpy.typing as npt

from node.data.errors import DatasetFormatError

GZIP_MAGIC = b"\x1f\x8b"

# IDX type code -> big-endian numpy dtype (from the format's published description).
IDX_DTYPES: dict[int, np.dtype[np.generic]] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_file_bytes(path: Path) -> bytes:
    """Return the file's content, gunzipped when it starts with the gzip magic."""
    raw = path.read_bytes()
    if not raw.startswith(GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as exc:
        raise DatasetFormatError(path, f"corrupt or truncated gzip data ({exc})") from exc


def parse_idx(data: bytes, path: Path) -> npt.NDArray[np.generic]:
    """Decode IDX bytes into a native-endian numpy array.

    Parameters
    ----------
    data:
        The (already decompressed) file content.
    path:
        The file the bytes came from, named in any error.
    """
    if len(data) < 4:
        raise DatasetFormatError(path, f"too short for an IDX header ({len(data)} bytes)")
    if data[0] != 0 or data[1] != 0:
        raise DatasetFormatError(path, "not an IDX file (first two bytes must be zero)")
    type_code, ndim = data[2], data[3]
    if type_code not in IDX_DTYPES:
        raise DatasetFormatError(path, f"unknown IDX type code 0x{type_code:02x}")
    if ndim == 0:
        raise DatasetFormatError(path, "IDX header declares zero dimensions")
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise DatasetFormatError(path, f"truncated IDX header: {ndim} dimensions declared")
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[type_code]
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    actual = len(data) - header_len
    if actual != expected:
        raise DatasetFormatError(
            path,
            f"payload is {actual} bytes but header {dims} of {dtype.name} needs {expected}"
            + (" (truncated download?)" if actual < expected else ""),
        )
    array = np.frombuffer(data, dtype=dtype, offset=header_len).reshape(dims)
    return array.astype(dtype.newbyteorder("="))


def read_idx(path: Path) -> npt.NDArray[np.generic]:
    """Read one IDX file (gzip or plain) from disk."""
    return parse_idx(read_file_bytes(path), path)
