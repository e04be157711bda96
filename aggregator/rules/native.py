"""Loader for the compiled exact kernels (``native_kernels.c``), with an explicit switch.

The portable torch code in :mod:`aggregator.rules.exact` is correct everywhere but
spends most of its time materialising int64 temporaries and sorting whole columns.
The C kernels fuse quantisation, range checks, sorting networks and integer sums over
column blocks in cache and use every thread given to torch; they return the same
integers (tests compare both byte for byte).

The kernel is compiled on first use with the system C compiler (``cc``, ``-O3
-march=native -fopenmp``) into a cache directory keyed by the source hash
(``$FEDLEDGER_NATIVE_CACHE``, default ``~/.cache/fedledger/native``). The switch
``FEDLEDGER_NATIVE`` picks the backend: ``auto`` (default: compiled when it builds,
else portable, with the reason in :func:`status`), ``1`` (compiled or a clear error)
or ``0`` (portable only).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import torch

from aggregator.fixedpoint import FixedPointGrid, FixedPointRangeError
from ledger.errors import ConfigError

_SOURCE = Path(__file__).with_name("native_kernels.c")
# -ffp-contract=off and no -ffast-math keep IEEE results; -fno-trapping-math only lets
# the compiler turn float compares into vector selects.
_FLAGS = [
    "-O3",
    "-march=native",
    "-fopenmp",
    "-fPIC",
    "-shared",
    "-ffp-contract=off",
    "-fno-trapping-math",
    "-std=c11",
]
MAX_ROWS = 4096

_lib: ctypes.CDLL | None = None
_status: str | None = None


class NativeKernelError(ConfigError):
    """The compiled kernels were required (``FEDLEDGER_NATIVE=1``) but cannot be built."""


def _mode() -> str:
    mode = os.environ.get("FEDLEDGER_NATIVE", "auto").strip().lower()
    if mode not in ("auto", "0", "1"):
        raise ConfigError(f"FEDLEDGER_NATIVE must be auto, 0 or 1, got {mode!r}")
    return mode


def _cache_dir() -> Path:
    root = os.environ.get("FEDLEDGER_NATIVE_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "fedledger" / "native"


def _build() -> ctypes.CDLL:
    compiler = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    if compiler is None:
        raise NativeKernelError("no C compiler found (set CC or install gcc)")
    source = _SOURCE.read_bytes()
    key = hashlib.sha256(source + " ".join(_FLAGS).encode() + compiler.encode()).hexdigest()[:16]
    target = _cache_dir() / f"fedledger_kernels_{key}.so"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
            built = Path(tmp) / target.name
            result = subprocess.run(
                [compiler, *_FLAGS, str(_SOURCE), "-o", str(built), "-lm"],
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise NativeKernelError(f"compiling {_SOURCE.name} failed: {result.stderr[-2000:]}")
            os.replace(built, target)  # atomic: concurrent builders never see half a file
    lib = ctypes.CDLL(str(target))
    i64, f32p, i64p = ctypes.c_int64, ctypes.POINTER(ctypes.c_float), ctypes.POINTER(ctypes.c_int64)
    c_int, c_float = ctypes.c_int, ctypes.c_float
    lib.fl_weighted_mean.argtypes = [
        f32p,
        i64,
        i64p,
        i64,
        i64,
        i64p,
        i64,
        c_int,
        c_float,
        f32p,
        c_int,
        i64p,
    ]
    lib.fl_median.argtypes = [f32p, i64, i64p, i64, i64, c_int, c_float, f32p, c_int, i64p]
    for name in ("fl_trimmed_mean", "fl_closest_to_median_mean"):
        getattr(lib, name).argtypes = [
            f32p,
            i64,
            i64p,
            i64,
            i64,
            i64,
            c_int,
            c_float,
            f32p,
            c_int,
            i64p,
        ]
    for name in ("fl_weighted_mean", "fl_median", "fl_trimmed_mean", "fl_closest_to_median_mean"):
        getattr(lib, name).restype = c_int
    lib.fl_gram_small.argtypes = [f32p, i64, i64, i64, ctypes.POINTER(ctypes.c_double), c_int]
    lib.fl_gram_small.restype = None
    return lib


def available() -> bool:
    """Whether the compiled kernels serve this process (builds them on first call)."""
    global _lib, _status
    mode = _mode()
    if mode == "0":
        return False
    if _lib is None and _status is None:
        try:
            _lib = _build()
            _status = "compiled"
        except (NativeKernelError, OSError) as err:
            _status = f"unavailable: {err}"
    if _lib is None and mode == "1":
        raise NativeKernelError(f"FEDLEDGER_NATIVE=1 but the kernels are {_status}")
    return _lib is not None


def status() -> str:
    """Which backend runs and why (``compiled``, ``disabled ...`` or ``unavailable: ...``)."""
    if not available() and _mode() == "0":
        return "disabled by FEDLEDGER_NATIVE=0"
    return _status or "not built"


def _f32(t: torch.Tensor) -> ctypes._Pointer[ctypes.c_float]:
    return ctypes.cast(t.data_ptr(), ctypes.POINTER(ctypes.c_float))


def _i64(t: torch.Tensor) -> ctypes._Pointer[ctypes.c_int64]:
    return ctypes.cast(t.data_ptr(), ctypes.POINTER(ctypes.c_int64))


def _call(updates: torch.Tensor, rows: Sequence[int], fn: str, *middle: object) -> torch.Tensor:
    assert _lib is not None
    if not updates.is_contiguous() or updates.dtype != torch.float32:
        raise ValueError("native kernels need a contiguous float32 [N, d] tensor")
    if len(rows) > MAX_ROWS:
        raise ValueError(f"native kernels take at most {MAX_ROWS} rows")
    d = int(updates.shape[1])
    index = torch.tensor(list(rows), dtype=torch.int64)
    out = torch.empty(d, dtype=torch.float32)
    bad = torch.full((1,), -1, dtype=torch.int64)
    grid: FixedPointGrid = middle[-1]  # type: ignore[assignment]
    args = [
        _f32(updates), d, _i64(index), len(rows), d,
        *middle[:-1],
        grid.frac_bits, ctypes.c_float(grid.max_abs), _f32(out), torch.get_num_threads(), _i64(bad),
    ]  # fmt: skip
    if getattr(_lib, fn)(*args):
        row = rows[int(bad[0])]
        problem = grid.find_invalid_rows(updates[row : row + 1]).get(0, "out of range")
        raise FixedPointRangeError(row, problem)
    return out


def weighted_mean(
    updates: torch.Tensor,
    rows: Sequence[int],
    weights: Sequence[int],
    denominator: int,
    grid: FixedPointGrid,
) -> torch.Tensor:
    """Compiled twin of :func:`aggregator.rules.exact.weighted_mean` (budget pre-checked)."""
    w = torch.tensor(list(weights), dtype=torch.int64)
    return _call(updates, rows, "fl_weighted_mean", _i64(w), denominator, grid)


def trimmed_sum(
    updates: torch.Tensor, rows: Sequence[int], trim: int, grid: FixedPointGrid, *, median: bool
) -> torch.Tensor:
    """Compiled median (``median=True``) or ``trim``-trimmed mean over ``rows``."""
    if median:
        return _call(updates, rows, "fl_median", grid)
    return _call(updates, rows, "fl_trimmed_mean", trim, grid)


def closest_to_median_mean(
    updates: torch.Tensor, rows: Sequence[int], beta: int, grid: FixedPointGrid
) -> torch.Tensor:
    """Compiled twin of :func:`aggregator.rules.exact.closest_to_median_mean`."""
    return _call(updates, rows, "fl_closest_to_median_mean", beta, grid)


#: Up to this many rows the compiled Gram kernel beats the BLAS product here.
GRAM_MAX_ROWS = 32


def gram_small(updates: torch.Tensor) -> torch.Tensor:
    """Float64 Gram matrix of few rows (float32 products in L1-sized column blocks)."""
    assert _lib is not None
    n, d = updates.shape
    out = torch.zeros((n, n), dtype=torch.float64)
    _lib.fl_gram_small(
        _f32(updates),
        d,
        n,
        d,
        ctypes.cast(out.data_ptr(), ctypes.POINTER(ctypes.c_double)),
        torch.get_num_threads(),
    )
    return out + out.triu(1).T
