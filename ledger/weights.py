"""The hash that pins a task's initial weights.

A model artifact's bytes name the task hash in their metadata, and the task spec pins
the initial model, so the task cannot pin the artifact's hash (each would contain the
other). It pins the weights instead: keccak256 of the parameters as little-endian
float32, concatenated in the task's layout order. Round 0's model artifact is accepted
only if its weights hash to this value.
"""

from __future__ import annotations

import torch
from eth_utils import keccak


def weights_hash(vector: torch.Tensor) -> bytes:
    """keccak256 of a flat parameter vector's little-endian float32 bytes."""
    flat = vector.detach().to(torch.float32).contiguous().reshape(-1).cpu()
    return keccak(flat.numpy().astype("<f4", copy=False).tobytes())
