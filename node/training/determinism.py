"""A scope in which torch picks deterministic kernels and a private, seeded RNG.

Re-running a participant's training must reproduce its update (bitwise on CPU), so
training runs with deterministic algorithms, cuDNN autotuning off and torch's
global RNG forked and seeded; the caller's global settings are restored on exit so
importing code is not changed behind its back. On CUDA some kernels have no
deterministic version; there torch only warns (`warn_only`), because a GPU may
speed up a participant's training but is never part of the audited result.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import torch

CUBLAS_WORKSPACE_ENV = "CUBLAS_WORKSPACE_CONFIG"
CUBLAS_WORKSPACE_SETTING = ":4096:8"


@contextmanager
def deterministic_scope(seed: int, device: torch.device) -> Iterator[None]:
    """Run the body with deterministic kernels and torch RNGs seeded from `seed`."""
    previous = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
    )
    cuda = device.type == "cuda"
    if cuda:
        # cuBLAS reads this when it creates its handle; documented requirement for
        # deterministic matrix products on CUDA >= 10.2.
        os.environ.setdefault(CUBLAS_WORKSPACE_ENV, CUBLAS_WORKSPACE_SETTING)
    rng_devices = [device.index or 0] if cuda else []
    with torch.random.fork_rng(devices=rng_devices):
        torch.manual_seed(seed)
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
        try:
            yield
        finally:
            torch.use_deterministic_algorithms(previous[0], warn_only=previous[1])
            torch.backends.cudnn.deterministic = previous[2]
            torch.backends.cudnn.benchmark = previous[3]
