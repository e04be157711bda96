"""Input generators shared by the rule tests (a plainly named module, not conftest, so
test files can import it whatever other conftest modules pytest has loaded)."""

from __future__ import annotations

import torch


def honest_updates(n: int, d: int, seed: int, spread: float = 0.3) -> torch.Tensor:
    """``n`` float32 updates scattered around one common direction (norm ~ 1)."""
    gen = torch.Generator().manual_seed(seed)
    centre = torch.randn(d, generator=gen) / d**0.5
    noise = torch.randn(n, d, generator=gen) / d**0.5
    return (centre + spread * noise).to(torch.float32)
