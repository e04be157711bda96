"""Reproducible Gaussian noise for server-side DP, from a secret per-round seed.

Server-side noise must be secret from the public (whoever can regenerate it can subtract
it from the published model) yet reproducible by auditors (who must re-derive the model
bit for bit). The aggregator therefore draws a fresh 32-byte seed each round, seals it to
the reader set (`ledger.privacy.envelope`, kind ``"noise_seed"``) and publishes only the
envelope; readers regenerate exactly the same noise from it.

Streams are separated by label (``keccak(seed || label)`` seeds numpy's PCG64) and drawn
with numpy's `standard_normal` in float64, whose output for a given seed is fixed by
numpy's stream-compatibility policy, then scaled and rounded once to float32.
"""

from __future__ import annotations

import numpy as np
import torch
from eth_utils.crypto import keccak

__all__ = ["COUNT_STREAM", "MODEL_STREAM", "gaussian_scalar", "gaussian_vector"]

MODEL_STREAM = b"fedledger/dp/model-noise"
COUNT_STREAM = b"fedledger/dp/count-noise"


def _generator(seed: bytes, label: bytes) -> np.random.Generator:
    if len(seed) != 32:
        raise ValueError(f"a noise seed is 32 bytes, got {len(seed)}")
    return np.random.Generator(np.random.PCG64(int.from_bytes(keccak(seed + label), "big")))


def gaussian_vector(seed: bytes, size: int, std: float, label: bytes = MODEL_STREAM) -> torch.Tensor:
    """``size`` draws of ``N(0, std**2)`` as a float32 tensor (zeros when ``std == 0``)."""
    if std < 0:
        raise ValueError(f"noise standard deviation must be >= 0, got {std}")
    draws = _generator(seed, label).standard_normal(size, dtype=np.float64) * std
    return torch.from_numpy(draws.astype(np.float32))


def gaussian_scalar(seed: bytes, std: float, label: bytes = COUNT_STREAM) -> float:
    """One draw of ``N(0, std**2)`` in float64."""
    if std < 0:
        raise ValueError(f"noise standard deviation must be >= 0, got {std}")
    return float(_generator(seed, label).standard_normal(dtype=np.float64)) * std
