"""Client-side DP: clip the local update to the round's norm, and add local noise if asked.

With ``clip_side == "client"`` a participant clips its own delta to the round's clipping
norm ``C`` before packaging it (the aggregator and the auditor refuse an update above
``C``: `ledger.privacy.mechanism`). With ``noise_side == "client"`` (local DP, like
Flower's ``LocalDpMod``) it also adds ``N(0, (z * C)^2)`` to every coordinate, so the
published update is itself (epsilon, delta)-DP, whoever reads it.

Local noise must be unpredictable to everyone else, so its seed comes from the operating
system's CSPRNG (`secrets`), never from anything public such as the round number.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

import torch

from ledger.formats.layout import ParameterLayout
from ledger.privacy.clipping import clip_vector
from ledger.privacy.params import DpParams

__all__ = ["ClientDpResult", "privatize_update"]


@dataclass(frozen=True)
class ClientDpResult:
    """The delta to publish, and what was done to it."""

    delta: dict[str, torch.Tensor]
    clipped: bool
    noise_std: float


def privatize_update(delta: Mapping[str, torch.Tensor], layout: ParameterLayout,
                     params: DpParams, clipping_norm: Decimal,
                     generator: torch.Generator | None = None) -> ClientDpResult:
    """Apply the client-side part of the task's DP mechanism to a float32 delta.

    `clipping_norm` is the round's ``C`` (`ledger.privacy.mechanism.clipping_norm_for`).
    `generator` is for tests only; by default local noise is seeded from `secrets`.
    Server-side clipping and noise leave the delta unchanged.
    """
    vector = layout.flatten(dict(delta)).to(torch.float32)
    clipped = False
    if params.clip_side == "client":
        vector, clipped = clip_vector(vector, clipping_norm)
    std = 0.0
    if params.noise_side == "client":
        std = params.update_noise_multiplier() * float(clipping_norm)
        if generator is None:
            generator = torch.Generator().manual_seed(secrets.randbits(63))
        noise = torch.normal(0.0, std, size=vector.shape, generator=generator)
        vector = (vector + noise.to(torch.float32)).contiguous()
    out = {name: t.clone() for name, t in layout.unflatten(vector).items()}
    return ClientDpResult(out, clipped, std)
